"""Draining stored webhook events: claim a batch, apply each event in its own savepoint, record outcomes.

`process_event(event)` applies one stored WebhookEvent in a single transaction (a replay), and
`drain_received()` applies every `received` one, a batch per transaction; either way each event ends
processed / ignored (known, nothing to do) / unprocessable (kept for replay, with the reason).
Applying the same event twice, or a provider's duplicate delivery, changes nothing: every provider id
is unique in the database (Message: channel + provider_message_id) and statuses only move forward.

The path of an event: inbox.webhooks stores it → `schedule_drain` queues the task
`inbox.drain_webhook_events` → here: `readahead.BatchRows.read` parses the batch once (inbox.ingest.parse,
through the provider modules) and reads the rows it names → `apply.apply_records` stores what the
records say. Sources of other apps (telephony's "smartflo") register an applier and a read-ahead below.
"""

import logging
from collections import defaultdict
from contextlib import ExitStack

from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from core.events import sent_together
from core.prepared import Prepared
from core.tasks import enqueue
from core.untrusted import clean_text
from inbox.ingest import apply
from inbox.ingest.readahead import BatchRows, batch_open
from inbox.models import WebhookEvent
from inbox.providers.payloads import Unprocessable

logger = logging.getLogger(__name__)

__all__ = ["Ignored", "Unprocessable", "SOURCE_APPLIERS", "SOURCE_READ_AHEAD", "process_event", "schedule_drain", "drain_received"]


class Ignored(Exception):
    """A known payload with nothing to do (raised by other apps' appliers; the inbox's own return a reason)."""


# Webhook sources other apps apply (telephony's Status URL: "smartflo"), registered from their
# AppConfig.ready(): source → apply(event), which returns a reason when there was nothing to do and
# raises Unprocessable / Ignored like the inbox's own. They share the drain, replay and retry rules.
SOURCE_APPLIERS: dict = {}
# source → read_ahead(events): a context manager entered around a batch's events of that source, so the
# applier reads what the whole batch needs in a few queries (as BatchRows does for the inbox's own).
SOURCE_READ_AHEAD: dict = {}

DRAIN_BATCH = 20
# A deadlock or lock timeout with a concurrent drain, or a message id it stored first, is not the
# payload's fault: the event stays `received` and is tried again, up to this many attempts in all.
TRANSIENT_ATTEMPTS = 5
DRAIN_FLAG = "inbox:drain-queued"
DRAIN_FLAG_SECONDS = 30


def process_event(event: WebhookEvent, *, force: bool = False) -> WebhookEvent:
    """Apply one stored event and record the outcome on it. Safe to call again (replay) at any time.

    Locks the event row so a replay and a worker never apply it side by side. Already-settled events
    (processed, ignored) are left alone unless `force`; rejected ones (bad signature) never run.
    """
    try:
        with transaction.atomic():
            _skip_commit_wait()
            event = WebhookEvent.objects.select_for_update(of=("self",)).select_related("channel").get(pk=event.pk)
            if event.status == WebhookEvent.Status.REJECTED:
                return event
            if not force and event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
                return event
            _apply_batch([event])
    except WebhookEvent.DoesNotExist:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever it was, it was this event's: set it aside (see _set_aside)
        return _set_aside(event.pk, exc)
    return event


def schedule_drain() -> None:
    """Ask for a drain of `received` events, unless one is queued or running (the webhook's fast path).

    The flag in the shared cache (Redis in production) is the gate: a webhook that sets it queues a
    drain, and the drain keeps it set while it works, so under load one drain runs on and webhooks
    skip queueing Celery tasks nobody needs. The flag expires after DRAIN_FLAG_SECONDS: a drain
    that runs longer gets company (drains share the work), and a queued drain that never ran is
    replaced by the next webhook's or the periodic one.

    Never raises: the event is stored, so when Redis is down the webhook still answers 200 and the
    periodic drain (CELERY_BEAT_SCHEDULE) applies it once the broker is back.
    """
    try:
        gate_opened = cache.add(DRAIN_FLAG, 1, timeout=DRAIN_FLAG_SECONDS)
    except Exception as exc:  # noqa: BLE001 - the cache is Redis; the broker is the same Redis
        logger.warning("could not queue a drain (%s: %s); the periodic drain will apply the stored event", exc.__class__.__name__, exc)
        return
    if gate_opened:
        enqueue("inbox.drain_webhook_events")


