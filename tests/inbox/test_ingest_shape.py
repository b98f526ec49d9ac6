"""The reshaped inbound path (#13): provider JSON read once into typed records, a bubble's display stored at
ingest, ingest usable outside a drain, one conversation-for-contact, one order total."""

from decimal import Decimal

import pytest
from django.db.models import QuerySet
from django.urls import reverse

from core import untrusted
from inbox.display import display_of
from inbox.ingest import drain
from inbox.ingest.apply import record_inbound
from inbox.models import Conversation, Message, WebhookEvent
from inbox.providers import payloads, tata_rcs, tata_whatsapp
from tests.factories import ContactFactory
from tests.inbox.tata_payloads import fixture_bytes, fixture_json, fixture_names, make_channel
from tests.inbox.ui_helpers import conversation_for, message_in

# ---------------------------------------------------------------- the provider modules parse (no database)


def test_a_whatsapp_webhook_becomes_typed_records_in_payload_order():
    records = tata_whatsapp.parse_webhook(fixture_json("wa_in_reply_context.json"))
    assert [type(r) for r in records] == [payloads.InboundMessage]
    message = records[0]
    assert message.sender.startswith("+91") and message.sender_name and message.reply_to_provider_id
    assert message.display["kind"] == "text"

    (status,) = tata_whatsapp.parse_webhook(fixture_json("wa_status_failed.json"))
    assert isinstance(status, payloads.StatusUpdate) and status.status == "failed" and status.error_code

    (system,) = tata_whatsapp.parse_webhook(fixture_json("wa_in_system_user_changed_number.json"))
    assert system.new_number.startswith("+") and system.counts_as_unread is False


@pytest.mark.parametrize("name, record", [
    ("rcs_in_suggestion_reply.json", payloads.InboundMessage),
    ("rcs_event_delivered.json", payloads.StatusUpdate),
    ("rcs_event_typing.json", payloads.Typing),
])
def test_an_rcs_webhook_becomes_one_typed_record(name, record):
    (parsed,) = tata_rcs.parse_webhook(fixture_json(name))
    assert isinstance(parsed, record)


def test_an_rcs_suggestion_tap_shows_as_a_tap_not_as_unsupported():
    (parsed,) = tata_rcs.parse_webhook(fixture_json("rcs_in_suggestion_action.json"))
    assert parsed.display["kind"] == "tap" and parsed.display["detail"] == "Tapped an action"


def test_an_order_has_one_total_for_the_list_preview_and_the_bubble():
    order = {"text": "", "product_items": [
        {"product_retailer_id": "A", "item_price": 499, "currency": "INR"},  # no quantity: counts once
        {"product_retailer_id": "B", "item_price": "250.5", "quantity": 2, "currency": "INR"},
    ]}
    assert tata_whatsapp.read_order(order).total == Decimal("1000.00")
    preview = tata_whatsapp.order_text(order)
    shown = tata_whatsapp.display("order", {"order": order}, preview, inbound=True)
    assert preview == "🛒 Order: 3 items, ₹1,000.00" and shown["total"] == "₹1,000.00"


# ---------------------------------------------------------------- ingest applies records, parsing each once


@pytest.mark.django_db
def test_a_drain_decodes_each_body_once_and_parses_each_message_once(monkeypatch):
    channel = make_channel()
    for name in fixture_names("wa_in_"):
        WebhookEvent.objects.create(source="tata_whatsapp", channel=channel, headers={}, body=fixture_bytes(name))
    decoded, parsed = [], []
    real_loads, real_parse = untrusted.loads_json, tata_whatsapp.parse_wa_message
    monkeypatch.setattr("inbox.ingest.parse.loads_json", lambda body: decoded.append(1) or real_loads(body))
    monkeypatch.setattr(tata_whatsapp, "parse_wa_message", lambda *a, **k: parsed.append(1) or real_parse(*a, **k))
    drain.drain_received()
    events = WebhookEvent.objects.count()
    assert len(decoded) == events
    assert len(parsed) == Message.objects.count() == events


@pytest.mark.django_db
def test_what_a_bubble_shows_is_stored_at_ingest_and_rendered_without_the_provider_object(logged_in, agent, sales_team):
    channel = make_channel(team=sales_team)
    WebhookEvent.objects.create(source="tata_whatsapp", channel=channel, headers={}, body=fixture_bytes("wa_in_order.json"))
    drain.drain_received()
    message = Message.objects.get()
    assert message.display["kind"] == "order" and message.display["total"] == "₹1,297.50"
    Message.objects.filter(pk=message.pk).update(content={})  # the bubble no longer reads it
    html = logged_in(agent).get(reverse("inbox:thread", args=[message.conversation_id])).content.decode()
    assert "SKU-TSHIRT-RED-M" in html and "₹1,297.50" in html


@pytest.mark.django_db
def test_rows_without_a_stored_display_get_it_from_the_same_parser():
    conversation = conversation_for()
    for name in ("wa_in_location.json", "wa_in_interactive_nfm_reply.json", "wa_in_contacts.json"):
        parsed = tata_whatsapp.parse_wa_message(fixture_json(name)["messages"])
        message = message_in(conversation, parsed.body, type=parsed.type, content=parsed.content)
        assert message.display == {}
        assert display_of(message) == parsed.display, name
    rcs = tata_rcs.parse_rcs_message(fixture_json("rcs_in_location.json"))
    message = message_in(conversation, rcs.body, type=rcs.type, content=rcs.content)
    assert display_of(message) == rcs.display and rcs.display["map_url"]


@pytest.mark.django_db
def test_record_inbound_works_outside_a_drain_and_links_what_waited_for_it():
    channel = make_channel()
    data = fixture_json("wa_in_text.json")
    reply = tata_whatsapp.parse_webhook({**data, "messages": {**data["messages"], "id": "wamid.reply", "context": {"id": "wamid.first"}}})[0]
    first = tata_whatsapp.parse_webhook({**data, "messages": {**data["messages"], "id": "wamid.first"}})[0]
    early = record_inbound(channel, reply)  # no drain around it: reads what it needs on its own
    assert early.reply_to_id is None
    original = record_inbound(channel, first)
    early.refresh_from_db()
    assert early.reply_to_id == original.pk
    assert record_inbound(channel, first) is None  # a duplicate delivery
    assert Conversation.objects.get().unread_count == 2


# ---------------------------------------------------------------- model methods own the invariants


@pytest.mark.django_db
def test_the_conversation_for_a_contact_is_opened_once_even_when_a_racer_inserted_it(monkeypatch):
    channel, contact = make_channel(), ContactFactory()
    conversation, opened = Conversation.objects.for_contact(contact, channel)
    assert opened and Conversation.objects.for_contact(contact, channel) == (conversation, False)

    other = ContactFactory()
    raced = Conversation.objects.create(channel=channel, contact=other)  # committed by a racer after our look
    real_first, looks = QuerySet.first, []

    def look_before_the_racer(queryset):
        looks.append(1)
        return None if len(looks) == 1 else real_first(queryset)

    monkeypatch.setattr(QuerySet, "first", look_before_the_racer)
    assert Conversation.objects.for_contact(other, channel, lock=True) == (raced, False)


def test_a_status_only_moves_forward_and_failed_never_undoes_a_delivery():
    message = Message(status=Message.Status.SENT)
    assert message.advance_status("delivered", None) == ["status", "status_updated_at"]
    assert message.advance_status("sent", None) == []
    assert message.advance_status("failed", None, error_code="131026", error_message="Undeliverable") == ["error_code", "error_message"]
    assert message.status == "delivered" and message.error_code == "131026"
