"""Bulk sends of a template (WhatsApp) or a saved rich message (RCS) to a filtered set of contacts, with
live progress and a result per recipient.

`start()` stores the campaign and one Recipient per contact, then `run()` (a task) turns the pending
recipients into queued template messages, a chunk per transaction: the chunk's recipient rows are
locked and updated in the same transaction as their messages, so a re-run never queues a contact
twice, and one commit (and one read of the chunk's conversations) covers QUEUE_CHUNK messages instead
of each paying its own. Delivery goes through inbox.outbound like every other message, so the
per-number token bucket keeps the campaign within the provider's throughput.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from accounts.selectors import STAFF_GROUP, can_manage_contacts_in_bulk, user_group
from campaigns.models import Campaign, Recipient
from contacts import selectors as contact_selectors
from contacts.models import Contact
from core.errors import ApplicationError, NotAllowed
from core.events import publish
from core.tasks import enqueue
from inbox.message_templates import fill
from inbox.models import Channel, Conversation, Message, RichSnippet, Template
from inbox.rich import service as rich

# Recipients queued per transaction. Their messages reach the workers when it commits, so a chunk is
# small enough that sending starts soon (50 take ~0.5 s of CPU: 10 ms each, measured in process).
QUEUE_CHUNK = 50


AUDIENCE_FILTERS = ("q", "label", "owner")


def audience(user: User, filters: dict):
    """The contacts a filter selects, as the contacts list shows them to this user."""
    contacts = contact_selectors.visible_contacts(user)
    contacts = contact_selectors.search_contacts(contacts, filters.get("q", ""))
    return contact_selectors.filter_contacts(contacts, user=user, label=filters.get("label") or None, owner=filters.get("owner") or None)


def audience_chosen(filters: dict) -> bool:
    """A campaign goes to a search, a label or an owner's contacts; every contact only when asked for."""
    return any(filters.get(key) for key in AUDIENCE_FILTERS) or bool(filters.get("everyone"))


def recipients_of(user: User, filters: dict) -> list[int]:
    """The ids of the contacts with a phone that a campaign with these filters goes to (none until chosen)."""
    if not audience_chosen(filters):
        return []
    return list(audience(user, filters).filter(phones__isnull=False).distinct().values_list("pk", flat=True))


def recipient_count(user: User, filters: dict) -> int:
    return audience(user, filters).filter(phones__isnull=False).distinct().count() if audience_chosen(filters) else 0


def describe_audience(filters: dict, *, labels: dict, owners: dict) -> str:
    """The audience in words, for the confirmation step: "label vip, search “Meera”", "every contact"."""
    parts = []
    if filters.get("q"):
        parts.append(f"search “{filters['q']}”")
    if filters.get("label"):
        parts.append(f"label {labels.get(filters['label'], '?')}")
    if filters.get("owner"):
        parts.append("no owner" if filters["owner"] == "none" else f"owned by {owners.get(filters['owner'], '?')}")
    return ", ".join(parts) or "every contact"


def check(*, by: User, channel: Channel, template: Template, values: dict, filters: dict) -> list[int]:
    """Everything `start` requires, without sending: returns the recipients' contact ids, which the
    confirmation step counts."""
    if not can_manage_contacts_in_bulk(by):
        raise NotAllowed("Only supervisors and admins send campaigns.")
    if template.channel_id != channel.pk or template.status.upper() != "APPROVED":
        raise ApplicationError("Choose an approved template of this number.")
    if not audience_chosen(filters):
        raise ApplicationError("Choose who receives it: a search, a label or an owner, or tick “Every contact”.")
    contacts = recipients_of(by, filters)
    if not contacts:
        raise ApplicationError("The filter selects no contacts with a phone number.")
    sample = Contact.objects.get(pk=contacts[0])
    fill.send_components(template, values, contact=sample)  # every blank filled? (raises)
    return contacts


