"""Delivery: handing a queued outbound message to Tata exactly once (`deliver`, run by the
`inbox.deliver_message` task), and settling messages whose send was interrupted (`reconcile`,
`requeue_stalled`).

Exactly once, even when a worker dies mid-send
-----------------------------------------------
`deliver()` works in three steps:

1. **claim** — one transaction locks the message row (`select_for_update`). Only a `queued` message
   is claimed: it becomes `sending` and a `SendAttempt(pending)` row is written. Commit.
2. **call** — POST /whatsapp-cloud/messages with `metaData.custom_callback_data = message.callback_data`
   (RCS: POST /rcs/messages, whose body has no field Tata echoes back).
3. **record** — one transaction closes the attempt and moves the message to sent / failed / queued.
   RCS: the id in the send answer is the id RCS callbacks carry, so it becomes the provider message
   id here (see docs/rcs.md).

If the worker dies between 2 and 3, Celery hands the task to another worker (acks_late +
reject_on_worker_lost). That run finds the message `sending` with a pending attempt: Tata may or may
not have the message, and sending again could deliver it twice. So it **does not send**. It schedules
`reconcile()`, which waits for Tata's status callbacks: they carry our callback data, so ingest moves
the message forward (sent, delivered, read, or failed) whether or not we ever saw the send response.
If no callback arrives within `OUTBOUND_IN_DOUBT_GRACE` seconds, the message is marked failed with
code `unknown_outcome` and a message saying exactly that; the agent decides whether to Retry. A
person, never a timer, takes the risk of a duplicate.

Errors where the request cannot have reached Tata (connection refused, 5xx, 429, Meta throttling)
go back to `queued` and retry with exponential backoff. When the request may have reached Tata (read
timeout, gateway timeout) the retry waits at least the grace period first, and the claim skips the
message if a callback moved it on in the meantime. Permanent errors (400, 401, 424…) fail the
message with Tata's own words; `send.retry()` puts a failed message back in the queue.

RCS differs in one place: its callbacks carry only Tata's id from the send answer, so a callback can
never settle a send whose answer we lost. Where WhatsApp waits for callbacks, an RCS message in doubt
(worker died mid-send, read timeout, gateway timeout) fails at once with `unknown_outcome`, and the
agent decides; it is never resent by a timer.

Long because: the send's exactly-once rules (claim, call, record) and the two ways out of doubt
(reconcile, requeue_stalled) read each other's states, and are checked together.
"""

import dataclasses
import datetime
import logging
import random
import time
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, Q
from django.utils import timezone

from contacts.models import ContactPhone
from core import phones
from core.tasks import enqueue
from inbox import events, ratelimit
from inbox.models import Channel, Message, SendAttempt
from inbox.outbound.rules import MEDIA_RULES
from inbox.providers import tata_rcs
from inbox.providers import tata_whatsapp as tata

logger = logging.getLogger(__name__)

UNKNOWN_OUTCOME = "unknown_outcome"

# Called with an outbound message once it is settled (sent, or failed for good). Other apps register a
# hook(message) here from AppConfig.ready() (campaigns counts its recipients), so the inbox imports none.
SETTLED_HOOKS: list[Callable[[Message], None]] = []


def enqueue_delivery(message_id: int) -> None:
    """Hand the message to a worker after commit (`inbox.deliver_message`, by name: no import of tasks)."""
    enqueue("inbox.deliver_message", message_id)


@dataclasses.dataclass
class DeliveryOutcome:
    """What the task should do next: nothing (done), retry after `retry_in` seconds, or reconcile."""

    done: bool = True
    retry_in: float | None = None
    reconcile_in: float | None = None


