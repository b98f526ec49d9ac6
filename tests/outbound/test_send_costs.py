"""What a campaign message costs the database on its way out and back: a campaign makes every one of
these run thousands of times (bench/campaign.py), so each is pinned to the statements it needs."""

import json

import pytest
import responses
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import services as campaigns
from campaigns.models import Recipient
from inbox.ingest import statuses
from inbox.ingest.readahead import BatchRows, batch_open
from inbox.models import Message, WebhookEvent
from inbox.outbound import delivery
from tests.factories import ContactPhoneFactory, LabelFactory

from .conftest import TATA

VALUES = {"header_1": "A-1", "body_1": "{first_name}", "body_2": "A-1", "button_0": "A-1"}
pytestmark = pytest.mark.django_db


def statements(queries) -> list[str]:
    """The reads and writes, without the transaction bookkeeping (which differs between databases)."""
    return [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK"))]


@pytest.fixture
def campaign(channel, template, supervisor, monkeypatch):
    monkeypatch.setattr("inbox.outbound.delivery.enqueue", lambda *a, **k: None)
    label = LabelFactory(name="diwali")
    for i in range(3):
        ContactPhoneFactory(contact__name=f"Customer {i}").contact.labels.add(label)
    return campaigns.start(by=supervisor, name="Diwali", channel=channel, template=template, values=VALUES, filters={"label": str(label.pk)})


def status_event(channel, message: Message, status: str, wamid: str) -> WebhookEvent:
    item = {"id": wamid, "status": status, "timestamp": str(int(timezone.now().timestamp())), "recipient_id": "919812345678",
            "custom_callback_data": message.callback_data}
    body = json.dumps({"statuses": [item], "businessPhoneNumber": channel.phone_number, "id": f"e-{status}"}).encode()
    return WebhookEvent.objects.create(source="tata_whatsapp", channel=channel, headers={}, body=body)


def apply_read_ahead(channel, event) -> list[str]:
    rows = BatchRows.read([event])
    (record,) = rows.records_of(event)
    with batch_open(rows), CaptureQueriesContext(db) as queries:
        statuses.apply_status(channel, record)
    return statements(queries)


@responses.activate
def test_delivering_a_campaign_message_reads_its_recipient_with_the_row_and_no_contact_or_attachment(
    campaign, django_capture_on_commit_callbacks,
):
    responses.post(f"{TATA}/whatsapp-cloud/messages", json={"id": "tata-req-1"})
    campaigns.run(campaign.pk)
    message = Message.objects.filter(type="template").order_by("pk").first()
    with CaptureQueriesContext(db) as queries, django_capture_on_commit_callbacks(execute=True):
        delivery.deliver(message.pk)
    sent = statements(queries)
    # the row with its number; claim, attempt number, attempt; close the attempt, the message; the
    # recipient with its campaign's state; the campaign's "done?" (none waits to be queued; one of
    # its messages is still unsent). No read of the contact's phones, nor of attachments (a template
    # without a media header has none), nor of the whole campaign row.
    assert len(sent) == 9, sent
    assert json.loads(responses.calls[0].request.body)["to"] == message.conversation.contact.primary_phone
    message.refresh_from_db()
    assert message.status == "sent"


def test_a_status_callback_locks_its_message_with_the_conversation_and_writes_it_once(channel, conversation):
    message = Message.objects.create(channel=channel, conversation=conversation, direction="out", type="text", body="hi",
                                     status="sent", timestamp=timezone.now(), status_updated_at=timezone.now())
    first = apply_read_ahead(channel, status_event(channel, message, "sent", "wamid.OUT1"))
    # the first status names Tata's id: it is written in the same UPDATE (no placeholder can hold an
    # id the read-ahead found unstored), and the status event's audience comes with the locked row
    assert len(first) == 2, first
    message.refresh_from_db()
    assert message.provider_message_id == "wamid.OUT1" and message.status == "sent"
    delivered = apply_read_ahead(channel, status_event(channel, message, "delivered", "wamid.OUT1"))
    assert len(delivered) == 2, delivered
    message.refresh_from_db()
    assert message.status == "delivered"


def test_a_status_with_our_callback_data_still_folds_in_a_placeholder_for_its_id(channel, conversation):
    message = Message.objects.create(channel=channel, conversation=conversation, direction="out", type="text", body="hi",
                                     status="sent", timestamp=timezone.now(), status_updated_at=timezone.now())
    Message.objects.create(channel=channel, conversation=conversation, direction="out", type="unknown", body="?",
                           source=Message.Source.OUTSIDE_SAMPARK, status="delivered", provider_message_id="wamid.OUT2",
                           timestamp=timezone.now(), status_updated_at=timezone.now())
    apply_read_ahead(channel, status_event(channel, message, "sent", "wamid.OUT2"))
    message.refresh_from_db()
    assert message.provider_message_id == "wamid.OUT2" and message.status == "delivered"
    assert Message.objects.filter(channel=channel, provider_message_id="wamid.OUT2").count() == 1


def test_the_last_settled_message_finishes_the_campaign(campaign, django_capture_on_commit_callbacks):
    campaigns.run(campaign.pk)
    Message.objects.filter(type="template").update(status="sent")
    last = Recipient.objects.filter(campaign=campaign).order_by("-pk").first().message
    with CaptureQueriesContext(db) as queries, django_capture_on_commit_callbacks(execute=True):
        campaigns.message_settled(last)
    # the recipient with its campaign's state; none waiting, none unsent; the UPDATE to done (no re-read)
    assert len(statements(queries)) == 4
    campaign.refresh_from_db()
    assert campaign.status == "done" and campaign.finished_at


def test_queuing_a_chunk_costs_the_same_statements_for_one_recipient_or_many(campaign, monkeypatch):
    counts = []
    for size in (1, 2):
        monkeypatch.setattr(campaigns, "QUEUE_CHUNK", size)
        with CaptureQueriesContext(db) as queries:
            assert campaigns._queue_chunk(campaign) == size
        counts.append(len(statements(queries)))
    # recipients, their conversations (read, create, read), their opt-outs, one INSERT of messages,
    # one UPDATE of the conversations' list fields, the recipients' results
    assert counts[0] == counts[1] == 8, counts
    for recipient in Recipient.objects.filter(campaign=campaign).select_related("message__conversation"):
        assert recipient.status == "queued" and recipient.message.status == "queued"
        assert recipient.message.conversation.last_message_preview == recipient.message.body[:200]
        assert recipient.message.body.startswith(f"Order A-1\nHi Customer, your order")
