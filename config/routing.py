from django.urls import path

from core.consumers import EventsConsumer
from telephony.streaming import VoiceStream

websocket_urlpatterns = [
    path("ws/events/", EventsConsumer.as_asgi()),
]

# Smartflo's voice streams: not a browser, so no session and no Origin header; the token in the path
# authenticates (as the Status URL's does).
provider_websocket_urlpatterns = [
    path("ws/telephony/stream/<str:token>/", VoiceStream.asgi),
]
