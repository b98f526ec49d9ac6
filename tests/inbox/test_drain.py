"""The webhook answers after storing; drains apply `received` events in batches, off the request."""

import json

import pytest

from inbox import ingest
from inbox.models import Message, WebhookEvent
from inbox.tasks import drain_webhook_events
from tests.inbox.tata_payloads import fixture_bytes, make_channel, post_fixture

pytestmark = pytest.mark.django_db


def _store(channel, body: bytes) -> WebhookEvent:
    return WebhookEvent.objects.create(source="tata_whatsapp", channel=channel, headers={}, body=body)


def _text(message_id: str, sender: str) -> bytes:
    payload = json.loads(fixture_bytes("wa_in_text.json"))
    payload["messages"]["id"], payload["messages"]["from"] = message_id, sender
    payload["contacts"][0]["wa_id"] = sender
    return json.dumps(payload).encode()


def test_drain_applies_every_received_event_in_batches_and_one_bad_payload_spoils_nothing():
    channel = make_channel()
    good = [_store(channel, _text(f"wamid.drain{i}", f"9198123450{i:02d}")) for i in range(7)]
    bad = _store(channel, b'{"unexpected": true}')
    done = ingest.drain_received(batch_size=3)
    assert done == 8
    assert Message.objects.count() == 7
    assert set(WebhookEvent.objects.filter(pk__in=[e.pk for e in good]).values_list("status", flat=True)) == {"processed"}
    bad.refresh_from_db()
    assert bad.status == "unprocessable" and "Top-level keys: unexpected" in bad.error
    assert ingest.drain_received() == 0  # settled events are never applied twice


def test_webhook_queues_one_drain_at_a_time_and_a_drain_reopens_the_gate(client, monkeypatch):
    channel = make_channel()
    queued = []
    monkeypatch.setattr(
        "inbox.ingest.enqueue", lambda task, *args: queued.append(task) if task is drain_webhook_events else None
    )
    post_fixture(client, channel, "wa_in_text.json")
    post_fixture(client, channel, "wa_in_image.json")
    assert queued == [drain_webhook_events]  # the second webhook found a drain already queued
    assert WebhookEvent.objects.filter(status="received").count() == 2

    assert drain_webhook_events.apply().get() == 2
    post_fixture(client, channel, "wa_in_location.json")
    assert queued == [drain_webhook_events, drain_webhook_events]  # stored after the drain looked: queued again


def test_periodic_drain_heals_events_a_dead_worker_left_behind():
    channel = make_channel()
    _store(channel, fixture_bytes("wa_in_text.json"))
    assert drain_webhook_events.apply().get() == 1
    assert WebhookEvent.objects.get().status == "processed"


def test_a_deadlock_leaves_the_event_received_and_it_is_retried(monkeypatch):
    from django.db import OperationalError

    channel = make_channel()
    event = _store(channel, fixture_bytes("wa_in_text.json"))
    real_apply, failures = ingest._apply, []

    def deadlocking_twice(event):
        if len(failures) < 2:
            failures.append(1)
            raise OperationalError("deadlock detected")
        return real_apply(event)

    monkeypatch.setattr(ingest, "_apply", deadlocking_twice)
    ingest.drain_received()
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 3)
    assert Message.objects.count() == 1


def test_a_lasting_database_error_ends_unprocessable_after_bounded_attempts(monkeypatch):
    from django.db import OperationalError

    channel = make_channel()
    event = _store(channel, fixture_bytes("wa_in_text.json"))
    monkeypatch.setattr(ingest, "_apply", lambda event: (_ for _ in ()).throw(OperationalError("lock timeout")))
    ingest.drain_received()
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("unprocessable", ingest.TRANSIENT_ATTEMPTS)
    assert "lock timeout" in event.error
