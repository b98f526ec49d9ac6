from django.urls import path

from contacts import views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list, name="list"),
    path("new/", views.contact_create, name="create"),
    path("export.csv", views.contact_export, name="export"),
    path("import/", views.import_upload, name="import"),
    path("import/<int:pk>/", views.import_mapping, name="import_mapping"),
    path("import/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path("<int:pk>/edit/", views.contact_edit, name="edit"),
    path("<int:pk>/delete/", views.contact_delete, name="delete"),
    path("<int:pk>/notes/", views.note_add, name="note_add"),
    path("<int:pk>/labels/", views.label_toggle, name="label_toggle"),
    path("<int:pk>/merge/", views.contact_merge, name="merge"),
]