def check_rich(*, by: User, channel: Channel, snippet: RichSnippet | None, filters: dict) -> list[int]:
    """`check` for an RCS campaign: a rich snippet the sender may use, checked like a send."""
    if not can_manage_contacts_in_bulk(by):
        raise NotAllowed("Only supervisors and admins send campaigns.")
    if channel.kind != Channel.Kind.RCS or snippet is None:
        raise ApplicationError("Choose a saved rich message for this RCS number.")
    rich.snippet_for(by, snippet.pk)  # shared, or the sender's own
    rich.check_spec(snippet.spec)
    if not audience_chosen(filters):
        raise ApplicationError("Choose who receives it: a search, a label or an owner, or tick “Every contact”.")
    contacts = recipients_of(by, filters)
    if not contacts:
        raise ApplicationError("The filter selects no contacts with a phone number.")
    return contacts


def start_rich(*, by: User, name: str, channel: Channel, snippet: RichSnippet, filters: dict) -> Campaign:
    """An RCS campaign: the snippet's message, as it is now, to every contact the filter selects."""
    contacts = check_rich(by=by, channel=channel, snippet=snippet, filters=filters)
    return _create(by, contacts, name=name.strip() or f"{snippet.name} — {timezone.localtime():%d %b %H:%M}", channel=channel,
                   snippet=snippet, rich_spec=snippet.spec, filters={k: v for k, v in filters.items() if v})


def start(*, by: User, name: str, channel: Channel, template: Template, values: dict, filters: dict) -> Campaign:
    contacts = check(by=by, channel=channel, template=template, values=values, filters=filters)
    return _create(by, contacts, name=name.strip() or f"{template.name} — {timezone.localtime():%d %b %H:%M}", channel=channel,
                   template=template, values=values, filters={k: v for k, v in filters.items() if v})


def _create(by: User, contacts: list[int], **fields) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.create(created_by=by, **fields)
        Recipient.objects.bulk_create([Recipient(campaign=campaign, contact_id=pk) for pk in contacts], batch_size=1000)
        enqueue("campaigns.run_campaign", campaign.pk)
        _announce(campaign)
    return campaign


def run(campaign_id: int) -> int:
    """Queue a template message for every pending recipient; returns how many were handled."""
    campaign = Campaign.objects.select_related("channel", "template").get(pk=campaign_id)
    handled = 0
    while campaign.status == Campaign.Status.RUNNING:
        queued = _queue_chunk(campaign)
        if not queued:
            break
        handled += queued
        Campaign.objects.filter(pk=campaign.pk).update(problem="", retry_at=None, progressed_at=timezone.now())
        campaign.refresh_from_db(fields=["status", "problem", "retry_at", "progressed_at"])
        _announce(campaign)
    _finish_if_settled(campaign)
    return handled


def record_problem(campaign_id: int, error: Exception, *, retry_in: float | None) -> None:
    """A queuing step failed: say why on the campaign's page, and when it is tried again."""
    retry_at = timezone.now() + datetime.timedelta(seconds=retry_in) if retry_in is not None else None
    Campaign.objects.filter(pk=campaign_id).update(problem=(str(error) or error.__class__.__name__)[:500], retry_at=retry_at)
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is not None:
        _announce(campaign)


# A running campaign whose queuing has not moved for this long is resumed by the periodic job (its
# process may have stopped, or its retries given up).
STALLED_AFTER = datetime.timedelta(minutes=2)
# Messages queued longer than this are named on the campaign's page as waiting to be sent.
SLOW_SEND_AFTER = datetime.timedelta(minutes=5)


def resume_stalled(now: datetime.datetime | None = None) -> int:
    """Queue a run of every running campaign with waiting recipients whose queuing stopped moving."""
    now = now or timezone.now()
    stalled = (
        Campaign.objects.filter(status=Campaign.Status.RUNNING, recipients__status=Recipient.Status.PENDING)
        .filter(Q(progressed_at__lt=now - STALLED_AFTER) | Q(progressed_at__isnull=True, created_at__lt=now - STALLED_AFTER))
        .filter(Q(retry_at__isnull=True) | Q(retry_at__lt=now))
        .distinct()
    )
    ids = list(stalled.values_list("pk", flat=True))
    for campaign_id in ids:
        enqueue("campaigns.run_campaign", campaign_id)
    return len(ids)


