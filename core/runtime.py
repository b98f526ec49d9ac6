"""What the embedded default runs besides requests (the periodic jobs), and the port it serves on.
(Start-up tuning of every long-running process is in core/startup.py, which config/celery.py imports:
this module imports the Celery app, so the app must not import it back.)"""

import logging
import threading

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- the embedded default's periodic jobs


class PeriodicJobs(threading.Thread):
    """What Celery beat does in production, for the embedded default (no broker, no beat): every job of
    CELERY_BEAT_SCHEDULE runs in this process on its schedule, so nothing waits for the next request
    (events left `received`, snoozed conversations, stalled campaigns).

    Each job runs once at start and then as its schedule says (a number of seconds, a timedelta or a
    Celery crontab), on a thread of its own as in-process tasks do; a run still going is not doubled.
    """

    def __init__(self, schedule: dict, *, tick: float = 1.0):
        super().__init__(name="periodic-jobs", daemon=True)
        from celery.schedules import maybe_schedule

        from config.celery import app

        self.app = app
        self.tick = tick
        self.entries = {
            name: (entry["task"], tuple(entry.get("args", ())), dict(entry.get("kwargs", {})), maybe_schedule(entry["schedule"], app=app))
            for name, entry in schedule.items()
        }
        self.last_run: dict[str, object] = {}
        self.running: dict[str, threading.Thread] = {}
        self.stopped = threading.Event()

    def run(self) -> None:
        self.app.loader.import_default_modules()  # registers every app's tasks, as a worker does
        while not self.stopped.is_set():
            try:
                self.run_due()
            except Exception:
                logger.exception("periodic jobs: a tick failed")
            self.stopped.wait(self.tick)

    def run_due(self) -> list[str]:
        """Start the jobs that are due; returns their names."""
        from core.tasks import run_in_background

        started = []
        for name, (task_name, args, kwargs, schedule) in self.entries.items():
            if name in self.running and self.running[name].is_alive():
                continue
            last = self.last_run.get(name)
            if last is not None and not schedule.is_due(last).is_due:
                continue
            task = self.app.tasks.get(task_name)
            if task is None:
                logger.error("periodic job %s names an unknown task %s", name, task_name)
                continue
            self.last_run[name] = schedule.now()
            self.running[name] = run_in_background(task, args, kwargs)
            started.append(name)
        return started

    def stop(self) -> None:
        self.stopped.set()


_periodic_jobs: PeriodicJobs | None = None
_periodic_jobs_lock = threading.Lock()


def start_embedded_runtime() -> PeriodicJobs | None:
    """On embedded defaults (tasks in-process, no Celery beat), start the periodic jobs once per
    process. With a broker, Celery beat runs them; tests (TASKS_INLINE) drive time themselves."""
    global _periodic_jobs
    from django.conf import settings

    if not settings.CELERY_TASK_ALWAYS_EAGER or settings.TASKS_INLINE:
        return None
    with _periodic_jobs_lock:
        if _periodic_jobs is None:
            _periodic_jobs = PeriodicJobs(settings.CELERY_BEAT_SCHEDULE)
            _periodic_jobs.start()
    return _periodic_jobs


# ---------------------------------------------------------------- the port the app is started on

WILDCARD_HOSTS = {"0.0.0.0", "::", ""}


def serve_on(host: str, port: int) -> str:
    """The app is being served at host:port (runserver). Unless PUBLIC_BASE_URL is configured, it becomes
    the public base; channels served by this machine's sandbox are pointed at it. Returns the public base."""
    from django.conf import settings
    from django.db import DatabaseError

    reachable = "127.0.0.1" if host in WILDCARD_HOSTS else (f"[{host}]" if ":" in host else host)
    local_base = f"http://{reachable}:{port}"
    if not settings.PUBLIC_BASE_URL_CONFIGURED:
        settings.PUBLIC_BASE_URL = local_base
    if settings.SANDBOX_ENABLED:
        from sandbox.omni import point_local_channels_at

        try:
            point_local_channels_at(local_base)
        except DatabaseError:  # not migrated yet: runserver says so itself
            logger.warning("could not point the sandbox channels at %s", local_base, exc_info=True)
    return settings.PUBLIC_BASE_URL
