"""Sending: stored first (queued), sent through the task, retries, permanent errors, the window,
opt-out, media limits, and exactly-once when a worker dies between Tata's accept and our write."""

import datetime
import json
from unittest import mock

import pytest
import requests
import responses
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.errors import ApplicationError, NotAllowed
from inbox.outbound import delivery, rules, send
from inbox.models import Message, OptStatus, SendAttempt
from inbox.tasks import deliver_message, reconcile_message

from .conftest import TATA

SEND_URL = f"{TATA}/whatsapp-cloud/messages"
pytestmark = pytest.mark.django_db(transaction=False)


def body_of(call) -> dict:
    return json.loads(call.request.body)


@responses.activate
def test_text_is_stored_queued_then_sent_with_our_callback_data(conversation, agent, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, json={"id": "tata-req-1"})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = send.send_text(conversation, by=agent, body="Hello 👋\nYour order ships today", preview_url=True)
    message.refresh_from_db()
    assert message.status == "queued" and message.direction == "out" and message.sender == agent
    assert len(responses.calls) == 0  # nothing leaves before commit
    for callback in callbacks:
        callback()
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.provider_request_id == "tata-req-1"
    sent = body_of(responses.calls[0])
    assert sent["to"] == "+919812345678"
    assert sent["text"] == {"body": "Hello 👋\nYour order ships today", "preview_url": True}
    assert sent["metaData"] == {"custom_callback_data": message.callback_data}
    assert list(message.send_attempts.values_list("outcome", flat=True)) == ["accepted"]
    conversation.refresh_from_db()
    assert conversation.last_message_preview.startswith("Hello")


@responses.activate
def test_events_announce_created_and_each_status(conversation, agent, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, json={"id": "r"})
    with mock.patch("inbox.events.publish") as publish, django_capture_on_commit_callbacks(execute=True):
        send.send_text(conversation, by=agent, body="hi")
    names = [c.args[0] for c in publish.call_args_list]
    statuses = [c.args[1].get("status") for c in publish.call_args_list if c.args[0] == "message.updated"]
    assert names[0] == "message.created"
    assert statuses == ["sent"]


@responses.activate
def test_retries_5xx_and_timeouts_then_sends_once(conversation, agent, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, status=503, body="busy")
    responses.post(SEND_URL, body=requests.ConnectionError("refused"))
    responses.post(SEND_URL, json={"id": "ok"})
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(conversation, by=agent, body="hi")
    message.refresh_from_db()
    assert message.status == "sent" and len(responses.calls) == 3
    assert list(message.send_attempts.values_list("outcome", flat=True)) == ["retry", "retry", "accepted"]


@responses.activate
@pytest.mark.parametrize(
    "status,body,expected",
    [
        (401, {"status": "ERROR", "error_code": "AUTH_FAILED", "description": "JWT - Auth-Token not valid"}, "JWT - Auth-Token not valid"),
        (424, {"error": "SEND_MESSAGE", "meta": {"message": "(#131026) Message undeliverable", "code": 131026}, "message": "Can't send message"}, "Message undeliverable"),
        (400, {"message": "Invalid Phone number"}, "Invalid Phone number"),
    ],
)
def test_permanent_errors_are_not_retried_and_keep_tatas_words(conversation, agent, django_capture_on_commit_callbacks, status, body, expected):
    responses.post(SEND_URL, status=status, json=body)
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(conversation, by=agent, body="hi")
    message.refresh_from_db()
    assert len(responses.calls) == 1
    assert message.status == "failed" and expected in message.error_message


@responses.activate
def test_retry_button_requeues_a_failed_message_and_sends_it(conversation, agent, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, status=401, json={"description": "JWT - Auth-Token not valid"})
    responses.post(SEND_URL, json={"id": "second"})
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(conversation, by=agent, body="hi")
    with django_capture_on_commit_callbacks(execute=True):
        send.retry(message, by=agent)
    message.refresh_from_db()
    assert message.status == "sent" and message.error_message == "" and message.provider_request_id == "second"
    with pytest.raises(ApplicationError):
        send.retry(message, by=agent)  # only failed messages


