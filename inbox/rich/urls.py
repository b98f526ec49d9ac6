from django.urls import path

from inbox.rich import views

app_name = "rich"
urlpatterns = [
    path("conversations/<int:pk>/send/", views.send, name="send"),
    path("check/", views.check, name="check"),
    path("snippets/", views.snippets, name="snippets"),
    path("snippets/<int:pk>/delete/", views.snippet_delete, name="snippet_delete"),
    path("media/", views.media_upload, name="media_upload"),
]

# Public (no session): mounted at /rcs-cards/ by config/urls.py.
media_urlpatterns = [path("<str:token>", views.media_file, name="media_file")]
