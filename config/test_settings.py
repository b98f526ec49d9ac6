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
