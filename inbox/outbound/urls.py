from django.urls import path

from inbox.outbound import views

app_name = "outbound"
urlpatterns = [
    path("conversations/<int:pk>/composer/", views.composer, name="composer"),
    path("conversations/<int:pk>/send/", views.send, name="send"),
    path("messages/<int:pk>/retry/", views.retry, name="retry"),
    path("canned/search/", views.canned_search, name="canned_search"),
    path("canned/", views.canned_list, name="canned"),
    path("template-fields/", views.template_fields, name="template_fields"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/sync/<int:channel_pk>/", views.template_sync, name="template_sync"),
    path("templates/<int:pk>/insights/", views.template_insights, name="template_insights"),
    path("contacts/<int:contact_pk>/start/", views.start_conversation, name="start"),
    path("contacts/<int:contact_pk>/opt/", views.contact_opt, name="contact_opt"),
    path("opt-in-out/", views.bulk_opt, name="bulk_opt"),
]
