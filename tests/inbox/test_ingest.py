"""Ingest: every fixture shape becomes the right rows, exactly once, whatever the delivery order."""

import datetime
import random
import re

import pytest
import responses

from contacts.models import Contact, ContactPhone
from inbox.ingest import drain as ingest
from inbox.models import Attachment, Conversation, Message, WebhookEvent
from tests.inbox.tata_payloads import capture_events, fixture_json, fixture_names, make_channel, post_fixture, post_payload

pytestmark = pytest.mark.django_db

CAMPAIGN_ID = "wamid.HBgMOTE5ODEyMzQ1Njc4FQIAERgSQkJCQjExMTEA"  # statuses sent/delivered/read; quoted + reacted to
FAILED_ID = "wamid.HBgMOTE5ODEyMzQ1Njc4FQIAERgSQkJCQjk5OTkA"
TEXT_ID = "wamid.HBgMOTE5ODEyMzQ1Njc4FQIAEhggQUFBQTExMTEA"


@pytest.fixture
def channel(sales_team):
    return make_channel(team=sales_team)


@pytest.fixture
def deliver(client, channel, django_capture_on_commit_callbacks):
    def post(name, target=None):
        with django_capture_on_commit_callbacks(execute=True):
            response = post_fixture(client, target or channel, name)
        assert response.status_code == 200, response.content
        return WebhookEvent.objects.get(pk=response.json()["event"])

    return post


@pytest.fixture
def deliver_payload(client, channel, django_capture_on_commit_callbacks):
    def post(payload, target=None):
        with django_capture_on_commit_callbacks(execute=True):
            response = post_payload(client, target or channel, payload)
        assert response.status_code == 200, response.content
        return WebhookEvent.objects.get(pk=response.json()["event"])

    return post


