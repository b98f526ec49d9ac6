import os
import time

from celery import Celery
from celery.signals import task_postrun, worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("sampark")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect  # the main process, before a prefork pool forks (and the only one for solo/threads)
@worker_process_init.connect  # each forked child, for what it loaded itself
def _freeze_startup_objects(**kwargs):
    from core.startup import freeze_startup_objects

    freeze_startup_objects()


@task_postrun.connect
def _close_old_connections(sender=None, **kwargs):
    """Keep the worker's database connection for CONN_MAX_AGE seconds; drop it if it broke."""
    if sender is not None and getattr(sender.request, "is_eager", False):
        return  # ran inside a request or a test: their own lifecycle applies
    from django.db import close_old_connections

    close_old_connections()


# WORKER_PROFILE_DIR (benches only): each worker process profiles itself with cProfile and writes
# worker-<pid>.prof there every PROFILE_WRITE_SECONDS (a prefork child stopped by SIGTERM runs no
# shutdown hook, so the file is kept current instead). `python -m pstats` reads it.
PROFILE_WRITE_SECONDS = 5
_profile = {}


@worker_process_init.connect
def _start_profile(**kwargs):
    from django.conf import settings

    if settings.WORKER_PROFILE_DIR:
        import cProfile

        _profile.update(profiler=cProfile.Profile(), written=time.monotonic(),
                        path=os.path.join(settings.WORKER_PROFILE_DIR, f"worker-{os.getpid()}.prof"))
        _profile["profiler"].enable()


@task_postrun.connect
def _write_profile(**kwargs):
    if _profile and time.monotonic() - _profile["written"] > PROFILE_WRITE_SECONDS:
        _profile["profiler"].dump_stats(_profile["path"])
        _profile["written"] = time.monotonic()