def deliver(message_id: int, *, retries: int = 0) -> DeliveryOutcome:
    to = ContactPhone.primary_number(OuterRef("conversation__contact_id"))  # the recipient's number, with the row
    message = Message.objects.select_related("channel", "conversation").annotate(recipient_phone=to).filter(pk=message_id).first()
    if message is None or message.direction != Message.Direction.OUTBOUND:
        return DeliveryOutcome()
    if message.status == Message.Status.SENDING:
        return DeliveryOutcome(reconcile_in=0)  # a worker died mid-send (or is still sending): never resend blindly
    if message.status != Message.Status.QUEUED:
        return DeliveryOutcome()
    wait = ratelimit.acquire(message.channel_id)
    while 0 < wait <= 1:  # a short wait is cheaper here than a round trip through the broker
        time.sleep(wait)
        wait = ratelimit.acquire(message.channel_id)
    if wait:
        return DeliveryOutcome(done=False, retry_in=wait)
    channel = message.channel
    try:
        _upload_media_if_needed(message, channel)
    except tata.TataError as exc:
        return _record_failure(message.pk, None, exc, retries=retries)

    attempt = _claim(message)
    if attempt is None:
        return DeliveryOutcome()
    if channel.kind == Channel.Kind.RCS:
        return _deliver_rcs(message, channel, attempt, retries=retries)
    payload = tata.message_payload(
        phones.to_e164(message.recipient_phone or ""),
        message.content,
        callback_data=message.callback_data,
        reply_to_provider_id=message.reply_to_provider_id,
    )
    try:
        request_id = tata.send_message(channel.api_base_url, channel.authorization, payload)
    except tata.TataError as exc:
        return _record_failure(message.pk, attempt, exc, retries=retries)
    _record_accepted(message, attempt, request_id)
    return DeliveryOutcome()


def _deliver_rcs(message: Message, channel: Channel, attempt: SendAttempt, *, retries: int) -> DeliveryOutcome:
    to = phones.to_e164(message.recipient_phone or "")
    try:
        message_id = tata_rcs.send_content(channel.api_base_url, channel.authorization, to, message.content)
    except tata.TataError as exc:
        if tata_rcs.may_have_been_accepted(exc):
            # No RCS callback can name this message (see the module docstring): a person decides.
            return _fail_in_doubt(message.pk, attempt, exc)
        return _record_failure(message.pk, attempt, exc, retries=retries)
    _record_accepted(message, attempt, message_id, provider_message_id=message_id)
    return DeliveryOutcome()


def _upload_media_if_needed(message: Message, channel: Channel) -> None:
    if message.type not in MEDIA_RULES and not (message.type == "template" and _has_media_header(message.content)):
        return  # only media messages and templates with a media header carry an attachment
    attachment = message.attachments.first()
    if attachment is None or attachment.provider_media_id:
        return
    with attachment.file.open("rb") as handle:
        content = handle.read()
    media_id = tata.upload_media(channel.api_base_url, channel.authorization, file_name=attachment.file_name, content=content, mime_type=attachment.mime_type)
    with transaction.atomic():
        attachment.provider_media_id = media_id
        attachment.save(update_fields=["provider_media_id"])
        locked = Message.objects.select_for_update().get(pk=message.pk)
        locked.content = _with_media_id(locked.content, attachment.kind, media_id)
        locked.save(update_fields=["content"])
    message.content = locked.content


def _has_media_header(content: dict) -> bool:
    return any(parameter.get("type") in MEDIA_RULES for parameter in tata.template_header_parameters(content))


def _with_media_id(content: dict, kind: str, media_id: str) -> dict:
    content = dict(content)
    if content.get("type") == "template":
        for parameter in tata.template_header_parameters(content):
            if parameter.get("type") == kind:
                parameter[kind] = {**parameter.get(kind, {}), "id": media_id}
                parameter[kind].pop("link", None)
    else:
        content[kind] = {**content.get(kind, {}), "id": media_id}
    return content


