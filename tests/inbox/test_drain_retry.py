"""A drain that fails opens the webhook's gate and tries again after a backoff: a burst of webhooks
followed by silence is still applied (the issue: every event stayed `received` on SQLite)."""

import json

import pytest
from django.core.cache import cache
from django.db import OperationalError

from inbox import tasks
from inbox.ingest import drain as ingest
from inbox.models import Message, WebhookEvent
from tests.inbox.tata_payloads import fixture_bytes, make_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def retries(monkeypatch):
    scheduled = []
    monkeypatch.setattr(tasks, "enqueue_later", lambda task, args, countdown, **options: scheduled.append((task.name, args, countdown)))
    return scheduled


def _store_text(channel, message_id: str) -> WebhookEvent:
    payload = json.loads(fixture_bytes("wa_in_text.json"))
    payload["messages"]["id"] = message_id
    return WebhookEvent.objects.create(source="tata_whatsapp", channel=channel, headers={}, body=json.dumps(payload).encode())


def test_a_failed_drain_opens_the_gate_and_tries_again_with_backoff(monkeypatch, retries):
    channel = make_channel()
    event = _store_text(channel, "wamid.locked1")
    real_batch = ingest._drain_batch
    calls = {"n": 0}

    def locked_once(batch_size):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("database is locked")
        return real_batch(batch_size)

    monkeypatch.setattr(ingest, "_drain_batch", locked_once)
    cache.set(ingest.DRAIN_FLAG, 1)  # the webhook shut the gate when it queued this drain

    assert tasks.drain_webhook_events() == 0
    assert cache.get(ingest.DRAIN_FLAG) is None  # the next webhook queues a drain again
    assert retries == [("inbox.drain_webhook_events", (1,), 0.5)]
    event.refresh_from_db()
    assert event.status == "received"

    assert tasks.drain_webhook_events(1) == 1  # the retry, half a second later
    event.refresh_from_db()
    assert event.status == "processed" and Message.objects.filter(provider_message_id="wamid.locked1").exists()


def test_retries_back_off_then_leave_it_to_the_periodic_drain(monkeypatch, retries):
    monkeypatch.setattr(ingest, "drain_received", lambda: (_ for _ in ()).throw(OperationalError("database is locked")))
    for attempt in range(tasks.DRAIN_RETRIES):
        tasks.drain_webhook_events(attempt)
    assert [countdown for _, _, countdown in retries] == [0.5, 1, 2, 4, 8, 16, 32, 60]
    with pytest.raises(OperationalError):
        tasks.drain_webhook_events(tasks.DRAIN_RETRIES)
    assert cache.get(ingest.DRAIN_FLAG) is None


def test_embedded_sqlite_takes_the_write_lock_when_a_transaction_starts(settings):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in connection.settings_dict["OPTIONS"]["init_command"]
    assert connection.settings_dict["OPTIONS"]["timeout"] >= 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_read_then_write_transactions_wait_for_each_other_instead_of_failing():
    """What the drains, the in-process tasks and the requests do side by side on the embedded default.
    With SQLite's deferred transactions the second writer failed at once with 'database is locked'."""
    import threading
    import time

    from django.db import connection, connections, transaction

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    channel = make_channel()
    errors, start = [], threading.Barrier(4)

    def writer(n):
        try:
            start.wait()
            for i in range(5):
                with transaction.atomic():
                    WebhookEvent.objects.filter(channel=channel).count()  # read first…
                    time.sleep(0.01)
                    _store_text(channel, f"wamid.t{n}-{i}")  # …then write, as a drain batch does
        except Exception as exc:  # noqa: BLE001 - the test reports whatever a writer hit
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert WebhookEvent.objects.count() == 20
