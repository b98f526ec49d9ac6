"""Text replies on RCS: queued, sent once through /rcs/messages, found by the callbacks through the id in
the send answer (RCS echoes nothing of ours), ticks to read, the reference's refusals on the bubble,
WhatsApp-only things refused, and exactly once when the answer is lost."""

import datetime
import json
import random
from unittest import mock

import pytest
import requests
import responses
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.errors import ApplicationError
from inbox import channels
from inbox.models import TATA_OMNI_BASE_URL, TATA_RCS_BASE_URL, Channel, Conversation, Message
from inbox.outbound import delivery, send
from inbox.providers import tata_rcs
from inbox.tasks import deliver_message
from inbox.templatetags.bubbles import bubble
from tests.inbox.tata_payloads import PARTNER_TOKEN, fixture_json, post_payload

RCS_API = "https://rcs.test"
SEND_URL = f"{RCS_API}/rcs/messages"
pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def rcs_channel(sales_team):
    return Channel.objects.create(
        kind=Channel.Kind.RCS, name="Support RCS", phone_number="+918000000009", api_base_url=RCS_API,
        access_token="rcs-jwt", partner_token=PARTNER_TOKEN, team=sales_team,
    )


@pytest.fixture
def rcs_conversation(rcs_channel, customer):
    return Conversation.objects.create(channel=rcs_channel, contact=customer, team=rcs_channel.team)


def callback(name: str, message_id: str) -> dict:
    """One of the rcs_* fixtures, about our message, to our customer."""
    payload = fixture_json(name)
    payload["entity"]["messageId"] = message_id
    payload["userPhoneNumber"] = "+919812345678"
    if "senderPhoneNumber" in payload["entity"]:
        payload["entity"]["senderPhoneNumber"] = "+919812345678"
    return payload


def deliver_callbacks(client, channel, payloads, capture):
    for payload in payloads:
        with capture(execute=True):
            assert post_payload(client, channel, payload).status_code == 200


@responses.activate
def test_text_reply_goes_to_rcs_messages_once_and_the_answer_id_becomes_the_message_id(rcs_conversation, agent, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, json={"id": "cbc63f46-e9df-4722-94c5-47150f77eb49"})
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(rcs_conversation, by=agent, body="Your order ships today 📦")
    message.refresh_from_db()
    assert message.status == "sent" and message.type == "text"
    assert message.provider_message_id == message.provider_request_id == "cbc63f46-e9df-4722-94c5-47150f77eb49"
    assert len(responses.calls) == 1
    call = responses.calls[0]
    assert call.request.headers["Authorization"] == "rcs-jwt"  # the reference's form, the default
    assert json.loads(call.request.body) == {"to": "+919812345678", "content": {"plainText": "Your order ships today 📦"}, "source": "sampark"}


@responses.activate
def test_bearer_form_when_the_channel_says_so(rcs_conversation, agent, django_capture_on_commit_callbacks):
    Channel.objects.filter(pk=rcs_conversation.channel_id).update(auth_scheme=Channel.AuthScheme.BEARER)
    rcs_conversation.channel.refresh_from_db()
    responses.post(SEND_URL, json={"id": "x"})
    with django_capture_on_commit_callbacks(execute=True):
        send.send_text(rcs_conversation, by=agent, body="hi")
    assert responses.calls[0].request.headers["Authorization"] == "Bearer rcs-jwt"