def obstacles(campaign: Campaign, progress: dict, now: datetime.datetime | None = None) -> list[str]:
    """Why a running campaign is not moving, in words for its page (empty when nothing holds it up)."""
    if campaign.status != Campaign.Status.RUNNING:
        return []
    now = now or timezone.now()
    reasons = []
    if campaign.problem:
        when = (
            f"Trying again at {timezone.localtime(campaign.retry_at):%H:%M:%S}."
            if campaign.retry_at and campaign.retry_at > now
            else "Sampark keeps trying every few minutes."
        )
        reasons.append(f"Queuing the messages stopped: {campaign.problem}. {when}")
    elif progress["pending"] and (campaign.progressed_at or campaign.created_at) < now - STALLED_AFTER:
        since = timezone.localtime(campaign.progressed_at or campaign.created_at)
        reasons.append(f"Queuing has not moved since {since:%H:%M}; Sampark resumes it within a minute.")
    slow = Message.objects.filter(
        campaign_recipient__campaign=campaign, status__in=[Message.Status.QUEUED, Message.Status.SENDING],
        created_at__lt=now - SLOW_SEND_AFTER,
    )
    waiting = slow.count()
    if waiting:
        retrying = slow.exclude(error_message="").values_list("error_message", flat=True).first()
        detail = retrying or "no sender has picked them up yet" + (
            "" if settings.CELERY_TASK_ALWAYS_EAGER else "; is a Celery worker running (make worker)?"
        )
        reasons.append(f"{waiting} message{'s have' if waiting != 1 else ' has'} waited more than {SLOW_SEND_AFTER.seconds // 60} minutes to be sent: {detail}")
    return reasons


def _queue_chunk(campaign: Campaign) -> int:
    """Queue up to QUEUE_CHUNK pending recipients in one transaction; returns how many it handled.

    Rows another run holds are skipped, not waited for (that run queues them). A recipient the
    template cannot go to (opted out, a blank its contact cannot fill) is skipped with the reason;
    any other error rolls the whole chunk back, and the run is tried again (run_campaign)."""
    with transaction.atomic():
        batch = list(
            campaign.recipients.filter(status=Recipient.Status.PENDING).select_related("contact")
            .select_for_update(skip_locked=True, of=("self",))[:QUEUE_CHUNK]
        )
        if not batch:
            return 0
        conversations, created = Conversation.objects.for_contacts([recipient.contact for recipient in batch], campaign.channel)
        chunk = [conversations[recipient.contact_id] for recipient in batch]
        if campaign.rich_spec is not None:  # RCS: the rich message saved when it started
            outcomes = [_send_rich(conversation, campaign.rich_spec) for conversation in chunk]
        else:
            outcomes = fill.send_templates(chunk, campaign.template, campaign.values)
        for recipient, outcome in zip(batch, outcomes):
            if isinstance(outcome, ApplicationError):
                recipient.status, recipient.reason = Recipient.Status.SKIPPED, outcome.message[:500]
            else:
                recipient.status, recipient.message = Recipient.Status.QUEUED, outcome
        Recipient.objects.bulk_update(batch, ["status", "reason", "message"])
        # A skipped recipient leaves no empty conversation behind (queued one by one, its savepoint took it back).
        skipped = [conversations[r.contact_id].pk for r in batch if r.status == Recipient.Status.SKIPPED and r.contact_id in created]
        if skipped:
            Conversation.objects.filter(pk__in=skipped, messages__isnull=True).delete()
    return len(batch)


def _send_rich(conversation: Conversation, spec: dict) -> Message | ApplicationError:
    try:
        return rich.send_rich(conversation, by=None, spec=spec)
    except ApplicationError as exc:
        return exc


