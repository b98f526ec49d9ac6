from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", views.revoke_api_key, name="revoke_api_key"),
]
