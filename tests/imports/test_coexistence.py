"""WhatsApp coexistence webhooks (history, echoes, the phone's contacts), in Meta's and Tata's envelopes."""

import datetime
import json
import random

import pytest
from django.urls import reverse

from contacts.models import Contact, ContactPhone
from imports.coexistence import MEDIA_PLACEHOLDER, MEDIA_PLACEHOLDER_BODY
from imports.models import ImportJob
from inbox.models import Attachment, Conversation, Message, WebhookEvent
from inbox.outbound.rules import window_state
from inbox.providers import meta_coexistence as meta
from tests.inbox.tata_payloads import capture_events, fixture_json, fixture_names, make_channel, post_payload

pytestmark = pytest.mark.django_db
ENVELOPES = ["meta", "tata"]
HISTORY_IDS = ["wamid.HIST0001", "wamid.HIST0002", "wamid.HIST0003", "wamid.HIST0004"]


@pytest.fixture
def channel(sales_team):
    return make_channel(team=sales_team)


@pytest.fixture
def deliver(client, channel, django_capture_on_commit_callbacks):
    def post(name_or_payload) -> WebhookEvent:
        payload = fixture_json(name_or_payload) if isinstance(name_or_payload, str) else name_or_payload
        with django_capture_on_commit_callbacks(execute=True):
            response = post_payload(client, channel, payload)
        assert response.status_code == 200
        return WebhookEvent.objects.get(pk=response.json()["event"])

    return post


