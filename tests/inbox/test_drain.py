"""The webhook answers after storing; drains apply `received` events in batches, off the request."""

import json

import pytest

from contacts.services import find_or_create_by_phone
from core.tasks import named
from inbox.ingest import drain as ingest
from inbox.ingest.readahead import BatchRows
from inbox.models import Conversation, Message, WebhookEvent
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


@pytest.fixture
def queued(monkeypatch) -> list:
    """The drains webhooks queue, instead of queueing them."""
    tasks = []
    monkeypatch.setattr("inbox.ingest.drain.enqueue", lambda task, *args: tasks.append(drain_webhook_events) if named(task).name == drain_webhook_events.name else None)
    return tasks


def test_webhook_queues_one_drain_at_a_time_and_a_drain_reopens_the_gate(client, queued):
    channel = make_channel()
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


def test_a_batch_reads_contacts_conversations_and_known_ids_once_not_per_event(django_assert_max_num_queries):
    channel = make_channel()
    for i in range(20):  # twenty customers who wrote before
        _store(channel, _text(f"wamid.before{i}", f"9198123451{i:02d}"))
    ingest.drain_received()
    for i in range(20):
        _store(channel, _text(f"wamid.again{i}", f"9198123451{i:02d}"))
    # Per event: savepoint, message insert, conversation update, release. Per batch, a constant: the
    # claim, three read-ahead queries, the late-reply link in its savepoint, the outcomes, and the
    # transaction (a savepoint in the test's, and SET LOCAL on PostgreSQL) for this batch and for the
    # empty claim that ends the drain.
    with django_assert_max_num_queries(20 * 4 + 18):
        assert ingest.drain_received(batch_size=20) == 20
    assert Message.objects.filter(provider_message_id__startswith="wamid.again").count() == 20


def test_a_new_customer_is_looked_up_once_and_gets_a_conversation_without_a_second_look():
    """The read-ahead already found nobody with the number; the conversation of a contact this batch
    created cannot exist yet."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    channel = make_channel()
    _store(channel, _text("wamid.first", "919812345777"))
    with CaptureQueriesContext(connection) as captured:
        assert ingest.drain_received() == 1
    selects = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert sum('FROM "contacts_contactphone"' in sql for sql in selects) == 1
    assert not any('FROM "inbox_conversation"' in sql for sql in selects)
    message = Message.objects.get(provider_message_id="wamid.first")
    assert message.conversation.contact.phones.get().number == "+919812345777"


def test_a_reply_earlier_in_the_batch_than_its_original_is_linked_when_the_batch_ends():
    channel = make_channel()
    reply = json.loads(_text("wamid.reply", "919812345001"))
    reply["messages"]["context"] = {"from": "919812345001", "id": "wamid.original"}
    _store(channel, json.dumps(reply).encode())
    _store(channel, _text("wamid.original", "919812345001"))
    _store(channel, _text("wamid.original", "919812345001"))  # a duplicate delivery in the same batch
    assert ingest.drain_received() == 3
    original = Message.objects.get(provider_message_id="wamid.original")
    assert Message.objects.get(provider_message_id="wamid.reply").reply_to == original
    assert Message.objects.filter(provider_message_id="wamid.original").count() == 1


def test_a_message_a_concurrent_drain_stored_first_is_retried_and_found_stored(monkeypatch):
    """Between reading ahead and inserting, another worker stored the same provider id: the unique
    index refuses the insert, and the event is tried again instead of being called unprocessable."""
    channel = make_channel()
    event = _store(channel, _text("wamid.race", "919812345002"))
    real_read, raced = BatchRows.read, []

    def read_then_race(batch):
        rows = real_read(batch)
        if not raced:
            raced.append(1)
            contact, _ = find_or_create_by_phone("+919812345002")
            conversation = Conversation.objects.create(channel=channel, contact=contact)
            Message.objects.create(channel=channel, conversation=conversation, direction="in", provider_message_id="wamid.race",
                                   timestamp=event.received_at)
        return rows

    monkeypatch.setattr(BatchRows, "read", staticmethod(read_then_race))
    ingest.drain_received()
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 2)
    assert Message.objects.filter(provider_message_id="wamid.race").count() == 1


def test_an_event_rolled_back_in_a_batch_does_not_leave_its_rows_to_the_next(monkeypatch):
    """The first event creates the customer's contact and conversation, then fails; the second event
    of the same customer, in the same batch, must not use the rolled-back rows."""
    channel = make_channel()
    failing = _store(channel, _text("wamid.fails", "919812345003"))
    fine = _store(channel, _text("wamid.fine", "919812345003"))
    real_add = BatchRows.add

    def add_or_fail(rows, message):
        real_add(rows, message)
        if message.provider_message_id == "wamid.fails":
            raise RuntimeError("a bug after the insert")

    monkeypatch.setattr(BatchRows, "add", add_or_fail)
    assert ingest.drain_received() == 2
    failing.refresh_from_db()
    fine.refresh_from_db()
    assert failing.status == "unprocessable" and "a bug after the insert" in failing.error
    assert fine.status == "processed"
    message = Message.objects.get()
    assert message.provider_message_id == "wamid.fine"
    assert message.conversation.contact.phones.get().number == "+919812345003"
    assert message.conversation.unread_count == 1


def test_a_running_drain_keeps_the_gate_so_webhooks_meanwhile_queue_nothing_and_it_applies_them(client, queued, monkeypatch):
    channel = make_channel()
    post_fixture(client, channel, "wa_in_text.json")
    assert len(queued) == 1
    real_apply_batch, posted = ingest._apply_batch, []

    def apply_and_receive_more(batch):
        real_apply_batch(batch)
        if not posted:  # a webhook arrives while the drain is at work
            posted.append(post_fixture(client, channel, "wa_in_location.json"))

    monkeypatch.setattr(ingest, "_apply_batch", apply_and_receive_more)
    assert ingest.drain_received() == 2  # the running drain applied it too
    assert len(queued) == 1
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    post_fixture(client, channel, "wa_in_image.json")
    assert len(queued) == 2  # the drain opened the gate when it ran out of work


def test_a_drain_that_caught_up_opens_the_gate_and_looks_only_once_more():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    channel = make_channel()
    _store(channel, _text("wamid.alone", "919812345004"))
    with CaptureQueriesContext(connection) as captured:
        assert ingest.drain_received() == 1
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "inbox_webhookevent"')]
    assert len(reads) == 2  # the short batch, then the look after the gate opened
    claim, look = reads
    assert claim.startswith('SELECT "inbox_webhookevent"."id", ')  # the batch: whole events, locked
    assert '"source"' not in look and "FOR UPDATE" not in look  # only whether any wait, without locks
