"""With the connection pool on and the database unreachable, requests fail at once and the log says
why (issue #11, finding 8); they used to wait the pool's 10 s timeout each."""

import logging
import time

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from core.db_backend import base as fail_fast


def _pooled(alias: str, port: int, **extra) -> ConnectionHandler:
    settings = {
        "ENGINE": "core.db_backend", "NAME": "sampark_secingest_unreachable", "USER": "postgres", "HOST": "127.0.0.1",
        "PORT": str(port), "CONN_MAX_AGE": 0, "OPTIONS": {"pool": {"min_size": 1, "max_size": 2, "timeout": 10}}, **extra,
    }
    return ConnectionHandler({"default": {"ENGINE": "django.db.backends.dummy"}, alias: settings})


@pytest.fixture
def unreachable(django_db_blocker):
    handler = _pooled("unreachable", 1)  # nothing listens on port 1: connection refused
    connection = handler["unreachable"]
    with django_db_blocker.unblock():  # a database of its own, outside the test database
        yield connection
    connection.close_pool()
    fail_fast._reachability.pop("unreachable", None)


def test_requests_fail_at_once_while_the_database_is_unreachable_and_the_log_says_so_once(unreachable, caplog):
    caplog.set_level(logging.WARNING, logger="core.db_backend.base")
    for _ in range(5):  # every request of an outage, not only the first
        started = time.monotonic()
        with pytest.raises(OperationalError, match="unreachable"):
            unreachable.ensure_connection()
        assert time.monotonic() - started < 3  # the pool's timeout is 10 s
    reports = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(reports) == 1 and "fail at once" in reports[0].getMessage()


def test_the_database_coming_back_is_noticed_within_the_recheck(unreachable, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="core.db_backend.base")
    with pytest.raises(OperationalError):
        unreachable.ensure_connection()
    monkeypatch.setattr(fail_fast, "_probe", lambda params: None)  # it answers again
    monkeypatch.setattr(unreachable.pool, "timeout", 0.5)
    fail_fast._reachability["unreachable"].checked_at -= fail_fast.RECHECK_SECONDS
    with pytest.raises(OperationalError) as raised:  # the pool itself still has no server to connect to
        unreachable.ensure_connection()
    assert "failing fast" not in str(raised.value)
    assert any("reachable again" in r.getMessage() for r in caplog.records)


def test_the_pooled_backend_is_used_when_database_pool_is_on(monkeypatch):
    import importlib

    import config.settings as settings_module

    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sampark_secingest")
    monkeypatch.setenv("DATABASE_POOL", "true")
    try:
        reloaded = importlib.reload(settings_module)
        assert reloaded.DATABASES["default"]["ENGINE"] == "core.db_backend"
    finally:
        monkeypatch.undo()
        importlib.reload(settings_module)