# ---------------------------------------------------------------- parsing (provider module)


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_history_chunk_reads_into_typed_records_in_both_envelopes(envelope):
    found = meta.read(fixture_json(f"coex_history_{envelope}.json"), "+919876500001")
    assert found.rest is None and len(found.history) == 1
    chunk = found.history[0]
    assert (chunk.phase, chunk.chunk_order, chunk.progress, chunk.count()) == (1, 1, 55, 4)
    records = list(chunk.messages())
    assert [(r.customer, r.outbound, r.provider_id, r.status) for r in records] == [
        ("919812345678", True, "wamid.HIST0001", "read"),
        ("919812345678", False, "wamid.HIST0002", "received"),
        ("919812345678", True, "wamid.HIST0003", "read"),
        ("919800011122", True, "wamid.HIST0004", "delivered"),
    ]
    assert records[0].timestamp == datetime.datetime(2025, 8, 12, 12, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_declined_echoes_and_contacts_read_in_both_envelopes(envelope):
    declined = meta.read(fixture_json(f"coex_history_declined_{envelope}.json"), "+919876500001")
    assert declined.history[0].declined == "History sharing is turned off by the business"
    echoes = meta.read(fixture_json(f"coex_echo_{envelope}.json"), "+919876500001").echoes
    assert [(e.customer, e.provider_id) for e in echoes] == [("919812345678", "wamid.ECHO0001")]
    contacts = meta.read(fixture_json(f"coex_state_sync_{envelope}.json"), "+919876500001").contacts
    assert [(c.phone, c.action, c.full_name) for c in contacts] == [("919800033344", "add", "Pablo Morales"), ("919800055566", "remove", "")]


def test_ordinary_payload_is_left_to_the_whatsapp_path():
    payload = fixture_json("wa_in_text.json")
    found = meta.read(payload, "+919876500001")
    assert not found.found and found.rest == payload


@pytest.mark.parametrize("garbage", [{"history": "x"}, {"history": [1, None, {"threads": "no"}]}, {"message_echoes": [{"id": 5}]},
                                     {"state_sync": [{"contact": []}]}, {"entry": [{"changes": [{"field": "history", "value": []}]}]}])
def test_hostile_shapes_read_without_raising(garbage):
    found = meta.read(garbage, "+919876500001")
    assert all(list(chunk.messages()) == [] for chunk in found.history)


# ---------------------------------------------------------------- history applied


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_history_lands_with_times_directions_and_no_inbox_side_effects(deliver, channel, monkeypatch, envelope):
    sent = capture_events(monkeypatch)
    event = deliver(f"coex_history_{envelope}.json")
    assert event.status == WebhookEvent.Status.PROCESSED, event.error
    job = ImportJob.objects.get(webhook_event=event)
    assert (job.kind, job.status, job.imported_count, job.total) == (ImportJob.Kind.HISTORY_WEBHOOK, ImportJob.Status.DONE, 4, 4)
    rows = list(Message.objects.order_by("timestamp", "pk"))
    assert [(m.provider_message_id, m.direction, m.source, m.status) for m in rows] == [
        ("wamid.HIST0001", "out", "import", "read"),
        ("wamid.HIST0002", "in", "import", "received"),
        ("wamid.HIST0003", "out", "import", "read"),
        ("wamid.HIST0004", "out", "import", "delivered"),
    ]
    assert rows[2].type == MEDIA_PLACEHOLDER and rows[2].body == MEDIA_PLACEHOLDER_BODY
    assert rows[1].timestamp == datetime.datetime(2025, 8, 12, 12, 1, tzinfo=datetime.UTC)
    for conversation in Conversation.objects.all():
        assert (conversation.unread_count, conversation.assignee_id, conversation.last_message_at, conversation.last_inbound_at) == (0, None, None, None)
        assert conversation.status == Conversation.Status.RESOLVED
        assert not window_state(conversation).open
    assert not [e for e in sent if e[0] in ("message.created", "conversation.updated", "notification")]


def test_history_does_not_reorder_or_reopen_an_existing_conversation(deliver, channel):
    deliver("wa_in_text.json")  # a live message: the conversation is open with its last activity
    conversation = Conversation.objects.get()
    conversation.status = Conversation.Status.RESOLVED
    conversation.save()
    before = Conversation.objects.values("last_message_at", "last_message_preview", "unread_count", "last_inbound_at").get()
    deliver("coex_history_meta.json")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.RESOLVED
    assert Conversation.objects.filter(pk=conversation.pk).values("last_message_at", "last_message_preview", "unread_count", "last_inbound_at").get() == before


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_declined_history_is_recorded_as_the_events_outcome(deliver, envelope):
    event = deliver(f"coex_history_declined_{envelope}.json")
    assert event.status == WebhookEvent.Status.IGNORED and "turned off by the business" in event.error
    assert not Message.objects.exists() and not ImportJob.objects.exists()


@pytest.mark.parametrize("envelope", ENVELOPES)
@pytest.mark.parametrize("media_first", [False, True])
def test_media_follow_up_fills_the_placeholder(deliver, envelope, media_first):
    order = [f"coex_history_{envelope}.json", f"coex_history_media_{envelope}.json"]
    for name in reversed(order) if media_first else order:
        assert deliver(name).status == WebhookEvent.Status.PROCESSED
    message = Message.objects.get(provider_message_id="wamid.HIST0003")
    assert (message.type, message.body, message.direction) == ("image", "Your parcel", "out")
    attachment = Attachment.objects.get(message=message)
    assert attachment.provider_media_id == "24230790383178626"
    assert Message.objects.count() == 4
    assert not Contact.objects.filter(phones__number="+919876500001").exists()  # the business is nobody's contact


def test_media_follow_up_fills_a_placeholder_its_status_made(deliver):
    status = {"statuses": [{"id": "wamid.HIST0003", "status": "read", "timestamp": "1755000130", "recipient_id": "919812345678"}],
              "businessPhoneNumber": "+919876500001", "id": "s"}  # fmt: skip
    deliver(status)
    deliver("coex_history_media_meta.json")
    message = Message.objects.get()
    assert (message.type, message.body, message.status) == ("image", "Your parcel", "read")
    assert message.attachments.get().provider_media_id == "24230790383178626"


def test_a_huge_history_webhook_is_applied_in_bounded_batches(deliver, channel, monkeypatch):
    monkeypatch.setattr("imports.services.BATCH_SIZE", 50)
    progress = []
    monkeypatch.setattr("imports.services.announce", lambda job: progress.append(job.processed))
    event = deliver(history_payload(230))
    assert event.status == WebhookEvent.Status.PROCESSED
    assert Message.objects.count() == 230
    assert progress[:5] == [50, 100, 150, 200, 230]


def test_a_thread_without_its_customer_id_reads_the_customer_from_its_messages(deliver):
    payload = history_payload(3)
    del payload["history"][0]["threads"][0]["id"]
    for message in payload["history"][0]["threads"][0]["messages"]:
        message["to"] = "919812345678" if message["from"] == "919876500001" else "919876500001"
    event = deliver(payload)
    assert ImportJob.objects.get(webhook_event=event).status == ImportJob.Status.DONE
    assert set(Message.objects.values_list("conversation__contact__phones__number", flat=True)) == {"+919812345678"}
    assert Message.objects.count() == 3


def test_the_same_history_twice_counts_every_row_a_duplicate_the_second_time(deliver):
    deliver(history_payload(30))
    second = deliver({**history_payload(30), "id": "bulk-again"})
    job = ImportJob.objects.get(webhook_event=second)
    assert (job.imported_count, job.duplicate_count, Message.objects.count()) == (0, 30, 30)


def history_payload(n: int, *, customer="919812345678", start=1755000000) -> dict:
    messages = [
        {"from": "919876500001" if i % 2 else customer, "id": f"wamid.BULK{i:07d}", "timestamp": str(start + 7 * i), "type": "text",
         "text": {"body": f"message {i}"}, "history_context": {"status": "DELIVERED"}}
        for i in range(n)
    ]  # fmt: skip
    return {"messaging_product": "whatsapp", "history": [{"metadata": {"phase": 1, "chunk_order": 1, "progress": 100},
            "threads": [{"id": customer, "messages": messages}]}], "businessPhoneNumber": "+919876500001", "id": "bulk"}  # fmt: skip


# ---------------------------------------------------------------- echoes and the phone's contacts


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_echo_is_the_business_outbound_message_marked_sent_from_phone(deliver, monkeypatch, envelope):
    sent = capture_events(monkeypatch)
    assert deliver(f"coex_echo_{envelope}.json").status == WebhookEvent.Status.PROCESSED
    message = Message.objects.get()
    assert (message.direction, message.source, message.status, message.body) == ("out", "phone", "sent", "Sending the invoice from my phone now")
    assert message.get_source_display().startswith("Sent from the phone")
    conversation = message.conversation
    assert conversation.unread_count == 0 and conversation.last_message_at == message.timestamp
    assert not window_state(conversation).open
    assert [e for e in sent if e[0] == "message.created"]


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_phone_contacts_are_added_and_never_deleted(deliver, envelope):
    Contact.objects.create(name="").phones.create(number="+919800055566", is_primary=True)
    event = deliver(f"coex_state_sync_{envelope}.json")
    assert event.status == WebhookEvent.Status.PROCESSED
    assert ContactPhone.objects.get(number="+919800033344").contact.name == "Pablo Morales"
    assert ContactPhone.objects.filter(number="+919800055566").exists()


def test_the_phone_name_never_overwrites_a_crm_name(deliver):
    Contact.objects.create(name="Pablo (wholesale)").phones.create(number="+919800033344", is_primary=True)
    deliver("coex_state_sync_meta.json")
    assert ContactPhone.objects.get(number="+919800033344").contact.name == "Pablo (wholesale)"


# ---------------------------------------------------------------- every fixture three times, shuffled


def test_every_coexistence_fixture_three_times_shuffled_gives_one_row_each(deliver):
    names = fixture_names("coex_")
    deliveries = names * 3
    random.Random(20261202).shuffle(deliveries)
    for name in deliveries:
        event = deliver(name)
        assert event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED), (name, event.error)
    for provider_id in [*HISTORY_IDS, "wamid.ECHO0001"]:
        assert Message.objects.filter(provider_message_id=provider_id).count() == 1, provider_id
    assert Message.objects.count() == 5
    assert Message.objects.get(provider_message_id="wamid.HIST0003").type == "image"
    assert Attachment.objects.count() == 1
    assert ContactPhone.objects.filter(number="+919800033344").count() == 1