def drain_received(*, batch_size: int = DRAIN_BATCH) -> int:
    """Apply every `received` event, oldest first, a batch per transaction; returns how many.

    Batches are claimed with FOR UPDATE SKIP LOCKED, so several workers drain side by side without
    waiting on each other, and one commit covers a batch (under light load a batch is one event, so
    nothing waits for company). Each event still applies in its own savepoint: one bad payload is
    recorded as unprocessable and never undoes its neighbours.

    When it has caught up (a batch came back short) the drain opens the gate (see schedule_drain)
    and then looks once more: an event stored before the gate opened is found by that look, and one
    stored after finds the gate open and queues the next drain. The look is a read without locks, and
    only an event found waiting costs a claim.
    """
    done = 0
    while True:
        applied = _drain_batch(batch_size)
        done += applied
        if applied < batch_size:
            _open_gate()
            if not _events_waiting():  # most drains end here, without a second claim's transaction
                return done
            applied = _drain_batch(batch_size)
            done += applied
            if not applied:
                return done


_first_waiting = Prepared(lambda status: WebhookEvent.objects.filter(status=status).order_by().values_list("pk")[:1])


def _events_waiting() -> bool:
    """Whether any event is `received`, read without locks by SQL compiled once (an ORM claim that finds
    nothing cost 1 ms of this process's CPU, most of it building the SQL)."""
    return _first_waiting.first(WebhookEvent.Status.RECEIVED) is not None


def _open_gate() -> None:
    try:
        cache.delete(DRAIN_FLAG)
    except Exception as exc:  # noqa: BLE001 - Redis is down: the flag lapses by itself after DRAIN_FLAG_SECONDS
        logger.warning("could not reopen the drain gate (%s: %s)", exc.__class__.__name__, exc)


def _drain_batch(batch_size: int) -> int:
    with sent_together():  # the batch's events reach the browsers in one go once it commits
        return _claim_and_apply(batch_size)


def _claim_and_apply(batch_size: int) -> int:
    batch = []
    try:
        with transaction.atomic():
            batch = list(
                WebhookEvent.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("channel")
                .filter(status=WebhookEvent.Status.RECEIVED)
                # In the order of the (status, received_at) index: PostgreSQL then walks it and skips the
                # entries of events already applied once it has seen them dead. Ordered by pk it read every
                # such entry, and its heap page, on each claim until a vacuum (0.5 ms at 2,600 events).
                .order_by("received_at", "pk")[:batch_size]
            )
            if batch:
                _skip_commit_wait()
                _apply_batch(batch)
        return len(batch)
    except Exception:
        if not batch:
            raise  # claiming the batch failed: the database, not an event
        # Something outside the per-event savepoints failed (the read-ahead, linking, saving the
        # outcomes): the batch was rolled back. Apply its events one by one, so that only the event at
        # fault is set aside and the drain goes on; the next batch never meets it again.
        logger.exception("a batch of %s webhook events failed as a whole; applying them one by one", len(batch))
    for event in batch:
        _apply_alone(event.pk)
    return len(batch)


def _apply_alone(event_pk: int) -> None:
    try:
        with transaction.atomic():
            event = (
                WebhookEvent.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("channel")
                .filter(pk=event_pk, status=WebhookEvent.Status.RECEIVED)
                .first()
            )
            if event is not None:  # else settled or taken by another drain meanwhile
                _apply_batch([event])
    except Exception as exc:  # noqa: BLE001 - a batch of one: the fault is this event's
        _set_aside(event_pk, exc)


SET_ASIDE_PREFIX = "Set aside: processing failed outside the event's own transaction"


def _set_aside(event_pk: int, exc: Exception) -> WebhookEvent:
    """Record an event whose processing failed even on its own as `unprocessable`, with the reason, so
    that no drain picks it up again (a replay can, after a fix). A transient database error (deadlock,
    lock timeout) leaves it `received` for TRANSIENT_ATTEMPTS attempts; if even this write fails the
    database itself is failing, and that error propagates."""
    logger.error("webhook event %s set aside: %s", event_pk, exc.__class__.__name__, exc_info=exc)
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update(of=("self",)).get(pk=event_pk)
        if event.status == WebhookEvent.Status.REJECTED:
            return event
        event.attempts += 1
        transient = isinstance(exc, OperationalError) and event.attempts < TRANSIENT_ATTEMPTS
        event.status = WebhookEvent.Status.RECEIVED if transient else WebhookEvent.Status.UNPROCESSABLE
        event.error = error_text(f"{SET_ASIDE_PREFIX}: {exc.__class__.__name__}: {exc}")
        event.processed_at = None if transient else timezone.now()
        event.save(update_fields=["status", "error", "attempts", "processed_at"])
    return event


