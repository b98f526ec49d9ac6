"""A campaign that cannot progress says why on its page, tries again with backoff, and is resumed by
the periodic job; the campaign list and the detail page show the same counts."""

import datetime
import re

import pytest
import responses
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from campaigns import services as campaigns
from campaigns import tasks as campaign_tasks
from campaigns.models import Campaign, Recipient
from inbox.models import Conversation, Message, OptStatus
from tests.factories import ContactPhoneFactory, LabelFactory

from .conftest import TATA

VALUES = {"header_1": "A-1", "body_1": "{first_name}", "body_2": "A-1", "button_0": "A-1"}


@pytest.fixture
def retries(monkeypatch):
    scheduled = []
    monkeypatch.setattr(campaign_tasks, "enqueue_later", lambda task, args, countdown, **o: scheduled.append((task.name, args, countdown)))
    return scheduled


@pytest.fixture
def audience(db):
    label = LabelFactory(name="diwali")
    for i in range(3):
        ContactPhoneFactory(contact__name=f"Customer {i}").contact.labels.add(label)
    return {"label": str(label.pk)}


@pytest.fixture
def campaign(channel, template, supervisor, audience):
    """Started, but its run has not happened yet (on-commit callbacks are not run here)."""
    return campaigns.start(by=supervisor, name="Diwali", channel=channel, template=template, values=VALUES, filters=audience)


def test_a_failed_step_says_why_on_the_page_and_tries_again(campaign, retries, monkeypatch, logged_in, supervisor):
    monkeypatch.setattr(campaigns, "_queue_chunk", lambda *a: (_ for _ in ()).throw(OperationalError("database is locked")))
    assert campaign_tasks.run_campaign(campaign.pk) == 0
    assert retries == [("campaigns.run_campaign", (campaign.pk, 1), 0.5)]
    campaign.refresh_from_db()
    assert campaign.problem == "database is locked"
    assert campaign.retry_at and campaign.retry_at - timezone.now() < datetime.timedelta(seconds=1)
    assert campaign_tasks.run_campaign(campaign.pk, 5) == 0  # a later attempt waits longer: 16 s
    assert retries[-1] == ("campaigns.run_campaign", (campaign.pk, 6), 16)

    page = logged_in(supervisor).get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "Queuing the messages stopped: database is locked. Trying again at" in page
    listing = logged_in(supervisor).get(reverse("campaigns:list")).content.decode()
    assert "Stopped: database is locked" in listing


@responses.activate
def test_the_retry_that_succeeds_clears_the_problem(campaign, retries, monkeypatch, django_capture_on_commit_callbacks):
    responses.post(f"{TATA}/whatsapp-cloud/messages", json={"id": "ok"})
    real = campaigns._queue_chunk
    monkeypatch.setattr(campaigns, "_queue_chunk", lambda *a: (_ for _ in ()).throw(OperationalError("database is locked")))
    campaign_tasks.run_campaign(campaign.pk)
    monkeypatch.setattr(campaigns, "_queue_chunk", real)
    with django_capture_on_commit_callbacks(execute=True):
        assert campaign_tasks.run_campaign(campaign.pk, 1) == 3
    campaign.refresh_from_db()
    assert campaign.problem == "" and campaign.retry_at is None and campaign.progressed_at
    assert campaign.status == "done" and campaigns.progress(campaign)["percent"] == 100


def test_after_the_last_retry_the_page_says_the_periodic_job_carries_on(campaign, retries, monkeypatch):
    monkeypatch.setattr(campaigns, "_queue_chunk", lambda *a: (_ for _ in ()).throw(OperationalError("disk I/O error")))
    with pytest.raises(OperationalError):
        campaign_tasks.run_campaign(campaign.pk, campaign_tasks.RUN_RETRIES)
    campaign.refresh_from_db()
    assert campaign.retry_at is None
    assert campaigns.obstacles(campaign, campaigns.progress(campaign)) == [
        "Queuing the messages stopped: disk I/O error. Sampark keeps trying every few minutes."
    ]


def test_the_periodic_job_resumes_campaigns_whose_queuing_stopped_moving(campaign, channel, template, supervisor, audience, monkeypatch):
    queued = []
    monkeypatch.setattr(campaigns, "enqueue", lambda task, *args: queued.append((task, args)))
    later = timezone.now() + campaigns.STALLED_AFTER + datetime.timedelta(seconds=1)
    fresh = campaigns.start(by=supervisor, name="Fresh", channel=channel, template=template, values=VALUES, filters=audience)
    Campaign.objects.filter(pk=fresh.pk).update(progressed_at=later - datetime.timedelta(seconds=5))
    waiting_retry = campaigns.start(by=supervisor, name="Retrying", channel=channel, template=template, values=VALUES, filters=audience)
    Campaign.objects.filter(pk=waiting_retry.pk).update(retry_at=later + datetime.timedelta(seconds=30))
    queued.clear()
    assert campaigns.resume_stalled(now=later) == 1
    assert queued == [("campaigns.run_campaign", (campaign.pk,))]
    assert "Queuing has not moved since" in campaigns.obstacles(campaign, campaigns.progress(campaign), now=later)[0]


