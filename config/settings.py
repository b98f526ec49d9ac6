"""Sampark settings: one file, driven by the environment.

With nothing set, the app runs on embedded defaults (SQLite, in-memory channel layer, Celery tasks run
in-process, sandbox provider on). DATABASE_URL / REDIS_URL switch to the production shape.
A misconfiguration fails here, at start-up, not at the first webhook.
"""

import warnings
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
# The development keys below are published in this repository: fine on a laptop, refused with DEBUG off.
_DEV_SECRET_KEY = "insecure-dev-key-change-me"
SECRET_KEY = env("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY.strip():
    raise ImproperlyConfigured("SECRET_KEY is empty; set a long random value (it is required when DEBUG is off).")
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is the published development key; set your own when DEBUG is off.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Shown in admin as the base of the URLs to paste into the Tata / Smartflo portals. Unset, it is this
# machine on the port `runserver` (`make run PORT=…`) starts on (core.runtime.serve_on).
PUBLIC_BASE_URL_CONFIGURED = bool(env("PUBLIC_BASE_URL", default=""))
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Fernet key for secrets stored in the database (tokens, passwords, API keys).
_DEV_ENCRYPTION_KEY = "c2FtcGFyay1kZXYta2V5LW5vdC1mb3ItcHJvZHVjdGk="
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default=_DEV_ENCRYPTION_KEY if DEBUG else None)
if not FIELD_ENCRYPTION_KEY:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set when DEBUG is off (a Fernet key).")
if not DEBUG and FIELD_ENCRYPTION_KEY == _DEV_ENCRYPTION_KEY:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is the published development key; make your own when DEBUG is off.")
try:
    Fernet(FIELD_ENCRYPTION_KEY.encode())
except ValueError as exc:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEY is not a Fernet key; make one with "
        "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
    ) from exc

INSTALLED_APPS = [
    "core",  # first: its runserver (daphne's, plus the port the app is started on) wins over daphne's
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "channels",
    "accounts",
    "contacts",
    "inbox",
    "dialplan",
    "telephony",
    "sandbox",
    "campaigns",
    "imports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dialplan.middleware.AnswerDialplanFirst",  # Smartflo's dialplan URL needs none of what follows
    "core.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.LoginRequiredMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# With persistent connections (gunicorn's workers, Celery's), a connection the database closed meanwhile
# is noticed before the request's first query rather than failing it.
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=False))
DATABASES["default"].setdefault("OPTIONS", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default has concurrent writers: requests, the in-process tasks' threads, the sandbox's
    # callbacks. WAL lets readers run beside a writer; BEGIN IMMEDIATE takes the write lock when a
    # transaction starts, so a writer waits (up to `timeout` seconds) instead of failing: with SQLite's
    # default deferred transactions, one that read first and then wrote after another writer committed
    # failed at once with "database is locked", whatever the timeout (Django ≥ 5.1 supports this).
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif env.bool("DATABASE_POOL", default=False):
    # Under daphne every request runs on a fresh thread, so CONN_MAX_AGE cannot keep connections:
    # without a pool each webhook pays a PostgreSQL connect. psycopg's pool (Django ≥ 5.1) keeps them.
    # The backend is Django's, failing at once while the database is unreachable instead of making
    # every request wait the pool's timeout (core/db_backend).
    DATABASES["default"]["ENGINE"] = "core.db_backend"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=20),
        "timeout": 10,
    }
# Behind PgBouncer in transaction mode (docs/serving.md) a connection is not the same server session from
# one transaction to the next: no server-side cursors, no prepared statements.
PGBOUNCER = env.bool("DATABASE_PGBOUNCER", default=False)
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = PGBOUNCER
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3" and not PGBOUNCER and (
    DATABASES["default"]["OPTIONS"].get("pool") or DATABASES["default"]["CONN_MAX_AGE"]
):
    # Django switches psycopg's prepared statements off (for PgBouncer); connections kept by Django's pool
    # (daphne) or between requests (gunicorn's workers) may prepare the dialplan's per-call lookups, planned
    # once per connection. Django's cursors bind on the client and are never prepared either way: only
    # code that asks (dialplan.selectors) is.
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Sign-in throttling (accounts.throttle): after this many failures an account, or an address, waits
# LOGIN_LOCKOUT_SECONDS (login page, admin login and API keys alike).
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-in"
TIME_ZONE = "Asia/Kolkata"  # agents' default display zone; storage is always UTC
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))  # collectstatic; the front door serves it
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# In development static files come from the finders; an absent STATIC_ROOT is expected there.
warnings.filterwarnings("ignore", message="No directory at")

