"""A Redis outage (issue #11, finding 7): stored webhooks still get their 200, and work whose task was
lost — replies queued meanwhile, events stored meanwhile — is picked up by the periodic sweepers."""

import datetime

import pytest
import responses
from django.conf import settings as django_settings
from django.utils import timezone

from inbox.outbound import delivery, send
from inbox.models import Message, SendAttempt, WebhookEvent
from inbox.tasks import drain_webhook_events, requeue_stalled_messages
from tests.inbox.tata_payloads import make_channel, post_fixture

from .conftest import TATA

SEND_URL = f"{TATA}/whatsapp-cloud/messages"
pytestmark = pytest.mark.django_db

# Nothing listens on port 1: every Redis call fails the way it does in an outage.
REDIS_DOWN = {"default": {"BACKEND": "core.cache.SharedPoolRedisCache", "LOCATION": "redis://127.0.0.1:1/3"}}


def test_webhooks_answer_200_for_stored_events_while_redis_is_down_and_the_periodic_drain_applies_them(client, settings):
    settings.CACHES = REDIS_DOWN
    channel = make_channel()
    response = post_fixture(client, channel, "wa_in_text.json")
    assert response.status_code == 200  # was 500: schedule_drain's cache.add raised after the insert
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert event.status == "received"

    settings.CACHES = django_settings.CACHES  # Redis is back; beat runs the drain
    assert drain_webhook_events.apply().get() == 1
    event.refresh_from_db()
    assert event.status == "processed" and Message.objects.filter(direction="in").count() == 1


def test_the_drain_itself_survives_a_cache_outage(settings):
    from tests.inbox.tata_payloads import fixture_bytes

    channel = make_channel()
    WebhookEvent.objects.create(source="tata_whatsapp", channel=channel, headers={}, body=fixture_bytes("wa_in_text.json"))
    settings.CACHES = REDIS_DOWN
    assert drain_webhook_events.apply().get() == 1


@pytest.fixture
def lost_tasks(monkeypatch):
    """The broker is down: enqueue() cannot queue anything (robust on_commit logs it and goes on)."""
    monkeypatch.setattr("inbox.outbound.delivery.enqueue", lambda *args, **kwargs: None)


@responses.activate
def test_a_reply_queued_during_the_outage_is_sent_once_by_the_sweeper(
    conversation, agent, lost_tasks, monkeypatch, settings, django_capture_on_commit_callbacks
):
    responses.post(SEND_URL, json={"id": "tata-req-sweep"})
    message = send.send_text(conversation, by=agent, body="sent while Redis was down")
    assert Message.objects.get(pk=message.pk).status == "queued"

    now = timezone.now()
    monkeypatch.undo()  # the broker is back
    assert delivery.requeue_stalled(now=now + datetime.timedelta(seconds=30)) == 0  # may still be on its way
    later = now + datetime.timedelta(seconds=settings.OUTBOUND_REQUEUE_AFTER + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.requeue_stalled(now=later) == 1
    message.refresh_from_db()
    assert message.status == "sent"
    assert delivery.requeue_stalled(now=later + datetime.timedelta(hours=1)) == 0
    assert len(responses.calls) == 1


def test_a_requeued_message_is_claimed_once_even_if_its_lost_task_turns_up(conversation, agent, lost_tasks, monkeypatch, settings):
    message = send.send_text(conversation, by=agent, body="exactly once")
    monkeypatch.undo()
    delivered = []
    monkeypatch.setattr("inbox.outbound.delivery.enqueue_delivery", delivered.append)
    later = timezone.now() + datetime.timedelta(seconds=settings.OUTBOUND_REQUEUE_AFTER + 1)
    assert delivery.requeue_stalled(now=later) == 1
    assert delivered == [message.pk]
    assert delivery.requeue_stalled(now=later + datetime.timedelta(seconds=5)) == 0  # not again each minute
    seen_by_sweeper, seen_by_lost_task = Message.objects.get(pk=message.pk), Message.objects.get(pk=message.pk)
    assert delivery._claim(seen_by_sweeper) is not None
    assert delivery._claim(seen_by_lost_task) is None
    assert SendAttempt.objects.filter(message=message).count() == 1


def test_a_retry_that_may_have_reached_tata_is_not_started_early(conversation, agent, lost_tasks, monkeypatch, settings):
    """After a read timeout the retry waits OUTBOUND_IN_DOUBT_GRACE for Tata's callback: the sweeper
    must not send it sooner than the retry itself would."""
    message = send.send_text(conversation, by=agent, body="in doubt")
    attempt = SendAttempt.objects.create(message=message, number=1, started_at=timezone.now(), outcome="retry")
    Message.objects.filter(pk=message.pk).update(status_updated_at=attempt.started_at)
    monkeypatch.undo()
    delivered = []
    monkeypatch.setattr("inbox.outbound.delivery.enqueue_delivery", delivered.append)
    soon = attempt.started_at + datetime.timedelta(seconds=settings.OUTBOUND_IN_DOUBT_GRACE)
    assert delivery.requeue_stalled(now=soon) == 0
    longest = max(settings.OUTBOUND_RETRY_MAX_SECONDS * 1.2, settings.OUTBOUND_IN_DOUBT_GRACE) + 61
    assert delivery.requeue_stalled(now=attempt.started_at + datetime.timedelta(seconds=longest)) == 1
    assert delivered == [message.pk]


def test_the_sweeper_runs_on_the_beat_schedule():
    schedule = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"inbox.requeue_stalled_messages", "inbox.drain_webhook_events"} <= schedule
    assert requeue_stalled_messages.apply().get() == 0


def test_a_message_left_sending_whose_reconcile_task_was_lost_is_settled_without_resending(
    conversation, agent, lost_tasks, monkeypatch, settings, django_capture_on_commit_callbacks
):
    message = send.send_text(conversation, by=agent, body="worker died, then Redis")
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    SendAttempt.objects.create(message=message, number=1, started_at=long_ago)
    Message.objects.filter(pk=message.pk).update(status="sending", status_updated_at=long_ago)
    monkeypatch.undo()
    with responses.RequestsMock() as nothing_sent, django_capture_on_commit_callbacks(execute=True):
        assert delivery.requeue_stalled() == 1
        assert not nothing_sent.calls
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == delivery.UNKNOWN_OUTCOME  # a person decides
    assert delivery.requeue_stalled() == 0


def test_a_redis_that_stops_answering_holds_a_webhook_about_a_second_not_minutes(client, settings):
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the backlog; nothing is ever answered
    try:
        settings.CACHES = {"default": {
            "BACKEND": "core.cache.SharedPoolRedisCache", "LOCATION": f"redis://127.0.0.1:{silent.getsockname()[1]}/3",
            "OPTIONS": django_settings.REDIS_CACHE_OPTIONS,
        }}
        started = time.monotonic()
        assert post_fixture(client, make_channel(), "wa_in_text.json").status_code == 200
        assert time.monotonic() - started < 5
    finally:
        silent.close()
