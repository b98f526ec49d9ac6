"""Answers run on a few long-lived threads that keep their database connection.

Under ASGI (daphne) Django runs each request's sync code on a fresh thread, so a view that queries
opens a new database connection per request — several milliseconds on PostgreSQL, more than the
whole answer. The dialplan's reads run here instead, on DIALPLAN_ANSWER_THREADS threads whose
connections persist (a connection that saw an error is replaced before the next answer).
A caller already inside a transaction (tests, a service composing calls) runs inline so it sees its
own uncommitted rows.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection

_executor = None
_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        with _lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=settings.DIALPLAN_ANSWER_THREADS, thread_name_prefix="dialplan-answer")
    return _executor


def _on_worker(fn, args, kwargs):
    if connection.errors_occurred:
        connection.close()
        connection.errors_occurred = False
    return fn(*args, **kwargs)


def run(fn, *args, **kwargs):
    if connection.in_atomic_block or settings.DIALPLAN_ANSWER_THREADS <= 0:
        return fn(*args, **kwargs)
    return _pool().submit(_on_worker, fn, args, kwargs).result()