def cancel(campaign: Campaign, *, by: User) -> Campaign:
    """Stop queuing; messages already queued still go out."""
    if not can_manage_contacts_in_bulk(by):
        raise NotAllowed("Only supervisors and admins manage campaigns.")
    with transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.RUNNING).update(status=Campaign.Status.CANCELLED, finished_at=timezone.now())
        campaign.refresh_from_db()
        campaign.recipients.filter(status=Recipient.Status.PENDING).update(status=Recipient.Status.SKIPPED, reason="Campaign cancelled")
        _announce(campaign)
    return campaign


def message_settled(message: Message) -> None:
    """Called by inbox.outbound when a campaign message is sent or fails for good."""
    found = Recipient.objects.filter(message=message).values_list("campaign_id", "campaign__status", "campaign__created_by_id")[:1]
    if not found:
        return
    campaign = Campaign(pk=found[0][0], status=found[0][1], created_by_id=found[0][2])
    # After commit: two of a campaign's last messages settling side by side, each in its own
    # transaction, each saw the other still sending, and neither finished the campaign (PostgreSQL).
    # Checked after each commit, the later of the two sees both.
    transaction.on_commit(lambda: _settle(campaign), robust=True)


def _settle(campaign: Campaign) -> None:
    """`campaign` carries only its id, status and creator: what finishing and announcing it read."""
    _finish_if_settled(campaign)
    _announce(campaign)


def _finish_if_settled(campaign: Campaign) -> None:
    """Done once no recipient waits to be queued and no message waits to be sent. Called for every sent
    message of a campaign, so each step is one cheap query: waiting recipients through the campaign's
    index (found at once while queuing goes on), then the newest recipients' messages first (the last
    queued are the last sent), instead of one join over every recipient for every message. (One UPDATE
    carrying both as NOT EXISTS let PostgreSQL walk every recipient for every message.)"""
    if campaign.status != Campaign.Status.RUNNING:
        return
    if campaign.recipients.filter(status=Recipient.Status.PENDING).exists():
        return
    unsent = campaign.recipients.filter(message__status__in=[Message.Status.QUEUED, Message.Status.SENDING]).order_by("-pk")
    if not unsent.values_list("pk", flat=True)[:1]:
        finished_at = timezone.now()
        if Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.RUNNING).update(status=Campaign.Status.DONE, finished_at=finished_at):
            campaign.status, campaign.finished_at = Campaign.Status.DONE, finished_at


RESULTS = ("pending", "queued", "sent", "delivered", "read", "failed", "skipped")


def progress(campaign: Campaign) -> dict:
    """Counts per result: pending (not yet queued), queued (includes sending), sent, delivered, read, failed,
    skipped; `waiting` is pending + queued. The list and the detail page both show these (campaigns/_counts.html)."""
    rows = campaign.recipients.values("status", "message__status").annotate(n=Count("pk"))
    counts = dict.fromkeys(RESULTS, 0)
    for row in rows:
        counts[result_of(row["status"], row["message__status"])] += row["n"]
    total = sum(counts.values())
    waiting = counts["pending"] + counts["queued"]
    done = total - waiting
    return {**counts, "total": total, "waiting": waiting, "done": done, "percent": int(100 * done / total) if total else 100}


def result_of(recipient_status: str, message_status: str | None) -> str:
    if recipient_status != Recipient.Status.QUEUED:
        return recipient_status
    if message_status in (Message.Status.QUEUED, Message.Status.SENDING):
        return "queued"
    return message_status or "failed"


def _announce(campaign: Campaign) -> None:
    groups = {STAFF_GROUP}
    if campaign.created_by_id:
        groups.add(user_group(campaign.created_by_id))
    publish("campaign.updated", {"campaign": campaign.pk, "status": campaign.status}, groups)


def merge_recipients(keep: Contact, duplicate: Contact) -> None:
    """Contact merge hook: a campaign that reached both contacts keeps one recipient row."""
    both = Recipient.objects.filter(contact=keep).values_list("campaign_id", flat=True)
    Recipient.objects.filter(contact=duplicate, campaign_id__in=list(both)).delete()
