"""Replies and reactions point only at messages of their own conversation (issue #11, finding 9).

A customer who names the provider id of a message in someone else's conversation (on the same
number) neither quotes it — which would show another audience's words in their thread — nor changes
its reactions. Whatever the delivery order.
"""

import json

import pytest

from inbox.ingest import drain as ingest
from inbox.models import Message, WebhookEvent
from tests.inbox.tata_payloads import fixture_json, make_channel

pytestmark = pytest.mark.django_db

PRIVATE_ID = "wamid.private-message-of-another-customer"
OTHER_CUSTOMER = "919800000111"
INTRUDER = "919800000222"


def _store(channel, payload: dict) -> WebhookEvent:
    return WebhookEvent.objects.create(source="tata_whatsapp", channel=channel, headers={}, body=json.dumps(payload).encode())


def _text(message_id: str, sender: str, **extra) -> dict:
    payload = fixture_json("wa_in_text.json")
    payload["messages"].update(id=message_id, **{"from": sender}, **extra)
    payload["contacts"][0]["wa_id"] = sender
    return payload


def _reaction(message_id: str, sender: str, target: str) -> dict:
    payload = fixture_json("wa_in_reaction.json")
    payload["messages"].update(id=message_id, reaction={"message_id": target, "emoji": "😈"}, **{"from": sender})
    payload["contacts"][0]["wa_id"] = sender
    return payload


@pytest.mark.parametrize("target_first", [True, False], ids=["target-stored-first", "target-arrives-later"])
def test_a_reply_or_reaction_naming_another_conversations_message_is_not_linked(target_first):
    channel = make_channel()
    private = _text(PRIVATE_ID, OTHER_CUSTOMER)
    intrusions = [
        _text("wamid.intruder-reply", INTRUDER, context={"from": OTHER_CUSTOMER, "id": PRIVATE_ID}),
        _reaction("wamid.intruder-reaction", INTRUDER, PRIVATE_ID),
    ]
    for payload in ([private, *intrusions] if target_first else [*intrusions, private]):
        _store(channel, payload)
        ingest.drain_received()  # one at a time: the order of arrival is the point

    target = Message.objects.get(provider_message_id=PRIVATE_ID)
    assert target.reactions == {}  # not changed by someone outside its conversation
    for provider_id in ("wamid.intruder-reply", "wamid.intruder-reaction"):
        intruder = Message.objects.get(provider_message_id=provider_id)
        assert intruder.reply_to is None  # rendered as "a message not in Sampark", never as a quote of the private one
        assert intruder.conversation != target.conversation
    assert not WebhookEvent.objects.exclude(status="processed").exists()


def test_replies_and_reactions_within_the_conversation_still_link_in_one_batch():
    channel = make_channel()
    _store(channel, _text("wamid.reply", OTHER_CUSTOMER, context={"id": "wamid.own"}))
    _store(channel, _reaction("wamid.react", OTHER_CUSTOMER, "wamid.own"))
    _store(channel, _text("wamid.own", OTHER_CUSTOMER))
    ingest.drain_received()
    own = Message.objects.get(provider_message_id="wamid.own")
    assert Message.objects.get(provider_message_id="wamid.reply").reply_to == own
    assert own.reactions["in"]["emoji"] == "😈"


def test_the_migration_unlinks_replies_already_linked_across_conversations():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("inbox.migrations.0006_queued_sweep_index_and_unlink_cross_conversation_replies")
    channel = make_channel()
    for payload in (_text(PRIVATE_ID, OTHER_CUSTOMER), _text("wamid.intruder", INTRUDER), _text("wamid.own-reply", OTHER_CUSTOMER)):
        _store(channel, payload)
    ingest.drain_received()
    private = Message.objects.get(provider_message_id=PRIVATE_ID)
    Message.objects.filter(provider_message_id__in=["wamid.intruder", "wamid.own-reply"]).update(reply_to=private)  # as before the fix

    migration.unlink_cross_conversation_replies(apps, None)

    assert Message.objects.get(provider_message_id="wamid.intruder").reply_to is None
    assert Message.objects.get(provider_message_id="wamid.own-reply").reply_to == private