@responses.activate
def test_retries_stop_after_the_limit(conversation, agent, settings, django_capture_on_commit_callbacks):
    settings.OUTBOUND_MAX_RETRIES = 2
    responses.post(SEND_URL, status=500, body="down")
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(conversation, by=agent, body="hi")
    message.refresh_from_db()
    assert len(responses.calls) == 3 and message.status == "failed"


# ---------------------------------------------------------------- exactly once


@responses.activate
def test_worker_dying_after_tata_accepted_never_sends_twice(conversation, agent, settings, django_capture_on_commit_callbacks):
    """Tata accepts; the worker dies before recording it. Celery redelivers the task: no second POST.
    Tata's status callback (with our callback data) settles the message; no callback → unknown_outcome."""
    responses.post(SEND_URL, json={"id": "accepted-but-lost"})
    with django_capture_on_commit_callbacks(execute=False):
        message = send.send_text(conversation, by=agent, body="exactly once please")

    class WorkerKilled(BaseException):  # like SIGKILL: nothing after this line of the task runs
        pass

    with mock.patch.object(delivery, "_record_accepted", side_effect=WorkerKilled), pytest.raises(WorkerKilled):
        delivery.deliver(message.pk)  # what the task runs
    assert len(responses.calls) == 1
    message.refresh_from_db()
    assert message.status == "sending"
    assert message.send_attempts.get().outcome == "pending"

    deliver_message.apply(args=[message.pk])  # redelivered (acks_late + reject_on_worker_lost)
    deliver_message.apply(args=[message.pk])  # and once more for good measure
    assert len(responses.calls) == 1  # never resent blindly

    started = message.send_attempts.get().started_at
    assert delivery.reconcile(message.pk, now=started + datetime.timedelta(seconds=10)).reconcile_in > 0  # may still be running
    delivery.reconcile(message.pk, now=started + datetime.timedelta(seconds=settings.OUTBOUND_STALE_AFTER + 1))
    assert message.send_attempts.get().outcome == "unknown"
    message.refresh_from_db()
    assert message.status == "sending"  # waiting for Tata's callback

    # Tata's "sent" callback arrives, carrying our callback data: the message is found and moves on.
    Message.objects.filter(pk=message.pk).update(status="sent", provider_message_id="wamid.OUT1")
    delivery.reconcile(message.pk, now=started + datetime.timedelta(seconds=settings.OUTBOUND_IN_DOUBT_GRACE + 1))
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.send_attempts.get().outcome == "accepted"
    assert len(responses.calls) == 1


@responses.activate
def test_in_doubt_without_any_callback_asks_a_person(conversation, agent, settings, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, json={"id": "lost"})
    with django_capture_on_commit_callbacks(execute=False):
        message = send.send_text(conversation, by=agent, body="hi")
    with mock.patch.object(delivery, "_record_accepted", side_effect=SystemExit), pytest.raises(SystemExit):
        delivery.deliver(message.pk)
    started = message.send_attempts.get().started_at
    reconcile_message.apply(args=[message.pk])
    delivery.reconcile(message.pk, now=started + datetime.timedelta(seconds=settings.OUTBOUND_STALE_AFTER + 1))
    delivery.reconcile(message.pk, now=started + datetime.timedelta(seconds=settings.OUTBOUND_IN_DOUBT_GRACE + 1))
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == delivery.UNKNOWN_OUTCOME
    assert "may or may not have reached" in message.error_message
    assert len(responses.calls) == 1


