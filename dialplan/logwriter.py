"""Request logs written off the answer path.

Answering Smartflo must stay fast, so log rows are collected in memory and written in bulk by one
background thread every DIALPLAN_LOG_FLUSH_SECONDS. A row is never dropped silently: a failed write is
retried; after DIALPLAN_LOG_FLUSH_ATTEMPTS failures the rows are written to the error log in full (JSON),
from where they can be replayed. At process exit the buffer is flushed. Tests and in-process task mode
(TASKS_INLINE) write each row at once.
"""

import atexit
import functools
import json
import logging
import threading

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)


class _Buffer:
    def __init__(self):
        self.rows = []
        self.attempts = 0
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.thread = None

    def add(self, row) -> None:
        with self.lock:
            self.rows.append(row)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="dialplan-log-writer", daemon=True)
                self.thread.start()
            if len(self.rows) >= settings.DIALPLAN_LOG_BATCH:
                self.wake.set()

    def _run(self) -> None:
        while True:
            self.wake.wait(settings.DIALPLAN_LOG_FLUSH_SECONDS)
            self.wake.clear()
            close_old_connections()
            self.flush()

    def flush(self) -> None:
        with self.lock:
            rows, self.rows = self.rows, []
        if not rows:
            return
        unsaved = _write(rows)
        if not unsaved:
            self.attempts = 0
            return
        self.attempts += 1
        if threading.current_thread() is self.thread:
            connection.close()  # reconnect on the next attempt
        if self.attempts < settings.DIALPLAN_LOG_FLUSH_ATTEMPTS:
            logger.warning("dialplan log write failed (attempt %s); will retry %s rows", self.attempts, len(unsaved))
            with self.lock:
                self.rows[:0] = unsaved
        else:
            self.attempts = 0
            logger.error("dialplan log write failed %s times; rows follow for replay", settings.DIALPLAN_LOG_FLUSH_ATTEMPTS)
            for row in unsaved:
                logger.error("dialplan-request-unsaved %s", json.dumps(row, cls=DjangoJSONEncoder))


_SCALAR_DEFAULTS = {
    "dialplan_id": None, "call_uuid": "", "call_id": "", "caller": "", "called": "", "last_dtmf": "", "rule_pk": None,
    "rule_name": "", "outcome": "", "status_code": 200, "answer": None, "error": "", "latency_ms": 0.0,
}


def new_row(**fields) -> dict:
    """A DialplanRequest's column values (attnames) as a plain dict: the answer path builds no model
    instance (its __init__ and pre/post_init signals cost more than the rest of logging), and COPY
    reads the dict as it is. Needs at least method and received_at."""
    return {"params": {}, "trace": [], **_SCALAR_DEFAULTS, **fields}


def _instance(row: dict):
    from dialplan.models import DialplanRequest

    return DialplanRequest(**row)


def _write(rows: list) -> list:
    """Write rows in bulk; if that fails, one by one. Returns the rows that could not be written."""
    try:
        _insert_all(rows)
        return []
    except Exception:
        logger.exception("dialplan log bulk write failed; writing %s rows one by one", len(rows))
    unsaved = []
    for row in rows:
        instance = _instance(row)
        instance.pk = None
        try:
            instance.save(force_insert=True)
        except Exception:
            unsaved.append(row)
    return unsaved


def _insert_all(rows: list) -> None:
    """One statement for all rows. On PostgreSQL a COPY: 200 rows in ~15 ms, where bulk_create took
    ~40 ms, most of it escaping the JSON traces for its UNNEST arrays, CPU taken from the answers
    served alongside. Each column's value is turned into what COPY takes by a converter chosen once
    (JSON as text, the rest as is): Django's per-field get_db_prep_save was most of the Python cost."""
    from dialplan.models import DialplanRequest

    if connection.vendor != "postgresql":
        DialplanRequest.objects.bulk_create([_instance(row) for row in rows], batch_size=500)
        return
    columns = _copy_columns()
    names = ", ".join(connection.ops.quote_name(column) for column, _, _ in columns)
    table = connection.ops.quote_name(DialplanRequest._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([convert(row[attname]) for _, attname, convert in columns])


def _as_json(value):
    return None if value is None else json.dumps(value, cls=DjangoJSONEncoder)


def _as_is(value):
    return value


@functools.cache
def _copy_columns() -> tuple[tuple[str, str, object], ...]:
    """(column, attname, converter) for every column COPY writes. The model's fields are plain values (text,
    numbers, an aware datetime, JSON), which is what this relies on: a field of another kind fails the
    COPY, and the rows are then written one by one through the ORM."""
    from django.db.models import JSONField

    from dialplan.models import DialplanRequest

    return tuple(
        (field.column, field.attname, _as_json if isinstance(field, JSONField) else _as_is)
        for field in DialplanRequest._meta.concrete_fields
        if not field.primary_key
    )


_buffer = _Buffer()
atexit.register(_buffer.flush)


def deferred() -> bool:
    return settings.DIALPLAN_LOG_DEFERRED and not settings.TASKS_INLINE


def record(row) -> None:
    """Store one request log: `row` from new_row()."""
    if deferred():
        _buffer.add(row)
        return
    try:
        _instance(row).save()
    except Exception:
        logger.exception("dialplan log write failed: %s", json.dumps(row, cls=DjangoJSONEncoder))


def flush() -> None:
    _buffer.flush()