REDIS_URL = env("REDIS_URL", default="")
# Names in Redis (channel groups, cache keys, rate-limit buckets) start with this, so two deployments or a
# bench can share one Redis.
CHANNELS_PREFIX = env("CHANNELS_PREFIX", default="sampark")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "core.channel_layer.GroupsRedisChannelLayer",
            "CONFIG": {
                # redis-py 8 gives connections a 5 s read timeout, and channels_redis blocks up to 5 s
                # waiting for a message: an idle receive then failed (and a message popped in that
                # instant was lost). Reads may take longer than the blocking pop.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                "prefix": CHANNELS_PREFIX,
                # Group memberships of sockets whose server died (a deploy, a crash) lapse after this
                # long instead of channels_redis' day, in which every event would still be pushed to them.
                # Live sockets renew theirs on the browser's pings (core.consumers).
                "group_expiry": env.int("CHANNELS_GROUP_EXPIRY", default=600),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# One cache for every process (the webhook's drain flag): Redis in production. (Rate-limit buckets keep
# their own Redis client: they run a Lua script, which Django's cache does not offer.)
# A Redis that stops answering fails the flag in a second (the webhook then answers 200 all the same:
# the event is stored) instead of holding the request for the kernel's TCP timeout.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.SharedPoolRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CHANNELS_PREFIX,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: with a broker, real workers; without, tasks run in-process (still after commit).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
# Without a broker, tasks run in-process on a thread of their own (core.tasks), as workers would. The
# test settings run them inline instead, in the caller's thread, and retries or countdowns run at once or
# not at all (core.tasks), so that a test drives time itself.
TASKS_INLINE = False
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection before and after every task unless this is set,
# so each task paid a new PostgreSQL connection (backend start, auth, Django's setup queries: ~5 ms of
# CPU). With it set, config/celery.py closes connections by Django's own rules instead (CONN_MAX_AGE,
# broken connections), as after a request.
CELERY_DB_REUSE_MAX = 10_000
CELERY_TIMEZONE = "UTC"
# Applying what arrived comes before sending more: webhook drains have a queue of their own, listed
# first, and workers take from their queues in that order (kombu's "priority" strategy), so a campaign's
# thousand queued sends never make its status callbacks, or a customer's new message, wait a queue's
# length. Workers started without -Q consume both.
CELERY_TASK_QUEUES = (Queue("ingest"), Queue("celery"))
CELERY_TASK_ROUTES = {"inbox.drain_webhook_events": {"queue": "ingest"}}
CELERY_BROKER_TRANSPORT_OPTIONS = {"queue_order_strategy": "priority"}
TELEPHONY_LIVE_POLL_SECONDS = env.float("TELEPHONY_LIVE_POLL_SECONDS", default=5.0)
# Benches only: a directory where each Celery worker process writes its cProfile (config/celery.py).
WORKER_PROFILE_DIR = env("WORKER_PROFILE_DIR", default="")
CELERY_BEAT_SCHEDULE = {
    # Webhook events a crashed worker left `received` are applied (the webhook queues drains itself).
    "drain-webhook-events": {"task": "inbox.drain_webhook_events", "schedule": 60.0},
    # Replies whose delivery task was lost (queued while Redis was down) are queued again.
    "requeue-stalled-messages": {"task": "inbox.requeue_stalled_messages", "schedule": 60.0},
    # Snoozed conversations reopen when their time comes.
    "wake-snoozed-conversations": {"task": "inbox.wake_snoozed_conversations", "schedule": 60.0},
    # Campaigns whose queuing stopped moving (a process that stopped, retries that gave up) carry on.
    "resume-stalled-campaigns": {"task": "campaigns.resume_stalled", "schedule": 60.0},
    # Dialplan request logs older than DIALPLAN_LOG_RETENTION_DAYS are deleted nightly.
    "prune-dialplan-requests": {"task": "dialplan.prune_requests", "schedule": 24 * 3600.0},
    # Smartflo call records of the last hours are re-read, so a call whose webhook never came still lands.
    "sync-recent-calls": {"task": "telephony.sync_recent_calls", "schedule": env.float("TELEPHONY_SYNC_SECONDS", default=900.0)},
    # Live calls of each watched Smartflo account (live page open, a click-to-call ringing): one poll
    # per account per TELEPHONY_LIVE_POLL_SECONDS whatever the number of browsers (telephony.live).
    "poll-live-calls": {"task": "telephony.poll_live_calls", "schedule": TELEPHONY_LIVE_POLL_SECONDS,
                        "options": {"expires": 10}},
}
# Voice streaming and automated calls (telephony.streaming, telephony.automated).
TELEPHONY_PROMPT_MAX_BYTES = env.int("TELEPHONY_PROMPT_MAX_BYTES", default=10_000_000)  # the uploaded WAV
TELEPHONY_PROMPT_MAX_SECONDS = env.float("TELEPHONY_PROMPT_MAX_SECONDS", default=60.0)
TELEPHONY_PROMPT_WAIT_SECONDS = env.float("TELEPHONY_PROMPT_WAIT_SECONDS", default=6.0)  # for a key, after the prompt
TELEPHONY_PROMPT_REPEATS = env.int("TELEPHONY_PROMPT_REPEATS", default=2)  # played again while no key is pressed
TELEPHONY_STREAM_MAX_FRAME_BYTES = env.int("TELEPHONY_STREAM_MAX_FRAME_BYTES", default=8192)  # a 20 ms media frame is ~300
TELEPHONY_STREAM_TOKEN_MAX_AGE = env.int("TELEPHONY_STREAM_TOKEN_MAX_AGE", default=3600)  # the Outbound Voice URL's answer
TELEPHONY_STREAM_MAX_SECONDS = env.int("TELEPHONY_STREAM_MAX_SECONDS", default=900)  # audio kept as the recording, at most
TELEPHONY_AUTOMATED_RING_SECONDS = env.int("TELEPHONY_AUTOMATED_RING_SECONDS", default=30)
TELEPHONY_AUTOMATED_GIVE_UP_SECONDS = env.int("TELEPHONY_AUTOMATED_GIVE_UP_SECONDS", default=180)  # placed, never streamed

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Personal API keys (Authorization: Bearer smp_live_…) first: a bad key answers 401 with
        # WWW-Authenticate rather than 403. Every API view, in every app, takes the same keys.
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.UntrustedJSONParser",  # bounded depth, clean strings: hostile JSON is a 400, never a 500
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sampark API",
    "DESCRIPTION": "Contacts, conversations, messages, calls and dialplans. Authorization: Bearer <API key> (make one at /accounts/api-keys/) or session auth.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Outbound sending (inbox.outbound.delivery): throughput per business number (Meta: 80/s by default, 1,000 for
# upgraded numbers), retries with backoff, and how long a send interrupted by a dying worker waits for
# Tata's status callback before it is shown as "unknown — check".
OUTBOUND_RATE_PER_SECOND = env.float("OUTBOUND_RATE_PER_SECOND", default=80)
OUTBOUND_MAX_RETRIES = env.int("OUTBOUND_MAX_RETRIES", default=6)
OUTBOUND_RETRY_BASE_SECONDS = env.float("OUTBOUND_RETRY_BASE_SECONDS", default=2)
OUTBOUND_RETRY_MAX_SECONDS = env.float("OUTBOUND_RETRY_MAX_SECONDS", default=300)
OUTBOUND_STALE_AFTER = env.int("OUTBOUND_STALE_AFTER", default=60)
OUTBOUND_IN_DOUBT_GRACE = env.int("OUTBOUND_IN_DOUBT_GRACE", default=180)
# A message still `queued` this long after it was queued (never attempted) has lost its task: the
# periodic sweeper queues it again (inbox.outbound.delivery.requeue_stalled; retried ones wait out any backoff).
OUTBOUND_REQUEUE_AFTER = env.int("OUTBOUND_REQUEUE_AFTER", default=120)

# Dialplan: the answer when a dialplan is off or even its failover fails (checked at start-up; the
# empty list lets the Failover Destination set in the Smartflo portal take the call), request bodies
# larger than DIALPLAN_MAX_BODY_BYTES get 413, request logs are written in bulk off the answer path.
DIALPLAN_DEFAULT_ANSWER = env.json("DIALPLAN_DEFAULT_ANSWER", default=[])
DIALPLAN_MAX_BODY_BYTES = env.int("DIALPLAN_MAX_BODY_BYTES", default=16 * 1024)
# How often a server process re-reads a dialplan's revision (saves in the same process apply at once).
DIALPLAN_RULES_RECHECK_SECONDS = env.float("DIALPLAN_RULES_RECHECK_SECONDS", default=1.0)
DIALPLAN_LOG_RETENTION_DAYS = env.int("DIALPLAN_LOG_RETENTION_DAYS", default=90)
DIALPLAN_LOG_DEFERRED = env.bool("DIALPLAN_LOG_DEFERRED", default=True)
DIALPLAN_LOG_FLUSH_SECONDS = env.float("DIALPLAN_LOG_FLUSH_SECONDS", default=0.5)
DIALPLAN_LOG_BATCH = env.int("DIALPLAN_LOG_BATCH", default=200)
DIALPLAN_LOG_FLUSH_ATTEMPTS = env.int("DIALPLAN_LOG_FLUSH_ATTEMPTS", default=5)

# Phone numbers without a country code are read in this region.
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="IN")

