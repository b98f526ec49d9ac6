"""Celery tasks of the inbox: thin — load, call a service."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from django.core.cache import cache

from core.tasks import backoff, enqueue_later, retry_later
from inbox import media, opt_status, services
from inbox.ingest import drain
from inbox.outbound import delivery

logger = logging.getLogger(__name__)


@shared_task(name="inbox.wake_snoozed_conversations")
def wake_snoozed_conversations() -> int:
    return services.wake_snoozed_conversations()


# ---------------------------------------------------------------- outbound (inbox.outbound.delivery explains the design)


@shared_task(bind=True, name="inbox.deliver_message", max_retries=None, acks_late=True, reject_on_worker_lost=True)
def deliver_message(self, message_id: int) -> None:
    retries = self.request.retries or 0
    try:
        outcome = delivery.deliver(message_id, retries=retries)
    except DatabaseError:
        # A lock or a lost connection is not the message's fault: try again later (a send interrupted
        # after its claim is reconciled by the next run, never resent blindly).
        if retries >= settings.OUTBOUND_MAX_RETRIES:
            raise
        logger.warning("delivering message %s hit a database error; trying again", message_id, exc_info=True)
        outcome = delivery.DeliveryOutcome(done=False, retry_in=backoff(retries))
    if outcome.reconcile_in is not None:
        enqueue_later("inbox.reconcile_message", (message_id,), outcome.reconcile_in)
    if outcome.retry_in is not None:
        raise retry_later(self, outcome.retry_in)


@shared_task(name="inbox.requeue_stalled_messages")
def requeue_stalled_messages() -> int:
    """Periodic: messages left `queued` because their task was never queued (a broker outage)."""
    return delivery.requeue_stalled()


@shared_task(name="inbox.reconcile_message", acks_late=True, reject_on_worker_lost=True)
def reconcile_message(message_id: int) -> None:
    outcome = delivery.reconcile(message_id)
    if outcome.reconcile_in is not None:
        enqueue_later("inbox.reconcile_message", (message_id,), outcome.reconcile_in)


# ---------------------------------------------------------------- ingest (inbox.ingest.drain, inbox.media)


DRAIN_RETRIES = 8  # 0.5 s, 1 s, 2 s … 60 s apart; after that the periodic drain (every minute) carries on


@shared_task(name="inbox.drain_webhook_events", acks_late=True, reject_on_worker_lost=True)
def drain_webhook_events(attempt: int = 0) -> int:
    """Apply every stored `received` webhook event (queued by the webhook; also run every minute, so a
    crash that left events behind heals by itself).

    A drain that fails (a database error, a lock it could not get) opens the webhook's gate, so the
    next webhook queues a drain again, and tries again itself after a backoff, so events that arrived
    in a burst followed by silence are applied without waiting for another webhook."""
    try:
        return drain.drain_received()
    except Exception:
        cache.delete(drain.DRAIN_FLAG)
        if attempt >= DRAIN_RETRIES:
            raise
        logger.warning("drain of webhook events failed (attempt %s); trying again", attempt + 1, exc_info=True)
        enqueue_later(drain_webhook_events, (attempt + 1,), backoff(attempt))
        return 0


@shared_task(name="inbox.download_attachment", acks_late=True, reject_on_worker_lost=True)
def download_attachment(attachment_id: int) -> None:
    """Fetch an inbound file; temporary failures are tried again later (1 min, 5 min, 30 min)."""
    try:
        media.fetch_attachment(attachment_id, auto_retry=True)
    except media.RetryLater as later:
        enqueue_later(download_attachment, (attachment_id,), later.countdown)


@shared_task(bind=True, name="inbox.sync_opt_status", max_retries=5)
def sync_opt_status(self, channel_id: int, opt_in: bool, auto_optin_days: int | None, contact_ids: list[int]) -> None:
    opt_status.sync(channel_id, opt_in, auto_optin_days, contact_ids)