@responses.activate
def test_read_timeout_waits_for_a_callback_before_resending(conversation, agent, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, body=requests.ReadTimeout("read timed out"))
    with django_capture_on_commit_callbacks(execute=False):
        message = send.send_text(conversation, by=agent, body="hi")
    outcome = delivery.deliver(message.pk)
    assert outcome.retry_in >= 180  # OUTBOUND_IN_DOUBT_GRACE: Tata may have it
    message.refresh_from_db()
    assert message.status == "queued"
    # Tata's callback arrives meanwhile: the delayed retry finds the message settled and sends nothing.
    Message.objects.filter(pk=message.pk).update(status="delivered")
    deliver_message.apply(args=[message.pk])
    assert len(responses.calls) == 1


def test_two_workers_racing_claim_only_once(conversation, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        message = send.send_text(conversation, by=agent, body="hi")
    # Both workers read the message while it was still queued; only one may claim it.
    seen_by_first, seen_by_second = Message.objects.get(pk=message.pk), Message.objects.get(pk=message.pk)
    first = delivery._claim(seen_by_first)
    second = delivery._claim(seen_by_second)
    assert first is not None and second is None
    assert SendAttempt.objects.filter(message=message).count() == 1


# ---------------------------------------------------------------- rules


def test_window_closed_blocks_free_form_but_allows_templates(stale_conversation, agent, template, django_capture_on_commit_callbacks):
    with pytest.raises(rules.WindowClosed) as caught:
        send.send_text(stale_conversation, by=agent, body="hello?")
    assert "24 hours" in caught.value.message and "template" in caught.value.message
    assert not Message.objects.filter(direction="out").exists()
    from inbox.message_templates import fill

    with django_capture_on_commit_callbacks(execute=False):
        message = fill.send_template(
            stale_conversation, template, {"header_1": "A-1", "body_1": "Meera", "body_2": "A-1", "button_0": "A-1"}, by=agent
        )
    assert message.status == "queued" and message.type == "template"


def test_window_state_edges(conversation):
    now = timezone.now()
    conversation.last_inbound_at = now - datetime.timedelta(hours=23, minutes=59)
    assert rules.window_state(conversation, now).open
    conversation.last_inbound_at = now - datetime.timedelta(hours=24)
    assert not rules.window_state(conversation, now).open
    conversation.last_inbound_at = None
    assert "not written" in rules.window_state(conversation, now).reason


def test_opted_out_contact_cannot_be_messaged(conversation, agent, template, admin_user):
    OptStatus.objects.create(contact=conversation.contact, channel=conversation.channel, opted_out=True, changed_at=timezone.now(), changed_by=admin_user, reason="asked on the phone")
    with pytest.raises(rules.OptedOut) as caught:
        send.send_text(conversation, by=agent, body="hi")
    assert "opted out" in caught.value.message and "asked on the phone" in caught.value.message
    from inbox.message_templates import fill

    with pytest.raises(rules.OptedOut):
        fill.send_template(conversation, template, {"header_1": "x", "body_1": "a", "body_2": "b", "button_0": "c"}, by=agent)


def test_lapsed_auto_optin_allows_messages_again(conversation, agent):
    OptStatus.objects.create(contact=conversation.contact, channel=conversation.channel, opted_out=True,
                             changed_at=timezone.now() - datetime.timedelta(days=3), auto_optin_at=timezone.now() - datetime.timedelta(minutes=1))
    assert rules.opt_out_of(conversation.contact_id, conversation.channel_id) is None


def test_agent_of_another_team_cannot_reply(conversation, other_agent):
    with pytest.raises(NotAllowed):
        send.send_text(conversation, by=other_agent, body="hi")


def test_interactive_limits(conversation, agent):
    with pytest.raises(ApplicationError, match="at most 3"):
        send.send_buttons(conversation, by=agent, body="Pick", buttons=["a", "b", "c", "d"])
    with pytest.raises(ApplicationError, match="at most 10 rows"):
        send.send_list(conversation, by=agent, body="Menu", button="Choose", rows=[{"title": f"r{i}"} for i in range(11)])
    with pytest.raises(ApplicationError, match="longer than 20"):
        send.send_buttons(conversation, by=agent, body="Pick", buttons=["x" * 21])


@responses.activate
def test_buttons_list_and_location_go_out_in_tatas_shape(conversation, agent, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, json={"id": "r"})
    with django_capture_on_commit_callbacks(execute=True):
        send.send_buttons(conversation, by=agent, body="Pick", buttons=["Yes", "No"])
        send.send_list(conversation, by=agent, body="Menu", button="Choose", rows=[{"title": "Gold", "description": "₹999"}])
        send.send_location(conversation, by=agent, latitude="19.07", longitude="72.87", name="Store")
    sent = [body_of(c) for c in responses.calls]
    assert sent[0]["interactive"]["action"]["buttons"][1] == {"type": "reply", "reply": {"id": "btn-2", "title": "No"}}
    assert sent[1]["interactive"]["action"]["sections"][0]["rows"] == [{"id": "row-1", "title": "Gold", "description": "₹999"}]
    assert sent[2]["location"] == {"latitude": 19.07, "longitude": 72.87, "name": "Store"}


@responses.activate
def test_reply_to_quotes_the_customers_message(conversation, agent, inbound, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, json={"id": "r"})
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(conversation, by=agent, body="It ships today", reply_to=inbound)
    assert body_of(responses.calls[0])["context"] == {"message_id": "wamid.IN1"}
    assert message.reply_to == inbound


# ---------------------------------------------------------------- media


def test_media_limits_are_checked_before_anything_is_stored(conversation, agent):
    big = SimpleUploadedFile("photo.png", b"x" * (5 * 1024 * 1024 + 1), content_type="image/png")
    with pytest.raises(ApplicationError, match=r"photo.png is 5.0 MB; WhatsApp images can be at most 5 MB"):
        send.send_media(conversation, by=agent, upload=big)
    gif = SimpleUploadedFile("funny.gif", b"GIF89a", content_type="image/gif")
    with pytest.raises(ApplicationError, match="cannot send .gif files"):
        send.send_media(conversation, by=agent, upload=gif)
    assert not Message.objects.exists()


@responses.activate
def test_image_is_uploaded_then_sent_by_media_id(conversation, agent, django_capture_on_commit_callbacks):
    responses.post(f"{TATA}/whatsapp-cloud/media", json={"id": "media-77"})
    responses.post(SEND_URL, json={"id": "r"})
    upload = SimpleUploadedFile("invoice.jpg", b"\xff\xd8\xff fake jpeg", content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_media(conversation, by=agent, upload=upload, caption="Your invoice")
    assert b'filename="invoice.jpg"' in responses.calls[0].request.body
    assert body_of(responses.calls[1])["image"] == {"id": "media-77", "caption": "Your invoice"}
    attachment = message.attachments.get()
    assert attachment.provider_media_id == "media-77" and attachment.file.read() == b"\xff\xd8\xff fake jpeg"
    message.refresh_from_db()
    assert message.status == "sent"


@responses.activate
def test_failed_media_upload_fails_the_message_with_tatas_reason(conversation, agent, django_capture_on_commit_callbacks):
    responses.post(f"{TATA}/whatsapp-cloud/media", status=424, json={"error": "UPLOAD_MEDIA", "meta": {"message": "Request failed with status code 413"}, "message": "Can't upload media"})
    upload = SimpleUploadedFile("a.pdf", b"%PDF-1.4", content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_media(conversation, by=agent, upload=upload)
    message.refresh_from_db()
    assert message.status == "failed" and "Can't upload media" in message.error_message


def test_rate_limit_bucket():
    from inbox import ratelimit

    assert ratelimit.acquire(1, rate=2, now=1000.0) == 0
    assert ratelimit.acquire(1, rate=2, now=1000.0) == 0
    assert ratelimit.acquire(1, rate=2, now=1000.0) == pytest.approx(0.5)
    assert ratelimit.acquire(1, rate=2, now=1000.5) == 0  # refilled
    assert ratelimit.acquire(2, rate=2, now=1000.0) == 0  # per channel
