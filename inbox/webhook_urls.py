from django.urls import path  # noqa: F401

# Public provider-facing URLs (no session; a per-channel token and the signature authenticate).
app_name = "webhooks"
urlpatterns = []