# The sandbox stands in for Tata omni and Smartflo on localhost (on by default while DEBUG).
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
# The names the sandbox's RCS callbacks use: "tata" (MESSAGE_DELIVERED, MESSAGE_READ, TYPING, as Tata/Jio
# post them) or "rbm" (Google RBM's DELIVERED, READ, IS_TYPING). Sampark reads both.
SANDBOX_RCS_EVENT_NAMES = env.str("SANDBOX_RCS_EVENT_NAMES", default="tata")
# Requests a second the sandbox Smartflo accepts per account before it answers 429 (Smartflo's burst limit).
SANDBOX_SMARTFLO_RATE = env.int("SANDBOX_SMARTFLO_RATE", default=40)
# Seconds after a send at which the sandbox's customer phone reports sent, delivered, read, through the
# channel's signed webhook. SANDBOX_STATUS_CALLBACKS=false holds them back (bench/campaign.py measures
# sending alone that way, beside the same campaign with them on).
SANDBOX_CALLBACK_DELAYS = tuple(env.list("SANDBOX_CALLBACK_DELAYS", cast=float, default=[0.3, 0.9, 2.0]))
SANDBOX_STATUS_CALLBACKS = env.bool("SANDBOX_STATUS_CALLBACKS", default=True)
# Set, a sandbox RCS bot that has written to this many customers in 24 hours refuses a new one (403),
# as Tata does; unset, no limit.
SANDBOX_RCS_BOT_CONVERSATION_LIMIT = env.int("SANDBOX_RCS_BOT_CONVERSATION_LIMIT", default=None)

# Webhook bodies larger than this are refused with 413 (media arrives by id, never inline; Meta's
# webhook payloads reach 3 MB at most).
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=3 * 1024 * 1024)
# Any other request body (attachments reach WhatsApp's 100 MB, plus the form around them). The front door
# and daphne refuse larger bodies before reading them (core/request_limits.py, deploy/nginx/sampark.conf).
REQUEST_MAX_BODY_BYTES = env.int("REQUEST_MAX_BODY_BYTES", default=110 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(WEBHOOK_MAX_BODY_BYTES * 2, 2_621_440)
# Mounts /webhooks/bench-bare/ (a view that only inserts the raw body) for bench/ingest.py. Off in use.
BENCH_ENDPOINTS = env.bool("BENCH_ENDPOINTS", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}
if not REDIS_URL:
    # In-process tasks and periodic jobs would log a line per run on `make run`'s console; failures still show.
    LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