def _claim(message: Message) -> SendAttempt | None:
    """Step 1: queued → sending, with a pending attempt row, in one transaction.

    The conditional UPDATE takes the row lock and re-checks the status after any wait, so of two
    workers holding the same task exactly one claims it; the other finds nothing to update.
    """
    now = timezone.now()
    with transaction.atomic():
        claimed = Message.objects.filter(pk=message.pk, status=Message.Status.QUEUED).update(
            status=Message.Status.SENDING, status_updated_at=now
        )
        if not claimed:
            return None
        number = (SendAttempt.objects.filter(message_id=message.pk).aggregate(last=Max("number"))["last"] or 0) + 1
        attempt = SendAttempt.objects.create(message_id=message.pk, number=number, started_at=now)
        # No event: queued and sending look the same to an agent (a clock); "sent" follows in moments.
    message.status, message.status_updated_at = Message.Status.SENDING, now
    return attempt


def _record_accepted(message: Message, attempt: SendAttempt, request_id: str, *, provider_message_id: str = "") -> None:
    """Step 3 on success. A status callback may already have moved the message further: keep that
    (the conditional UPDATE re-checks the status under the row lock).

    `provider_message_id` (RCS): the id callbacks will carry. A callback that came before this answer
    was recorded made a placeholder under that id; it is folded into the message here."""
    now = timezone.now()
    with transaction.atomic():
        SendAttempt.objects.filter(pk=attempt.pk).update(
            outcome=SendAttempt.Outcome.ACCEPTED, finished_at=now, provider_request_id=request_id
        )
        if provider_message_id:
            _adopt_rcs_id(message, provider_message_id)
        not_yet_sent = Q(status__in=[Message.Status.QUEUED, Message.Status.SENDING]) | Q(
            status=Message.Status.FAILED, error_code=UNKNOWN_OUTCOME
        )
        became_sent = Message.objects.filter(not_yet_sent, pk=message.pk).update(
            provider_request_id=request_id, status=Message.Status.SENT, error_code="", error_message="", status_updated_at=now
        )
        if became_sent:
            message.status, message.error_code, message.error_message = Message.Status.SENT, "", ""
            message.status_updated_at = now
            events.message_updated(message)
        else:  # the callback that moved it on has told the browsers already
            Message.objects.filter(pk=message.pk).update(provider_request_id=request_id)
        message.provider_request_id = request_id
        _announce_settled(message)


def _adopt_rcs_id(message: Message, provider_message_id: str) -> None:
    from inbox.ingest.statuses import adopt_provider_id as _adopt_provider_id

    for last_try in (False, True):
        try:
            with transaction.atomic():  # a savepoint: the unique id may collide with a placeholder being written
                locked = Message.objects.select_for_update().get(pk=message.pk)
                if locked.provider_message_id != provider_message_id:
                    _adopt_provider_id(locked, provider_message_id)  # also folds a placeholder's status in
            break
        except IntegrityError:
            # A callback's placeholder for this id committed while we wrote: it is visible now, fold it.
            if last_try:
                raise
    if locked.status != message.status:
        events.message_updated(locked)
    message.provider_message_id, message.status = locked.provider_message_id, locked.status
    message.status_updated_at = locked.status_updated_at


def _backoff(retries: int) -> float:
    base = settings.OUTBOUND_RETRY_BASE_SECONDS
    cap = settings.OUTBOUND_RETRY_MAX_SECONDS
    return min(cap, base * (2**retries)) * random.uniform(0.8, 1.2)