def test_fixtures_are_valid_json_objects():
    for name in fixture_names("coex_"):
        assert isinstance(json.loads(json.dumps(fixture_json(name))), dict)


def test_the_thread_marks_an_echo_as_sent_from_the_phone(client, deliver, admin_user):
    deliver("coex_echo_tata.json")
    client.force_login(admin_user)
    page = client.get(reverse("inbox:conversation", args=[Message.objects.get().conversation_id])).content.decode()
    assert "Sent from the phone (WhatsApp Business app)" in page and "Sending the invoice from my phone now" in page


def test_a_history_job_shows_on_the_import_pages_for_admins(client, deliver, admin_user):
    job = ImportJob.objects.get(webhook_event=deliver("coex_history_tata.json"))
    client.force_login(admin_user)
    assert job.file_name in client.get(reverse("imports:upload")).content.decode()
    page = client.get(reverse("imports:job", args=[job.pk]))
    assert page.status_code == 200 and 'data-count="imported">4<' in page.content.decode() and "sent by WhatsApp" in page.content.decode()


def test_a_text_from_the_business_number_itself_is_an_ordinary_message(deliver, channel):
    """Only media sent by the business's own number are history follow-ups; a text is applied as ever."""
    from sandbox import omni

    _, body = omni.customer_message(channel, channel.phone_number, name="Same number", text="hello from the shop phone")
    event = deliver(json.loads(body))
    assert event.status == WebhookEvent.Status.PROCESSED, event.error
    assert Message.objects.get().body == "hello from the shop phone"
