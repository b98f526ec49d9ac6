"""Test overrides: tasks run in-process, fast hashing. Databases and Redis still come from the env."""

from .settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
SANDBOX_ENABLED = True
if REDIS_URL:  # noqa: F405
    # Keep test traffic apart from a dev server sharing the same Redis.
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] += "-test"  # noqa: F405
TASKS_INLINE = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file rather than shared-cache memory: the ASGI live server (tests/e2e, daphne) serves requests
    # and websockets from several threads, which need WAL and the busy timeout to share the database.
    # One file per test process, so parallel runs never meet.
    import os as _os
    import tempfile as _tempfile

    DATABASES["default"]["TEST"] = {"NAME": _os.path.join(_tempfile.gettempdir(), f"sampark-test-{_os.getpid()}.sqlite3")}  # noqa: F405
