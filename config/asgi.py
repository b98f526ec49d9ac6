"""HTTP and websockets in one ASGI app, served by daphne: everything under `make run` (daphne's runserver),
only the websockets (/ws/) in production, where HTTP goes to gunicorn (config/wsgi.py)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.routing import provider_websocket_urlpatterns, websocket_urlpatterns  # noqa: E402
from core.daphne_sends import cheaper_frames  # noqa: E402
from core.request_limits import answer_over_long_lines, bound_daphne_request_bodies  # noqa: E402
from core.runtime import start_embedded_runtime  # noqa: E402
from core.startup import freeze_startup_objects  # noqa: E402

browser_sockets = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
provider_sockets = URLRouter(provider_websocket_urlpatterns)
PROVIDER_SOCKET_PREFIX = "/ws/telephony/stream/"


async def websockets(scope, receive, send):
    """Browsers (a session, an allowed Origin) and providers (Smartflo's voice streams: no session, no
    Origin; a token in the path) on separate routers, so neither rule weakens the other."""
    sockets = provider_sockets if scope.get("path", "").startswith(PROVIDER_SOCKET_PREFIX) else browser_sockets
    return await sockets(scope, receive, send)


application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websockets})

# daphne (runserver too) answers over-long request lines (414) instead of dropping them, and refuses
# oversize bodies before buffering them; other servers ignore both.
answer_over_long_lines()
bound_daphne_request_bodies()
cheaper_frames()  # daphne's WebSocket frames at less CPU each (voice streams: core.daphne_sends)
freeze_startup_objects()
start_embedded_runtime()  # the periodic jobs, where no Celery beat runs them