@responses.activate
def test_every_callback_three_times_shuffled_moves_the_ticks_to_read_on_one_row(client, rcs_conversation, agent, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, json={"id": "rcs-msg-1"})
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(rcs_conversation, by=agent, body="hello")
    payloads = [callback(n, "rcs-msg-1") for n in ("rcs_status_send_success.json", "rcs_event_delivered.json", "rcs_event_read.json")] * 3
    random.Random(14).shuffle(payloads)
    deliver_callbacks(client, rcs_conversation.channel, payloads, django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == "read"
    assert Message.objects.filter(direction="out").count() == 1  # no "sent outside Sampark" placeholder


@responses.activate
def test_delivered_then_read_in_order(client, rcs_conversation, agent, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, json={"id": "rcs-msg-2"})
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(rcs_conversation, by=agent, body="hello")
    for name, status in (("rcs_event_delivered.json", "delivered"), ("rcs_event_read.json", "read")):
        deliver_callbacks(client, rcs_conversation.channel, [callback(name, "rcs-msg-2")], django_capture_on_commit_callbacks)
        message.refresh_from_db()
        assert message.status == status


@responses.activate
def test_callbacks_that_overtake_the_send_answer_are_folded_into_the_message(client, rcs_conversation, agent, django_capture_on_commit_callbacks):
    """Tata posts DELIVERED before our worker has recorded the send answer: ingest cannot know the id yet
    and keeps a placeholder; recording the answer folds it into the message (one row, delivered)."""
    responses.post(SEND_URL, json={"id": "rcs-fast"})
    with django_capture_on_commit_callbacks(execute=False):
        message = send.send_text(rcs_conversation, by=agent, body="hello")
    real_record = delivery._record_accepted

    def callbacks_first(*args, **kwargs):
        deliver_callbacks(client, rcs_conversation.channel, [callback("rcs_status_send_success.json", "rcs-fast"), callback("rcs_event_delivered.json", "rcs-fast")], django_capture_on_commit_callbacks)
        assert Message.objects.filter(source="campaign", provider_message_id="rcs-fast").exists()
        return real_record(*args, **kwargs)

    with mock.patch.object(delivery, "_record_accepted", side_effect=callbacks_first):
        delivery.deliver(message.pk)
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == ("delivered", "rcs-fast")
    assert Message.objects.filter(direction="out").count() == 1


@responses.activate
def test_bot_conversation_limit_fails_the_message_in_the_agents_words(rcs_conversation, agent, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, status=403, json={"message": "Bot conversation limit is exceeded", "error": "Forbidden", "statusCode": 403})
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(rcs_conversation, by=agent, body="hello")
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == "bot_limit"
    assert len(responses.calls) == 1  # permanent: not retried
    html = str(bubble(Message.objects.select_related("channel").get(pk=message.pk)))
    assert "conversation limit" in html and "Not delivered" in html and 'role="alert"' in html


@responses.activate
def test_invalid_phone_number_fails_with_tatas_title(rcs_conversation, agent, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, status=400, json={"title": "Invalid Phone number", "code": 400})
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(rcs_conversation, by=agent, body="hello")
    message.refresh_from_db()
    assert message.status == "failed" and message.error_message == "Tata refused the RCS message: Invalid Phone number."


@responses.activate
def test_429_and_5xx_are_retried_then_sent_once(rcs_conversation, agent, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, status=429, json={"message": "Too Many Requests"})
    responses.post(SEND_URL, status=503, body="busy")
    responses.post(SEND_URL, json={"id": "third-time"})
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(rcs_conversation, by=agent, body="hello")
    message.refresh_from_db()
    assert message.status == "sent" and message.provider_message_id == "third-time" and len(responses.calls) == 3
    assert list(message.send_attempts.values_list("outcome", flat=True)) == ["retry", "retry", "accepted"]


@responses.activate
def test_a_lost_answer_is_never_resent_by_a_timer(rcs_conversation, agent, django_capture_on_commit_callbacks):
    """RCS callbacks cannot name a message whose send answer we lost: fail at once, a person decides."""
    responses.post(SEND_URL, body=requests.ReadTimeout("read timed out"))
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(rcs_conversation, by=agent, body="hello")
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == delivery.UNKNOWN_OUTCOME
    assert message.send_attempts.get().outcome == "unknown"
    assert len(responses.calls) == 1


@responses.activate
def test_worker_dying_mid_send_fails_after_the_stale_wait_without_the_callback_grace(rcs_conversation, agent, settings, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, json={"id": "accepted-but-lost"})
    with django_capture_on_commit_callbacks(execute=False):
        message = send.send_text(rcs_conversation, by=agent, body="exactly once")
    with mock.patch.object(delivery, "_record_accepted", side_effect=SystemExit), pytest.raises(SystemExit):
        delivery.deliver(message.pk)
    deliver_message.apply(args=[message.pk])  # redelivered: never resent blindly
    assert len(responses.calls) == 1
    started = message.send_attempts.get().started_at
    delivery.reconcile(message.pk, now=started + datetime.timedelta(seconds=settings.OUTBOUND_STALE_AFTER + 1))
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == delivery.UNKNOWN_OUTCOME
    assert len(responses.calls) == 1


@responses.activate
def test_rcs_limits_are_checked_before_queueing(rcs_conversation, agent):
    with pytest.raises(ApplicationError, match="at most 3072 characters"):
        send.send_text(rcs_conversation, by=agent, body="x" * 3073)
    assert not Message.objects.exists()


def test_whatsapp_only_kinds_and_quotes_are_refused_on_rcs(rcs_conversation, agent):
    with pytest.raises(ApplicationError, match="WhatsApp messages; on an RCS number you can send text"):
        send.send_location(rcs_conversation, by=agent, latitude=19.0, longitude=72.8)
    with pytest.raises(ApplicationError, match="Reply buttons are WhatsApp"):
        send.send_buttons(rcs_conversation, by=agent, body="Pick", buttons=["Yes"])
    with pytest.raises(ApplicationError, match="Lists are WhatsApp"):
        send.send_list(rcs_conversation, by=agent, body="Pick", button="Choose", rows=[{"title": "A"}])
    with pytest.raises(ApplicationError, match="Files sent from the composer"):
        send.send_media(rcs_conversation, by=agent, upload=SimpleUploadedFile("a.png", b"\x89PNG", content_type="image/png"))
    inbound = Message.objects.create(
        channel=rcs_conversation.channel, conversation=rcs_conversation, direction="in", body="hi",
        provider_message_id="Mx1", timestamp=datetime.datetime.now(datetime.timezone.utc),
    )
    with pytest.raises(ApplicationError, match="RCS cannot quote"):
        send.send_text(rcs_conversation, by=agent, body="hello", reply_to=inbound)
    assert "reply-action" not in str(bubble(Message.objects.select_related("channel").get(pk=inbound.pk)))
    assert not Message.objects.filter(direction="out").exists()


def test_composer_on_rcs_offers_text_only(logged_in, agent, rcs_conversation):
    client = logged_in(agent)
    page = client.get(reverse("inbox:conversation", args=[rcs_conversation.pk])).content.decode()
    assert 'id="composer-body"' in page and 'maxlength="3072"' in page
    for whatsapp_only in ('data-tab="template"', 'data-panel="location"', 'data-panel="buttons"', 'data-panel="list"', 'name="file"', "Link preview", "24 hours"):
        assert whatsapp_only not in page, whatsapp_only


def test_composer_on_whatsapp_still_offers_everything(logged_in, agent, conversation):
    page = logged_in(agent).get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    for control in ('data-tab="template"', 'data-panel="location"', 'name="file"', 'maxlength="4096"'):
        assert control in page, control


# ---------------------------------------------------------------- the channel: API host and Authorization form


def test_an_rcs_channel_defaults_to_the_rcs_api_host(db):
    rcs = Channel.objects.create(kind=Channel.Kind.RCS, name="R", phone_number="+918000000010")
    whatsapp = Channel.objects.create(name="W", phone_number="+918000000011")
    assert (rcs.api_base_url, whatsapp.api_base_url) == (TATA_RCS_BASE_URL, TATA_OMNI_BASE_URL)
    assert rcs.auth_scheme == Channel.AuthScheme.PLAIN
    rcs.kind = Channel.Kind.WHATSAPP  # switching kinds follows while the URL is one of Tata's
    rcs.save()
    assert rcs.api_base_url == TATA_OMNI_BASE_URL
    sandbox = Channel.objects.create(kind=Channel.Kind.RCS, name="S", phone_number="+918000000012", api_base_url="http://127.0.0.1:8000/sandbox/api/tata")
    assert sandbox.api_base_url == "http://127.0.0.1:8000/sandbox/api/tata"  # an admin's URL is kept


@responses.activate
def test_test_connection_says_which_form_works(rcs_channel):
    responses.post(SEND_URL, status=401, json={"status": "ERROR", "error_code": "AUTH_FAILED"}, match=[responses.matchers.header_matcher({"Authorization": "rcs-jwt"})])
    responses.post(SEND_URL, status=400, json={"title": "Invalid Phone number", "code": 400}, match=[responses.matchers.header_matcher({"Authorization": "Bearer rcs-jwt"})])
    ok, text = channels.test_connection(rcs_channel)
    assert not ok
    assert "refuses “Authorization: <token> (as the omni reference shows)” but accepts “Authorization: Bearer <token>”" in text
    rcs_channel.auth_scheme = Channel.AuthScheme.BEARER
    ok, text = channels.test_connection(rcs_channel)
    assert ok and "accepts the token sent as “Authorization: Bearer <token>”" in text


@responses.activate
def test_test_connection_on_whatsapp_uses_a_read_only_call(channel):
    responses.get(f"{channel.api_base_url}/whatsapp-cloud/media/download/0", status=424, json={"error": "GET_MEDIA_URL", "meta": {"code": 100}, "message": "Can't retrieve media url"})
    ok, text = channels.test_connection(channel)
    assert ok and "accepts the token sent as “Authorization: <token>" in text
    assert responses.calls[0].request.method == "GET"


@responses.activate
def test_test_connection_when_both_forms_are_refused_or_tata_is_down(rcs_channel):
    responses.post(SEND_URL, status=401, json={})
    ok, text = channels.test_connection(rcs_channel)
    assert not ok and "refuses the token in both forms" in text
    responses.replace(responses.POST, SEND_URL, status=503, body="down")
    ok, text = channels.test_connection(rcs_channel)
    assert not ok and "could not tell" in text


def test_the_admin_action_reports_the_result(admin_user, logged_in, rcs_channel):
    client = logged_in(admin_user)
    with mock.patch.object(tata_rcs, "check_authorization", return_value=True):
        response = client.post(
            reverse("admin:inbox_channel_changelist"),
            {"action": "test_connection", "_selected_action": [rcs_channel.pk]}, follow=True,
        )
    assert "Tata accepts the token sent as" in response.content.decode()


def test_the_api_creates_an_rcs_channel_on_the_rcs_host_with_its_auth_form(api, admin_user):
    client = api(admin_user)
    created = client.post(
        "/api/channels/", {"kind": "rcs", "name": "Support RCS", "phone_number": "+919876500031", "access_token": "jwt", "auth_scheme": "bearer"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["api_base_url"] == TATA_RCS_BASE_URL and body["auth_scheme"] == "bearer"
    assert "jwt" not in created.content.decode()  # the token stays write-only
    assert Channel.objects.get(pk=body["id"]).authorization == "Bearer jwt"
    refused = client.post("/api/channels/", {"kind": "rcs", "name": "X", "phone_number": "+919876500032", "auth_scheme": "basic"}, format="json")
    assert refused.status_code == 400 and "auth_scheme" in refused.json()


@responses.activate
def test_a_placeholder_committed_while_the_answer_is_recorded_is_folded_on_a_second_look(rcs_conversation, agent, django_capture_on_commit_callbacks):
    """The unique provider id collides once (a callback's placeholder committed meanwhile): the fold runs again."""
    from inbox.ingest import statuses as ingest

    responses.post(SEND_URL, json={"id": "rcs-race"})
    with django_capture_on_commit_callbacks(execute=False):
        message = send.send_text(rcs_conversation, by=agent, body="hello")
    real_adopt = ingest.adopt_provider_id
    calls = []

    def collide_once(target, provider_id):
        calls.append(provider_id)
        if len(calls) == 1:  # the other transaction's insert wins the unique index…
            raise delivery.IntegrityError("duplicate key value violates unique constraint")
        # …and its placeholder is visible on the second look.
        Message.objects.create(
            channel=target.channel, conversation=target.conversation, direction="out", source="campaign", type="unknown",
            body=ingest.OUTSIDE_BODY, status="delivered", provider_message_id=provider_id, timestamp=target.timestamp,
        )
        return real_adopt(target, provider_id)

    with mock.patch.object(ingest, "adopt_provider_id", side_effect=collide_once):
        delivery.deliver(message.pk)
    assert len(calls) == 2
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == ("delivered", "rcs-race")
    assert Message.objects.filter(direction="out").count() == 1