ERROR_LENGTH = 2000


def error_text(text: str) -> str:
    """An outcome's reason as stored: storable anywhere, and short (it may quote the payload)."""
    return clean_text(text)[:ERROR_LENGTH]


def _apply_batch(batch: list[WebhookEvent]) -> None:
    """Apply locked events in the current transaction and record each one's outcome."""
    rows = BatchRows.read(batch)
    with batch_open(rows):
        with ExitStack() as read_ahead:
            for source, read in SOURCE_READ_AHEAD.items():
                events = [event for event in batch if event.source == source]
                if events:
                    read_ahead.enter_context(read(events))
            _apply_each(batch, rows)
        try:
            with transaction.atomic():
                rows.link_waiting_messages()
        except DatabaseError:  # the messages are stored and each keeps the id it quotes; only the link is missing
            logger.exception("linking early replies to the messages of a batch failed")
    _save_outcomes(batch)


def _apply_each(batch: list[WebhookEvent], rows: BatchRows) -> None:
    for event in batch:
        inserted_before = len(rows.inserted)
        if not _apply_and_settle(event):
            rows.forget(inserted_since=inserted_before)


def _save_outcomes(batch: list[WebhookEvent]) -> None:
    """One UPDATE per distinct outcome, usually one for the whole batch. (bulk_update writes a CASE per
    row and field, and building it cost more than applying the events.)"""
    outcomes = defaultdict(list)
    settled_at = timezone.now()
    for event in batch:
        event.processed_at = None if event.status == WebhookEvent.Status.RECEIVED else settled_at
        event.error = error_text(event.error)
        outcomes[(event.status, event.error, event.attempts)].append(event)
    for (status, error, attempts), settled in outcomes.items():
        WebhookEvent.objects.filter(pk__in=[event.pk for event in settled]).update(
            status=status, error=error, attempts=attempts, processed_at=settled[0].processed_at
        )


def _skip_commit_wait() -> None:
    if connection.vendor == "postgresql":
        # The raw event was committed durably before we got here; if this commit is lost in a crash
        # the event is still `received` and the next drain or a replay redoes it. So skip the fsync wait.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _apply_and_settle(event: WebhookEvent) -> bool:
    """Apply one event in its own savepoint and set its outcome; False when the savepoint was rolled back."""
    event.attempts += 1
    try:
        with transaction.atomic():  # a failure undoes the partial rows but keeps the event
            ignored_because = _apply(event)
    except Ignored as exc:
        event.status, event.error = WebhookEvent.Status.IGNORED, str(exc)
    except Unprocessable as exc:
        event.status, event.error = WebhookEvent.Status.UNPROCESSABLE, str(exc)
    except (OperationalError, IntegrityError) as exc:
        retry = event.attempts < TRANSIENT_ATTEMPTS
        logger.warning("webhook event %s: %s (%s)", event.pk, exc, "will retry" if retry else "giving up")
        event.status = WebhookEvent.Status.RECEIVED if retry else WebhookEvent.Status.UNPROCESSABLE
        event.error = f"{exc.__class__.__name__}: {exc}"
    except Exception as exc:  # a bug or a shape we did not foresee: keep it for a replay after the fix
        logger.exception("webhook event %s could not be processed", event.pk)
        event.status, event.error = WebhookEvent.Status.UNPROCESSABLE, f"{exc.__class__.__name__}: {exc}"
    else:
        if ignored_because:
            event.status, event.error = WebhookEvent.Status.IGNORED, ignored_because
        else:
            event.status, event.error = WebhookEvent.Status.PROCESSED, ""
        return True
    return False


def _apply(event: WebhookEvent) -> str | None:
    """Apply the payload; returns why nothing was stored when it was known but needs nothing."""
    if event.source in SOURCE_APPLIERS:
        return SOURCE_APPLIERS[event.source](event)
    channel = event.channel
    if channel is None:
        raise Unprocessable("The channel this event arrived on no longer exists.")
    with batch_open() as rows:
        return apply.apply_records(channel, rows.records_of(event))
