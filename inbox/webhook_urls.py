from django.conf import settings
from django.urls import path

from inbox import webhooks

# Public provider-facing URLs (no session; a per-channel token and the signature authenticate).
app_name = "webhooks"
urlpatterns = [
    # Inbound messages, status callbacks and RCS events of one channel: paste this URL into Tata's portal.
    path("tata/<str:token>/", webhooks.tata_webhook, name="tata"),
]

if settings.BENCH_ENDPOINTS:
    urlpatterns.append(path("bench-bare/", webhooks.bench_bare_insert, name="bench-bare"))