@pytest.fixture(autouse=True)
def tata_media():
    """Media downloads hit Tata's media API; answer every id with a small file."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.get(
            re.compile(r"https://tata\.test/whatsapp-cloud/media/download/.+"),
            json={"url": "https://files.test/signed?X-Amz-Signature=abc", "mime_type": "image/jpeg"},
        )
        mocked.get(re.compile(r"https://files\.test/.+"), body=b"\xff\xd8 file bytes", content_type="image/jpeg")
        mocked.get(
            re.compile(r"https://rcs-user-content-ap\.storage\.googleapis\.com/.+"), body=b"%PDF rcs", content_type="application/pdf"
        )
        yield mocked


# ---------------------------------------------------------------- the acceptance check


def test_every_whatsapp_fixture_three_times_shuffled_gives_one_message_each_and_final_statuses(deliver):
    names = [n for n in fixture_names("wa_") if not n.startswith("wa_call_")]
    deliveries = names * 3
    random.Random(20260423).shuffle(deliveries)
    for name in deliveries:
        event = deliver(name)
        assert event.status == WebhookEvent.Status.PROCESSED, (name, event.error)

    inbound_ids = [fixture_json(n)["messages"]["id"] for n in names if n.startswith("wa_in_")]
    for provider_id in inbound_ids:
        assert Message.objects.filter(provider_message_id=provider_id, direction="in").count() == 1, provider_id
    status_ids = {s["id"] for n in names if n.startswith("wa_status_") for s in fixture_json(n)["statuses"]}
    for provider_id in status_ids:
        assert Message.objects.filter(provider_message_id=provider_id, direction="out").count() == 1, provider_id
    assert Message.objects.count() == len(inbound_ids) + len(status_ids)

    campaign = Message.objects.get(provider_message_id=CAMPAIGN_ID)
    assert campaign.status == "read" and campaign.source == Message.Source.OUTSIDE_SAMPARK
    assert campaign.timestamp == datetime.datetime.fromtimestamp(1763800010, tz=datetime.timezone.utc)  # when sent
    failed = Message.objects.get(provider_message_id=FAILED_ID)
    assert failed.status == "failed" and failed.error_code == "131047"
    assert "more than 24 hours have passed" in failed.error_message
    assert Message.objects.get(provider_message_id__contains="OUTBOUNDSESSION").status == "sent"

    # Links made whatever the order: the reaction shows on its target, replies point at what they quote.
    assert campaign.reactions["in"]["emoji"] == "👍"
    reply = Message.objects.get(provider_message_id=fixture_json("wa_in_reply_context.json")["messages"]["id"])
    assert reply.reply_to.provider_message_id == TEXT_ID
    button = Message.objects.get(provider_message_id=fixture_json("wa_in_interactive_button_reply.json")["messages"]["id"])
    assert button.reply_to == campaign

    # One conversation per customer and number; unread counts each inbound message once.
    asha_conversation = Conversation.objects.get(contact__phones__number="+919812345678")
    inbound_for_asha = Message.objects.filter(conversation=asha_conversation, direction="in")
    assert asha_conversation.unread_count == inbound_for_asha.count()
    assert Attachment.objects.count() == Message.objects.filter(type__in=["image", "video", "audio", "document", "sticker"]).count()


# ---------------------------------------------------------------- each type, readable


@pytest.mark.parametrize(
    "name, kind, body",
    [
        ("wa_in_text.json", "text", "Hi, I want to know the status of my order #4521"),
        ("wa_in_image.json", "image", "This is the damaged box"),
        ("wa_in_video.json", "video", "See the noise it makes"),
        ("wa_in_audio_voice.json", "audio", "🎤 Voice message"),
        ("wa_in_audio_file.json", "audio", "🎵 Audio"),
        ("wa_in_document.json", "document", "Invoice"),
        ("wa_in_sticker.json", "sticker", "Sticker"),
        ("wa_in_location.json", "location", "📍 Andheri East Office — Andheri East, Mumbai, Maharashtra"),
        ("wa_in_contacts.json", "contacts", "👤 Ravi Kumar, Meera"),
        ("wa_in_interactive_button_reply.json", "interactive", "Track order"),
        ("wa_in_interactive_list_reply.json", "interactive", "10 Apr, 3:00 PM"),
        ("wa_in_button_template_quick_reply.json", "button", "Stop promotions"),
        ("wa_in_template_button.json", "button", "Stop promotions"),
        ("wa_in_order.json", "order", "🛒 Order: 3 items, ₹1,297.50 — Please deliver after 6 pm"),
        ("wa_in_reaction.json", "reaction", "👍"),
        ("wa_in_system_user_changed_number.json", "system", "Asha Verma changed from 919812345670 to 919812345671"),
        ("wa_in_text_forwarded.json", "text", "Forwarding the address: 12 MG Road, Pune"),
        ("wa_in_text_referral_ctwa.json", "text", "Hello! Can I get more info on this?"),
        ("wa_in_text_product_inquiry.json", "text", "Is this available in blue?"),
    ],
)
def test_each_inbound_type_gets_a_readable_body_and_keeps_the_provider_object(deliver, name, kind, body):
    deliver(name)
    message = Message.objects.get()
    assert (message.type, message.body) == (kind, body)
    assert message.content == fixture_json(name)["messages"]
    assert message.direction == "in" and message.status == "received"


def test_flow_reply_shows_the_answers_without_the_token(deliver):
    deliver("wa_in_interactive_nfm_reply.json")
    body = Message.objects.get().body
    assert body.startswith("📝 Form submitted") and "preferred date: 2025-04-12" in body and "Ring the bell twice" in body
    assert "FAKE-FLOW-TOKEN" not in body


def test_call_permission_reply_says_what_the_customer_allowed(deliver):
    deliver("wa_in_interactive_call_permission_reply.json")
    assert Message.objects.get().body.startswith("✅ Allowed WhatsApp calls until ")


def test_unsupported_message_has_a_placeholder_with_the_reason(deliver):
    deliver("wa_in_unsupported.json")
    message = Message.objects.get()
    assert message.type == "unsupported" and message.error_code == "131051"
    assert "Unsupported message (poll)" in message.body and "not supported" in message.body


def test_unknown_message_type_is_kept_not_rejected(deliver_payload):
    payload = fixture_json("wa_in_text.json")
    payload["messages"].update(type="poll_vote", poll_vote={"option": 2})
    del payload["messages"]["text"]
    event = deliver_payload(payload)
    assert event.status == WebhookEvent.Status.PROCESSED
    message = Message.objects.get()
    assert message.type == "poll_vote" and "poll_vote" in message.body and message.content["poll_vote"] == {"option": 2}


def test_error_beside_the_message_is_recorded_on_it(deliver_payload):
    payload = fixture_json("wa_in_text.json")
    payload["errors"] = [{"code": 131000, "title": "Something went wrong", "message": "Unsupported webhook payload"}]
    deliver_payload(payload)
    message = Message.objects.get()
    assert message.error_code == "131000" and message.error_message == "Unsupported webhook payload"


def test_meta_envelope_and_message_lists_are_read_too(deliver_payload):
    value = fixture_json("wa_in_text.json")
    value["messages"] = [value["messages"], {**value["messages"], "id": "wamid.second", "text": {"body": "again"}}]
    deliver_payload({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": value, "field": "messages"}]}]})
    assert sorted(Message.objects.values_list("body", flat=True)) == ["Hi, I want to know the status of my order #4521", "again"]


# ---------------------------------------------------------------- contact and conversation


def test_contact_is_created_with_the_profile_name_and_found_again(deliver):
    deliver("wa_in_text.json")
    contact = Contact.objects.get()
    assert contact.name == "Asha Verma"
    assert list(contact.phones.values_list("number", flat=True)) == ["+919812345678"]
    deliver("wa_in_image.json")  # same number
    assert Contact.objects.count() == 1 and Conversation.objects.count() == 1


def test_existing_contact_name_is_kept(deliver):
    contact = Contact.objects.create(name="Asha V. (VIP)")
    ContactPhone.objects.create(contact=contact, number="+919812345678", is_primary=True)
    deliver("wa_in_text.json")
    contact.refresh_from_db()
    assert contact.name == "Asha V. (VIP)"
    assert Conversation.objects.get().contact == contact


def test_new_conversation_goes_to_the_channel_team_and_counts(deliver, channel, sales_team):
    deliver("wa_in_text.json")
    conversation = Conversation.objects.get()
    assert conversation.team == sales_team and conversation.status == "open" and conversation.assignee is None
    assert conversation.unread_count == 1
    assert conversation.last_message_preview == "Hi, I want to know the status of my order #4521"
    sent_at = datetime.datetime.fromtimestamp(1763800000, tz=datetime.timezone.utc)
    assert conversation.last_message_at == sent_at and conversation.last_inbound_at == sent_at
    deliver("wa_in_image.json")
    conversation.refresh_from_db()
    assert conversation.unread_count == 2 and conversation.last_message_preview == "📷 Photo This is the damaged box"


@pytest.mark.parametrize("status", ["resolved", "snoozed"])
def test_resolved_or_snoozed_conversation_reopens_on_a_new_message(deliver, status, monkeypatch):
    deliver("wa_in_text.json")
    conversation = Conversation.objects.get()
    conversation.status = status
    conversation.snoozed_until = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc) if status == "snoozed" else None
    conversation.save()
    sent = capture_events(monkeypatch)
    deliver("wa_in_image.json")
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.snoozed_until is None
    assert [e[0] for e in sent].count("conversation.updated") == 1


def test_an_older_message_arriving_late_does_not_move_the_list_backwards(deliver):
    deliver("wa_in_reply_context.json")  # 1763800420
    deliver("wa_in_text.json")  # 1763800000, arrives late
    conversation = Conversation.objects.get()
    assert conversation.last_message_preview == "Any update on this?"
    assert conversation.last_inbound_at == datetime.datetime.fromtimestamp(1763800420, tz=datetime.timezone.utc)


def test_events_are_published_after_commit_to_the_conversation_audience(deliver, monkeypatch, sales_team):
    sent = capture_events(monkeypatch)
    deliver("wa_in_text.json")
    kinds = [e[0] for e in sent]
    assert kinds == ["message.created", "conversation.updated"]
    event, payload, groups = sent[0]
    message = Message.objects.get()
    assert payload["message"] == message.pk and payload["conversation"] == message.conversation_id
    assert payload["unread"] == 1 and payload["direction"] == "in"
    assert set(groups) == {"staff", f"team.{sales_team.pk}"}
    sent.clear()
    deliver("wa_in_text.json")  # a duplicate: nothing to say
    assert sent == []


def test_user_changed_number_adds_the_new_number_to_the_contact(deliver):
    deliver("wa_in_system_user_changed_number.json")
    contact = Contact.objects.get()
    assert set(contact.phones.values_list("number", flat=True)) == {"+919812345670", "+919812345671"}
    assert contact.primary_phone == "+919812345671"
    assert Conversation.objects.get().unread_count == 0  # a system notice is not a customer message


# ---------------------------------------------------------------- reactions and replies


def test_reaction_before_its_target_is_applied_when_the_target_arrives(deliver, deliver_payload):
    deliver("wa_in_reaction.json")
    reaction = Message.objects.get()
    assert reaction.reply_to is None and reaction.reply_to_provider_id == CAMPAIGN_ID
    deliver("wa_status_sent.json")  # the reacted-to message (sent from the Tata portal) becomes known
    target = Message.objects.get(provider_message_id=CAMPAIGN_ID)
    assert target.reactions["in"]["emoji"] == "👍" and target.reaction_emojis == ["👍"]
    reaction.refresh_from_db()
    assert reaction.reply_to == target


def test_an_empty_emoji_removes_the_reaction_and_an_old_one_arriving_late_does_not_restore_it(deliver, deliver_payload):
    deliver("wa_status_sent.json")
    deliver("wa_in_reaction.json")  # 👍 at 1763800360
    removal = fixture_json("wa_in_reaction.json")
    removal["messages"].update(id="wamid.removal", timestamp="1763800400", reaction={"message_id": CAMPAIGN_ID, "emoji": ""})
    deliver_payload(removal)
    target = Message.objects.get(provider_message_id=CAMPAIGN_ID)
    assert target.reaction_emojis == []
    older = fixture_json("wa_in_reaction.json")
    older["messages"].update(id="wamid.older", timestamp="1763800300", reaction={"message_id": CAMPAIGN_ID, "emoji": "😡"})
    deliver_payload(older)
    target.refresh_from_db()
    assert target.reaction_emojis == []


def test_reply_to_a_known_message_links_at_once(deliver):
    deliver("wa_in_text.json")
    deliver("wa_in_reply_context.json")
    reply = Message.objects.get(body="Any update on this?")
    assert reply.reply_to.provider_message_id == TEXT_ID and reply.reply_to_provider_id == TEXT_ID


def test_reply_to_an_unknown_message_keeps_its_id(deliver):
    deliver("wa_in_reply_context.json")
    reply = Message.objects.get()
    assert reply.reply_to is None and reply.reply_to_provider_id == TEXT_ID


# ---------------------------------------------------------------- statuses


def _our_message(channel, status="sending", **extra):
    contact = Contact.objects.create(name="Asha")
    ContactPhone.objects.create(contact=contact, number="+919812345678", is_primary=True)
    conversation = Conversation.objects.create(channel=channel, contact=contact)
    return Message.objects.create(
        channel=channel, conversation=conversation, direction="out", source="agent", type="text", body="Your order shipped",
        status=status, timestamp=datetime.datetime(2025, 11, 22, tzinfo=datetime.timezone.utc), **extra,
    )


def _status_payload(name, message, **changes):
    payload = fixture_json(name)
    payload["statuses"][0]["custom_callback_data"] = message.callback_data
    payload["statuses"][0].update(changes)
    return payload


def test_status_finds_our_message_by_callback_data_and_learns_the_provider_id(channel, deliver_payload, monkeypatch):
    message = _our_message(channel, provider_request_id="bf07a16a")
    sent = capture_events(monkeypatch)
    deliver_payload(_status_payload("wa_status_sent.json", message))
    message.refresh_from_db()
    assert message.status == "sent" and message.provider_message_id == CAMPAIGN_ID
    assert message.status_updated_at is not None
    assert Message.objects.count() == 1
    assert sent[0][0] == "message.updated" and sent[0][1] == {"message": message.pk, "conversation": message.conversation_id, "status": "sent"}


def test_biz_opaque_callback_data_is_read_too(channel, deliver_payload):
    message = _our_message(channel)
    payload = fixture_json("wa_status_delivered.json")
    payload["statuses"][0].pop("custom_callback_data")
    payload["statuses"][0]["biz_opaque_callback_data"] = message.callback_data
    deliver_payload(payload)
    message.refresh_from_db()
    assert message.status == "delivered"


def test_status_without_callback_data_finds_the_message_by_provider_id(channel, deliver):
    message = _our_message(channel, status="sent", provider_message_id=CAMPAIGN_ID)
    deliver("wa_status_delivered.json")  # its callback data "sampark-msg-0001" is not ours
    message.refresh_from_db()
    assert message.status == "delivered" and Message.objects.count() == 1


def test_status_never_moves_backwards(channel, deliver_payload):
    message = _our_message(channel)
    for name in ["wa_status_read.json", "wa_status_delivered.json", "wa_status_sent.json"]:
        deliver_payload(_status_payload(name, message))
    message.refresh_from_db()
    assert message.status == "read"


def test_failed_records_the_reason_and_never_replaces_delivered(channel, deliver_payload):
    message = _our_message(channel)
    deliver_payload(_status_payload("wa_status_failed.json", message))
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == "131047"
    assert message.error_message.startswith("Message failed to send because more than 24 hours")

    delivered = Message.objects.create(
        channel=channel, conversation=message.conversation, direction="out", type="text", body="2", status="delivered",
        timestamp=message.timestamp,
    )
    deliver_payload(_status_payload("wa_status_failed.json", delivered, id="wamid.other"))
    delivered.refresh_from_db()
    assert delivered.status == "delivered" and delivered.error_code == "131047"


def test_delivered_after_failed_wins_because_the_customer_got_it(channel, deliver_payload):
    message = _our_message(channel)
    deliver_payload(_status_payload("wa_status_failed.json", message))
    deliver_payload(_status_payload("wa_status_delivered.json", message))
    message.refresh_from_db()
    assert message.status == "delivered"


def test_played_counts_as_read(channel, deliver_payload):
    message = _our_message(channel)
    deliver_payload(_status_payload("wa_status_read.json", message, status="played"))
    message.refresh_from_db()
    assert message.status == "read"


def test_status_for_an_unknown_id_creates_an_outbound_entry_marked_as_outside(deliver, sales_team):
    deliver("wa_status_sent_service_free.json")
    message = Message.objects.get()
    assert message.direction == "out" and message.source == Message.Source.OUTSIDE_SAMPARK and message.status == "sent"
    assert message.conversation.contact.phones.get().number == "+919812345670"
    assert message.content["pricing"]["type"] == "free_customer_service"
    conversation = message.conversation
    assert conversation.team == sales_team and conversation.unread_count == 0
    assert conversation.last_message_preview == "Sent outside Sampark"


def test_a_placeholder_is_folded_into_our_message_when_its_callback_arrives(channel, deliver, deliver_payload):
    message = _our_message(channel)
    deliver("wa_status_delivered.json")  # no usable callback data: a placeholder for the id
    assert Message.objects.count() == 2
    deliver_payload(_status_payload("wa_status_sent.json", message))
    assert Message.objects.count() == 1
    message.refresh_from_db()
    assert message.provider_message_id == CAMPAIGN_ID and message.status == "delivered"


# ---------------------------------------------------------------- RCS


@pytest.fixture
def rcs_channel(sales_team):
    return make_channel("rcs", phone="+919876500002", team=sales_team)


@pytest.mark.parametrize(
    "name, kind, body",
    [
        ("rcs_in_text.json", "text", "Is the store open on Sunday?"),
        ("rcs_in_suggestion_reply.json", "suggestion", "Yes, book it"),
        ("rcs_in_suggestion_action.json", "suggestion", "View offer"),
        ("rcs_in_location.json", "location", "📍 19.0759837, 72.8776559"),
        ("rcs_in_file.json", "image", "📷 Photo"),
        ("rcs_in_file_pdf.json", "document", "📄 kyc-document.pdf"),
    ],
)
def test_rcs_user_messages(deliver, rcs_channel, name, kind, body):
    event = deliver(name, rcs_channel)
    assert event.source == "tata_rcs" and event.status == "processed", event.error
    message = Message.objects.get()
    assert (message.type, message.body, message.channel) == (kind, body, rcs_channel)
    assert message.provider_message_id == fixture_json(name)["entity"]["messageId"]


def test_rcs_file_is_downloaded_from_its_link(deliver, rcs_channel):
    deliver("rcs_in_file_pdf.json", rcs_channel)
    attachment = Attachment.objects.get()
    assert attachment.status == "ready" and attachment.file.read() == b"%PDF rcs"
    assert attachment.file_name == "kyc-document.pdf" and attachment.mime_type == "application/pdf"


def test_rcs_statuses_move_our_message_forward_and_duplicates_change_nothing(deliver, rcs_channel):
    for name in ["rcs_event_read.json", "rcs_status_send_success.json", "rcs_event_delivered.json"] * 2:
        deliver(name, rcs_channel)
    message = Message.objects.get(provider_message_id="crm-rcs-000321")
    assert message.status == "read" and message.source == "campaign"
    deliver("rcs_status_send_failure.json", rcs_channel)
    failed = Message.objects.get(provider_message_id="crm-rcs-000323")
    assert failed.status == "failed" and failed.error_message == "User is not reachable over RCS" and failed.error_code == "5"


def test_rcs_duplicates_make_one_message(deliver, rcs_channel):
    for _ in range(3):
        deliver("rcs_in_text.json", rcs_channel)
    assert Message.objects.count() == 1 and Conversation.objects.get().unread_count == 1


def test_rcs_typing_is_announced_live_but_not_stored(deliver, rcs_channel, monkeypatch):
    deliver("rcs_in_text.json", rcs_channel)
    sent = capture_events(monkeypatch)
    event = deliver("rcs_event_typing.json", rcs_channel)
    assert event.status == "ignored"
    assert [e[0] for e in sent] == ["typing"] and sent[0][1] == {"conversation": Conversation.objects.get().pk}
    assert Message.objects.count() == 1


# ---------------------------------------------------------------- concurrency-shaped duplicates


def test_the_same_event_processed_twice_changes_nothing(deliver):
    event = deliver("wa_in_image.json")
    ingest.process_event(event, force=True)
    assert Message.objects.count() == 1 and Attachment.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1


def test_rcs_contact_gets_the_name_the_event_carries_and_keeps_a_known_one(deliver_payload, rcs_channel):
    payload = fixture_json("rcs_in_text.json")
    payload["userName"] = "  Kabir Rao "
    deliver_payload(payload, rcs_channel)
    assert str(Conversation.objects.get().contact) == "Kabir Rao"

    payload = fixture_json("rcs_in_text.json")   # no name, another message: the name stays
    payload["entity"]["messageId"] = "Mx-second"
    payload["userName"] = {"not": "a name"}
    deliver_payload(payload, rcs_channel)
    assert str(Conversation.objects.get().contact) == "Kabir Rao" and Message.objects.count() == 2

    payload = fixture_json("rcs_in_text.json")   # a lone surrogate from hostile JSON is not stored as such
    payload.update(userPhoneNumber="+919812345670", displayName="Bad \ud800 name")
    payload["entity"]["messageId"] = "Mx-third"
    deliver_payload(payload, rcs_channel)
    assert Conversation.objects.filter(contact__name="Bad \ufffd name").exists()
