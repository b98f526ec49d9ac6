from django.urls import path

from inbox import attachment_views, views

app_name = "inbox"
urlpatterns = [
    path("", views.index, name="index"),
    path("list/", views.conversation_list, name="list"),
    path("list/more/", views.conversation_rows, name="rows"),
    path("counts/", views.counts, name="counts"),
    path("bulk/", views.bulk, name="bulk"),
    path("catch-up/", views.catch_up, name="catch_up"),
    path("messages/<int:pk>/", views.message_fragment, name="message"),
    path("attachments/<int:pk>/", attachment_views.attachment_file, name="attachment"),
    path("attachments/<int:pk>/retry/", attachment_views.retry_attachment, name="attachment_retry"),
    path("<int:pk>/", views.conversation_page, name="conversation"),
    path("<int:pk>/thread/", views.thread, name="thread"),
    path("<int:pk>/older/", views.older_messages, name="older"),
    path("<int:pk>/header/", views.header, name="header"),
    path("<int:pk>/panel/", views.panel, name="panel"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("<int:pk>/team/", views.assign_team, name="team"),
    path("<int:pk>/status/", views.set_status, name="status"),
    path("<int:pk>/labels/<int:label_pk>/", views.toggle_label, name="label"),
    path("<int:pk>/notes/", views.add_note, name="note"),
    path("<int:pk>/read/", views.mark_read, name="read"),
]
