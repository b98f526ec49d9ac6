"""One poison event never halts ingestion (issue #11, finding 1).

A NUL or a lone surrogate in any field, or any failure outside an event's own savepoint (the batch's
read-ahead, linking, saving the outcomes), sets just that event aside as `unprocessable` with its
reason; every other event, on every channel, is still applied, and replays do not crash.
"""

import io
import json

import pytest
from django.core.management import call_command

from inbox.ingest import drain as ingest
from inbox.ingest.readahead import BatchRows
from inbox.models import Channel, Message, WebhookEvent
from tests.inbox.tata_payloads import fixture_bytes, fixture_json, make_channel

pytestmark = pytest.mark.django_db

POISONS = {"nul": "\u0000", "surrogate": "\ud800"}


def _store(channel, payload: dict | bytes) -> WebhookEvent:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()  # json.dumps escapes both poisons
    return WebhookEvent.objects.create(source=f"tata_{channel.kind}", channel=channel, headers={}, body=body)


def _canary(channel) -> WebhookEvent:
    payload = fixture_json("rcs_in_text.json")
    payload["entity"]["messageId"] = "canary-after-the-poison"
    return _store(channel, payload)


def _poisoned(field: str, poison: str) -> dict:
    payload = fixture_json("wa_in_text.json")
    if field == "id":
        payload["messages"]["id"] += poison
    elif field == "from":
        payload["messages"]["from"] += poison
        payload["contacts"][0]["wa_id"] += poison
    elif field == "context":
        payload["messages"]["context"] = {"id": "wamid.quoted" + poison}
    elif field == "body":
        payload["messages"]["text"]["body"] += poison
    elif field == "name":
        payload["contacts"][0]["profile"]["name"] += poison
    elif field == "type":
        payload["messages"]["type"] = "text" + poison
    elif field == "key":
        payload["messages"]["text"]["body" + poison] = "x"
    return payload


@pytest.mark.parametrize("poison", POISONS.values(), ids=POISONS.keys())
@pytest.mark.parametrize("field", ["id", "from", "context", "body", "name", "type", "key"])
def test_a_poison_string_in_any_field_never_stops_the_canary_on_another_channel(field, poison):
    whatsapp, rcs = make_channel(), make_channel(Channel.Kind.RCS, phone="+919876500002")
    poisoned = _store(whatsapp, _poisoned(field, poison))
    canary = _canary(rcs)

    assert ingest.drain_received() == 2

    canary.refresh_from_db()
    poisoned.refresh_from_db()
    assert canary.status == "processed"
    assert Message.objects.filter(provider_message_id="canary-after-the-poison").exists()
    assert poisoned.status in ("processed", "unprocessable")
    for text in [poisoned.error, *Message.objects.values_list("body", "provider_message_id", "reply_to_provider_id", "type").first()]:
        assert "\x00" not in text and "\ud800" not in text  # stored with U+FFFD in their place
    assert ingest.drain_received() == 0  # nothing left for the next drain to trip over


def test_a_failure_in_the_batch_read_ahead_sets_aside_only_the_event_at_fault(monkeypatch):
    """The general guard: whatever fails outside the per-event savepoint, not only bad strings."""
    channel = make_channel()
    good = [_store(channel, _text(f"wamid.good{i}", f"9198123460{i:02d}")) for i in range(3)]
    poison = _store(channel, _text("wamid.poison", "919812346099"))
    real_read = BatchRows.read

    def read_failing_on_the_poison(batch):
        if any(event.pk == poison.pk for event in batch):
            raise ValueError("A string literal cannot contain NUL (0x00) characters.")
        return real_read(batch)

    monkeypatch.setattr(BatchRows, "read", staticmethod(read_failing_on_the_poison))
    assert ingest.drain_received() == 4
    poison.refresh_from_db()
    assert poison.status == "unprocessable" and poison.attempts == 1
    assert "ValueError" in poison.error and "NUL" in poison.error
    assert poison.processed_at is not None
    assert {e.status for e in WebhookEvent.objects.filter(pk__in=[g.pk for g in good])} == {"processed"}
    assert Message.objects.count() == 3


def test_a_failure_saving_the_outcomes_falls_back_to_one_event_at_a_time(monkeypatch):
    channel = make_channel()
    events = [_store(channel, _text(f"wamid.out{i}", f"9198123461{i:02d}")) for i in range(3)]
    real_save = ingest._save_outcomes

    def save_failing_for_batches(batch):
        if len(batch) > 1:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        real_save(batch)

    monkeypatch.setattr(ingest, "_save_outcomes", save_failing_for_batches)
    assert ingest.drain_received() == 3
    assert {e.status for e in WebhookEvent.objects.filter(pk__in=[e.pk for e in events])} == {"processed"}
    assert Message.objects.count() == 3


def test_an_event_that_fails_even_alone_is_set_aside_and_the_drain_goes_on(monkeypatch):
    channel = make_channel()
    poison = _store(channel, _text("wamid.alone", "919812346100"))
    after = _store(channel, _text("wamid.after", "919812346101"))
    real_link = BatchRows.link_waiting_messages

    def link_failing_for_the_poison(rows):
        if any(m.provider_message_id == "wamid.alone" for m in rows.inserted):
            raise RecursionError("maximum recursion depth exceeded")
        real_link(rows)

    monkeypatch.setattr(BatchRows, "link_waiting_messages", link_failing_for_the_poison)
    assert ingest.drain_received() == 2
    poison.refresh_from_db()
    after.refresh_from_db()
    assert poison.status == "unprocessable" and "RecursionError" in poison.error
    assert after.status == "processed"
    assert list(Message.objects.values_list("provider_message_id", flat=True)) == ["wamid.after"]  # the poison's rows rolled back


def test_replay_webhooks_reports_a_poison_event_and_exits_cleanly(monkeypatch):
    channel = make_channel()
    poison = _store(channel, _text("wamid.replayed", "919812346200"))
    monkeypatch.setattr(BatchRows, "read", staticmethod(lambda batch: (_ for _ in ()).throw(ValueError("NUL"))))
    out = io.StringIO()
    call_command("replay_webhooks", "--older-than", "0", stdout=out)  # raised (exit 1) before
    poison.refresh_from_db()
    assert poison.status == "unprocessable"
    assert f"#{poison.pk} still unprocessable" in out.getvalue()


def test_a_poison_body_straight_from_the_webhook_is_stored_and_settled(client):
    from tests.inbox.tata_payloads import post_raw

    channel = make_channel()
    body = fixture_bytes("wa_in_text.json").replace(b'"wamid.', b'"\\u0000\\ud800wamid.')
    assert post_raw(client, channel, body).status_code == 200
    event = WebhookEvent.objects.get()
    assert bytes(event.body) == body  # kept exactly as received
    ingest.drain_received()
    event.refresh_from_db()
    assert event.status == "processed"
    assert Message.objects.get().provider_message_id.startswith("\ufffd\ufffdwamid.")


def _text(message_id: str, sender: str) -> dict:
    payload = fixture_json("wa_in_text.json")
    payload["messages"]["id"], payload["messages"]["from"] = message_id, sender
    payload["contacts"][0]["wa_id"] = sender
    return payload


@pytest.mark.parametrize(
    "body", [b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", b'{"messages": {"id": "\\u0000\\ud800"}}', b"\x00\xff not json \xed\xa0\x80"]
)
def test_admin_shows_any_stored_body(client, admin_user, body):
    from django.urls import reverse

    event = _store(make_channel(), body)
    client.force_login(admin_user)
    response = client.get(reverse("admin:inbox_webhookevent_change", args=[event.pk]))
    assert response.status_code == 200
