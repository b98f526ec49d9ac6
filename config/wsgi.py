"""HTTP in production: pages, the API, webhooks, dialplan answers, status URLs, on gunicorn's WSGI workers
(gunicorn.conf.py). Websockets stay on daphne (config/asgi.py); the front door routes /ws/ there."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from core.startup import freeze_startup_objects  # noqa: E402

# gunicorn preloads this module in its master: frozen before the fork, the startup objects are shared
# by every worker and never walked by their garbage collectors.
freeze_startup_objects()