def _record_failure(message_id: int, attempt: SendAttempt | None, exc: tata.TataError, *, retries: int) -> DeliveryOutcome:
    """Step 3 on failure: retry later (back to queued) or fail for good with Tata's words."""
    max_retries = settings.OUTBOUND_MAX_RETRIES
    retry = exc.retryable and retries < max_retries
    maybe_accepted = attempt is not None and tata.may_have_been_accepted(exc)
    code = (exc.code or str(exc.status_code or "network"))[:32]
    with transaction.atomic():
        message = Message.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=message_id)
        if attempt is not None:
            SendAttempt.objects.filter(pk=attempt.pk).update(
                outcome=SendAttempt.Outcome.RETRY if retry else SendAttempt.Outcome.FAILED,
                finished_at=timezone.now(), error_code=code, error_message=exc.message,
            )
        if message.status not in (Message.Status.QUEUED, Message.Status.SENDING):
            return DeliveryOutcome()  # a status callback already settled it
        message.status_updated_at = timezone.now()
        if retry:
            message.status = Message.Status.QUEUED
            message.error_code, message.error_message = code, f"Retrying: {exc.message}"
        else:
            message.status = Message.Status.FAILED
            message.error_code, message.error_message = code, exc.message
        message.save(update_fields=["status", "error_code", "error_message", "status_updated_at"])
        events.message_updated(message)
        if not retry:
            _announce_settled(message)
    if not retry:
        return DeliveryOutcome()
    delay = _backoff(retries)
    if maybe_accepted:
        # Tata may have it: give its status callback time to arrive before the claim looks again.
        delay = max(delay, settings.OUTBOUND_IN_DOUBT_GRACE)
    return DeliveryOutcome(done=False, retry_in=delay)


IN_DOUBT_TEXT = (
    "Sending was interrupted and Tata has not reported on this message. It may or may not have "
    "reached the customer; check before you retry."
)


def _fail_in_doubt(message_id: int, attempt: SendAttempt, exc: tata.TataError) -> DeliveryOutcome:
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=message_id)
        SendAttempt.objects.filter(pk=attempt.pk).update(
            outcome=SendAttempt.Outcome.UNKNOWN, finished_at=now, error_code=(exc.code or "network")[:32], error_message=exc.message
        )
        if message.status not in (Message.Status.QUEUED, Message.Status.SENDING):
            return DeliveryOutcome()
        message.status, message.error_code, message.error_message = Message.Status.FAILED, UNKNOWN_OUTCOME, IN_DOUBT_TEXT
        message.status_updated_at = now
        message.save(update_fields=["status", "error_code", "error_message", "status_updated_at"])
        events.message_updated(message)
    return DeliveryOutcome()


def reconcile(message_id: int, now: datetime.datetime | None = None) -> DeliveryOutcome:
    """Settle a message left `sending` by a worker that died after asking Tata. Never resends.

    While the attempt may still be running (younger than OUTBOUND_STALE_AFTER) it looks again later.
    Then it waits for Tata's callbacks until OUTBOUND_IN_DOUBT_GRACE has passed since the attempt
    started; ingest applies them to the message (our callback data identifies it). Still nothing:
    the message fails with `unknown_outcome` and the agent decides.
    """
    now = now or timezone.now()
    stale_after = datetime.timedelta(seconds=settings.OUTBOUND_STALE_AFTER)
    grace = datetime.timedelta(seconds=settings.OUTBOUND_IN_DOUBT_GRACE)
    with transaction.atomic():
        message = Message.objects.select_for_update(of=("self",)).select_related("conversation").filter(pk=message_id).first()
        if message is None:
            return DeliveryOutcome()
        attempt = message.send_attempts.filter(outcome__in=[SendAttempt.Outcome.PENDING, SendAttempt.Outcome.UNKNOWN]).order_by("-number").first()
        if message.status != Message.Status.SENDING:
            if attempt is not None:  # a callback settled it: now we know what became of the attempt
                outcome = SendAttempt.Outcome.FAILED if message.status == Message.Status.FAILED else SendAttempt.Outcome.ACCEPTED
                SendAttempt.objects.filter(pk=attempt.pk).update(outcome=outcome, finished_at=now)
            return DeliveryOutcome()
        if attempt is None:  # sending without an open attempt cannot happen through deliver(); heal it
            message.status = Message.Status.QUEUED
            message.save(update_fields=["status"])
            enqueue_delivery(message.pk)
            return DeliveryOutcome()
        age = now - attempt.started_at
        if age < stale_after:
            return DeliveryOutcome(done=False, reconcile_in=(stale_after - age).total_seconds())
        if attempt.outcome == SendAttempt.Outcome.PENDING:
            attempt.outcome = SendAttempt.Outcome.UNKNOWN
            attempt.error_message = "The worker stopped between asking Tata and recording the answer."
            attempt.save(update_fields=["outcome", "error_message"])
        if age < grace and message.channel.kind != Channel.Kind.RCS:  # RCS callbacks cannot name it: no wait
            return DeliveryOutcome(done=False, reconcile_in=(grace - age).total_seconds())
        attempt.finished_at = now
        attempt.save(update_fields=["finished_at"])
        message.status = Message.Status.FAILED
        message.error_code = UNKNOWN_OUTCOME
        message.error_message = IN_DOUBT_TEXT
        message.status_updated_at = now
        message.save(update_fields=["status", "error_code", "error_message", "status_updated_at"])
        events.message_updated(message)
        _announce_settled(message)
    return DeliveryOutcome()


