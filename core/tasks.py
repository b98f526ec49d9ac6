"""enqueue(): the one way services start background work — always after commit.

Tasks are named, not imported (`enqueue("inbox.deliver_message", pk)`): a tasks module imports the
services it calls, so a service that imported its tasks back would close an import circle.

With a broker, the task goes to Celery workers. On embedded defaults (no REDIS_URL) tasks run
in-process; they run on a short-lived thread so the request that queued them answers at once, as
it would with real workers. Tests run them inline (TASKS_INLINE) to stay deterministic.
"""

import logging
import threading

from django.conf import settings
from django.db import connections, transaction

logger = logging.getLogger(__name__)


def enqueue(task, *args, **kwargs) -> None:
    """`task` is a registered task's name (or the task itself)."""
    transaction.on_commit(lambda: _start(named(task), args, kwargs), robust=True)


def named(task):
    """The Celery task registered under this name (tasks modules are found by autodiscovery)."""
    if not isinstance(task, str):
        return task
    from config.celery import app

    if task not in app.tasks:
        app.loader.import_default_modules()  # runs autodiscovery: every app's tasks module
    return app.tasks[task]


def _start(task, args, kwargs) -> None:
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        task.apply_async(args=args, kwargs=kwargs)
    elif settings.TASKS_INLINE:
        task.apply(args=args, kwargs=kwargs)
    else:
        run_in_background(task, args, kwargs)


def run_in_background(task, args=(), kwargs=None) -> threading.Thread:
    """Run a task in this process on a thread of its own (embedded defaults: no broker, no workers)."""
    thread = threading.Thread(target=_run_in_thread, args=(task, tuple(args), kwargs or {}), name=task.name, daemon=True)
    thread.start()
    return thread


def backoff(attempt: int, *, first: float = 0.5, cap: float = 60.0) -> float:
    """Seconds before retry number `attempt + 1` of a failed step: 0.5, 1, 2, 4… capped at `cap`."""
    return min(cap, first * 2**attempt)


def enqueue_later(task, args: tuple, countdown: float, **options) -> None:
    """Run `task` after `countdown` seconds: a Celery ETA with a broker; a timer thread on embedded
    defaults. Tests (TASKS_INLINE) drive time themselves, so nothing is scheduled there."""
    task = named(task)
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        task.apply_async(args=args, countdown=countdown, **options)
    elif not settings.TASKS_INLINE:
        timer = threading.Timer(countdown, _run_in_thread, args=(task, args, {}), kwargs=options)
        timer.daemon = True
        timer.start()


def _run_in_thread(task, args, kwargs, **options) -> None:
    try:
        task.apply(args=args, kwargs=kwargs, **options)
    except Exception:
        logger.exception("in-process task %s failed", task.name)
    finally:
        connections.close_all()