def test_messages_waiting_to_be_sent_are_named(campaign, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("inbox.outbound.delivery.enqueue", lambda *a, **k: None)  # nobody sends them
    campaigns.run(campaign.pk)
    later = timezone.now() + campaigns.SLOW_SEND_AFTER + datetime.timedelta(seconds=1)
    reasons = campaigns.obstacles(campaign, campaigns.progress(campaign), now=later)
    assert reasons == ["3 messages have waited more than 5 minutes to be sent: no sender has picked them up yet"]
    Message.objects.filter(type="template").update(error_message="Retrying: Tata did not answer")
    assert campaigns.obstacles(campaign, campaigns.progress(campaign), now=later)[-1].endswith("Retrying: Tata did not answer")


@responses.activate
def test_the_list_and_the_detail_page_show_the_same_counts(campaign, logged_in, supervisor, django_capture_on_commit_callbacks):
    responses.post(f"{TATA}/whatsapp-cloud/messages", json={"id": "ok"})
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.run(campaign.pk)
    messages = Message.objects.filter(type="template").order_by("pk")
    Message.objects.filter(pk=messages[0].pk).update(status="read")
    Message.objects.filter(pk=messages[1].pk).update(status="delivered")
    client = logged_in(supervisor)
    counts = re.compile(r'<span class="counts">.*?</span></span>', re.S)
    on_detail = counts.search(client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()).group(0)
    on_list = counts.search(client.get(reverse("campaigns:list")).content.decode()).group(0)
    assert on_detail == on_list
    assert "1 delivered" in on_list and "1 read" in on_list and "1 sent" in on_list and "100% of 3" in on_list
    assert Recipient.objects.filter(campaign=campaign, status="queued").count() == 3


def test_a_chunk_reads_its_conversations_together_and_creates_the_missing(campaign, channel, django_assert_num_queries):
    contacts = [r.contact for r in Recipient.objects.filter(campaign=campaign).select_related("contact")]
    existing = Conversation.objects.create(channel=channel, contact=contacts[0], team=channel.team)
    with django_assert_num_queries(3):  # read, insert the missing, read them
        found, created = Conversation.objects.for_contacts(contacts, channel)
    assert found[contacts[0].pk] == existing and created == {contacts[1].pk, contacts[2].pk}
    assert {c.contact_id for c in found.values()} == {c.pk for c in contacts}
    assert Conversation.objects.filter(channel=channel).count() == 3
    with django_assert_num_queries(1):
        assert Conversation.objects.for_contacts(contacts, channel) == (found, set())


def test_queuing_goes_by_chunks_each_recipient_with_its_message(campaign, channel, monkeypatch):
    monkeypatch.setattr(campaigns, "QUEUE_CHUNK", 2)
    monkeypatch.setattr("inbox.outbound.delivery.enqueue", lambda *a, **k: None)
    assert campaigns._queue_chunk(campaign) == 2
    assert Recipient.objects.filter(campaign=campaign, status="queued").count() == 2
    assert campaigns.run(campaign.pk) == 1
    recipients = Recipient.objects.filter(campaign=campaign).select_related("message__conversation")
    assert all(r.status == "queued" and r.message.conversation.contact_id == r.contact_id for r in recipients)
    assert campaigns._queue_chunk(campaign) == 0


def test_a_sent_message_finishes_its_campaign_only_when_nothing_waits(campaign, monkeypatch, django_assert_max_num_queries,
                                                                      django_capture_on_commit_callbacks):
    monkeypatch.setattr("inbox.outbound.delivery.enqueue", lambda *a, **k: None)
    monkeypatch.setattr(campaigns, "QUEUE_CHUNK", 2)
    campaigns._queue_chunk(campaign)
    first = Message.objects.filter(type="template").order_by("pk").first()
    Message.objects.filter(pk=first.pk).update(status="sent")
    with django_capture_on_commit_callbacks(execute=True), django_assert_max_num_queries(2):  # the recipient with its campaign; a recipient still waits to be queued
        campaigns.message_settled(first)
    campaigns.run(campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == "running"  # two messages are still queued
    Message.objects.filter(type="template").update(status="sent")
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.message_settled(first)
    campaign.refresh_from_db()
    assert campaign.status == "done" and campaign.finished_at


def test_whether_a_campaign_is_done_is_decided_after_the_settling_message_commits(campaign, monkeypatch,
                                                                                 django_capture_on_commit_callbacks):
    """Decided inside the settling transaction, the last two messages settling side by side each saw
    the other still sending, and the campaign never finished."""
    monkeypatch.setattr("inbox.outbound.delivery.enqueue", lambda *a, **k: None)
    campaigns.run(campaign.pk)
    Message.objects.filter(type="template").update(status="sent")
    first = Message.objects.filter(type="template").order_by("pk").first()
    with django_capture_on_commit_callbacks() as after_commit:
        campaigns.message_settled(first)
        campaign.refresh_from_db()
        assert campaign.status == "running"
    for callback in after_commit:
        callback()
    campaign.refresh_from_db()
    assert campaign.status == "done"


def test_a_skipped_recipient_leaves_no_empty_conversation(campaign, channel, monkeypatch):
    monkeypatch.setattr("inbox.outbound.delivery.enqueue", lambda *a, **k: None)
    first = Recipient.objects.filter(campaign=campaign).order_by("pk").first()
    OptStatus.objects.create(contact=first.contact, channel=channel, opted_out=True, changed_at=timezone.now())
    campaigns.run(campaign.pk)
    first.refresh_from_db()
    assert first.status == "skipped" and "opted out" in first.reason
    assert not Conversation.objects.filter(channel=channel, contact=first.contact).exists()
    assert Conversation.objects.filter(channel=channel).count() == 2


def test_a_skipped_recipients_own_conversation_stays(campaign, channel, monkeypatch):
    monkeypatch.setattr("inbox.outbound.delivery.enqueue", lambda *a, **k: None)
    first = Recipient.objects.filter(campaign=campaign).order_by("pk").first()
    own = Conversation.objects.create(channel=channel, contact=first.contact, team=channel.team)
    OptStatus.objects.create(contact=first.contact, channel=channel, opted_out=True, changed_at=timezone.now())
    campaigns.run(campaign.pk)
    assert Conversation.objects.filter(pk=own.pk).exists()