def requeue_stalled(now: datetime.datetime | None = None) -> int:
    """Queue delivery again for messages left `queued` whose task was lost (the broker was down when
    they were queued, or a countdown retry vanished with its worker), and reconciliation for messages
    left `sending`; returns how many.

    Exactly once still holds: a delivery only sends after its claim (a conditional UPDATE from
    `queued`), so a task queued twice claims once. What the sweeper must not do is start a retry early:
    after an error that may have reached Tata the retry waits OUTBOUND_IN_DOUBT_GRACE for the status
    callback first. So a message with an earlier attempt is only taken once it has waited longer than
    any retry can be scheduled (`_requeue_after(attempted=True)`); one never attempted after
    OUTBOUND_REQUEUE_AFTER. Each message taken has its `status_updated_at` moved on, so the next sweep
    leaves it alone for as long again (a long campaign under the rate limit is not re-queued each minute).
    """
    now = now or timezone.now()
    stalled = Message.objects.filter(direction=Message.Direction.OUTBOUND, status=Message.Status.QUEUED).filter(
        Q(send_attempts__isnull=True, status_updated_at__lt=now - _requeue_after(attempted=False))
        | Q(status_updated_at__lt=now - _requeue_after(attempted=True))
    )
    requeued = 0
    for message_id in set(stalled.values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            touched = Message.objects.filter(pk=message_id, status=Message.Status.QUEUED).update(status_updated_at=now)
            if touched:
                enqueue_delivery(message_id)
                requeued += touched
    # Left `sending` past any wait for Tata's callback: the reconcile task that settles it was lost.
    # reconcile() never sends; it settles the message (or asks a person), so it is not found again.
    in_doubt = Message.objects.filter(
        direction=Message.Direction.OUTBOUND, status=Message.Status.SENDING,
        status_updated_at__lt=now - _requeue_after(attempted=True),
    ).values_list("pk", flat=True)[:1000]
    for message_id in in_doubt:
        enqueue("inbox.reconcile_message", message_id)
        requeued += 1
    if requeued:
        logger.warning("re-queued %s message(s) left queued or sending without a task", requeued)
    return requeued


def _requeue_after(*, attempted: bool) -> datetime.timedelta:
    first = settings.OUTBOUND_REQUEUE_AFTER
    if not attempted:
        return datetime.timedelta(seconds=first)
    # _backoff() draws up to 1.2 × the cap; an in-doubt retry waits the grace.
    longest_retry = max(settings.OUTBOUND_RETRY_MAX_SECONDS * 1.2, settings.OUTBOUND_IN_DOUBT_GRACE)
    return datetime.timedelta(seconds=max(first, longest_retry + 60))


def _announce_settled(message: Message) -> None:
    for hook in SETTLED_HOOKS:
        hook(message)
