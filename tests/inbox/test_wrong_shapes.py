"""Payloads of the wrong shape are read by type at the parse boundary (issue #11, finding 19): each ends
`processed` with what could be read, or `unprocessable`/`ignored` with a reason in words — never with
a Python exception (AttributeError, TypeError) tripped over a string where an object belongs."""

import json

import pytest

from inbox.ingest import drain as ingest
from inbox.models import Channel, Message, WebhookEvent
from tests.inbox.tata_payloads import fixture_json, make_channel

pytestmark = pytest.mark.django_db


def _wa(change) -> dict:
    payload = fixture_json("wa_in_text.json")
    change(payload)
    return payload


CASES = [
    # (fixture-changing function, expected status, words in the reason or None)
    (lambda p: p["contacts"][0].update(profile="Asha"), "processed", None),
    (lambda p: p["contacts"][0].update(profile={"name": ["Asha"]}), "processed", None),
    (lambda p: p.update(contacts=[7, "x", None]), "processed", None),
    (lambda p: p["messages"].update(id={"nested": "id"}), "unprocessable", "without an id"),
    (lambda p: p["messages"].update(id=12345), "processed", None),
    (lambda p: p["messages"].update(id="w" * 300), "unprocessable", "longer than 255"),
    (lambda p: p["messages"].update({"from": ["919812345678"]}), "unprocessable", "without an id or a sender"),
    (lambda p: p["messages"].update(type=["text"]), "processed", None),
    (lambda p: p["messages"].update(text="just a string"), "processed", None),
    (lambda p: p["messages"].update(errors=[3.5]), "processed", None),
    (lambda p: p["messages"].update(context=["wamid.x"]), "processed", None),
    (lambda p: p["messages"].update(type="image", image={"caption": 5, "id": ["m"]}), "processed", None),
    (lambda p: p["messages"].update(type="interactive", interactive={"type": ["button_reply"]}), "processed", None),
    (lambda p: p["messages"].update(type="order", order={"product_items": [{"quantity": "lots", "item_price": "1e400"}]}), "processed", None),
    (lambda p: p["messages"].update(type="contacts", contacts=[{"name": "Ravi"}, 3]), "processed", None),
    (lambda p: p.update(messages=None, statuses=[{"id": ["x"], "status": "read"}]), "unprocessable", "without an id or a status"),
    (lambda p: p.update(messages=None, statuses=[{"id": "wamid.s", "status": {"read": True}}]), "unprocessable", "without an id or a status"),
    (lambda p: p.update(entry="not a list"), "processed", None),
    (lambda p: p.clear() or p.update(entry=[5, {"changes": "x"}]), "unprocessable", "Not a shape we know"),
]


@pytest.mark.parametrize("change, status, reason", CASES)
def test_a_whatsapp_payload_of_the_wrong_shape_settles_with_a_reason_in_words(change, status, reason):
    channel = make_channel()
    event = WebhookEvent.objects.create(source="tata_whatsapp", channel=channel, headers={}, body=json.dumps(_wa(change)).encode())
    ingest.drain_received()
    event.refresh_from_db()
    assert event.status == status, event.error
    assert "Error" not in event.error
    if reason:
        assert reason in event.error


@pytest.mark.parametrize(
    "entity, status",
    [
        ({"messageId": "m1", "text": {"rich": True}}, "processed"),
        ({"messageId": "m2", "userFile": {"payload": {"mimeType": ["image/png"], "fileName": 3, "fileSizeBytes": 1e30}}}, "processed"),
        ({"messageId": "m3", "suggestionResponse": {"postBack": "yes"}, "text": 42}, "processed"),
        ({"messageId": ["m4"], "text": "hi"}, "unprocessable"),
        ({"messageId": "m5", "sendTime": "0001-01-01T00:00:00+14:00", "text": "old"}, "processed"),
    ],
)
def test_an_rcs_message_of_the_wrong_shape_settles_with_a_reason_in_words(entity, status):
    channel = make_channel(Channel.Kind.RCS, phone="+919876500002")
    payload = {"userPhoneNumber": "+919812345678", "entityType": "USER_MESSAGE", "entity": entity}
    event = WebhookEvent.objects.create(source="tata_rcs", channel=channel, headers={}, body=json.dumps(payload).encode())
    ingest.drain_received()
    event.refresh_from_db()
    assert event.status == status, event.error
    assert "Error" not in event.error
    if status == "processed":
        assert Message.objects.get().body  # always readable on its own
