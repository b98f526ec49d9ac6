"""PostgreSQL with psycopg's connection pool, failing fast while the database is unreachable.

A request asks the pool for a connection and waits up to the pool's timeout for one. When the
database is down none ever comes, so every request hung the full 10 s (60 s with DEBUG on, where the
error page asks again) before failing, and requests piled up meanwhile. Here a request that finds no
idle connection first looks at whether the database answered lately: when the last look (at most
RECHECK_SECONDS old, one probe connection per process) failed, it fails at once with that reason.
The log says so once per outage, and once when the database is back.

Used by config/settings.py when DATABASE_POOL=true.
"""

import logging
import math
import threading
import time

import psycopg
from django.db.backends.postgresql import base

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 2.0
PROBE_TIMEOUT_SECONDS = 2
# Keys Django passes that are psycopg objects or options, not libpq connection parameters.
_NOT_LIBPQ = {"context", "cursor_factory", "prepare_threshold", "row_factory", "autocommit"}


class _Reachability:
    def __init__(self):
        self.lock = threading.Lock()
        self.checked_at = -math.inf
        self.error: str | None = None  # None: reachable at the last look


_reachability: dict[str, _Reachability] = {}


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        pool = self.pool
        if pool is not None and not pool.get_stats().get("pool_available"):
            self._fail_fast_if_unreachable(conn_params)
        return super().get_new_connection(conn_params)

    def _fail_fast_if_unreachable(self, conn_params) -> None:
        state = _reachability.setdefault(self.alias, _Reachability())
        with state.lock:  # one probe at a time; the others wait for its verdict
            now = time.monotonic()
            if now - state.checked_at >= RECHECK_SECONDS:
                error = _probe(conn_params)
                if error and state.error is None:
                    timeout = (self.settings_dict["OPTIONS"].get("pool") or {}).get("timeout", 30)
                    logger.error(
                        "database %r unreachable (%s): requests fail at once instead of waiting the pool's %s s "
                        "timeout; looking again every %s s", self.alias, error, timeout, RECHECK_SECONDS,
                    )
                elif not error and state.error is not None:
                    logger.warning("database %r reachable again", self.alias)
                state.error, state.checked_at = error, now
            error = state.error
        if error:
            raise self.Database.OperationalError(f"database unreachable (failing fast): {error}")


def _probe(conn_params) -> str | None:
    params = {key: value for key, value in conn_params.items() if key not in _NOT_LIBPQ}
    params["connect_timeout"] = PROBE_TIMEOUT_SECONDS
    try:
        psycopg.connect(**params).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return None
