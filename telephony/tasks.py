"""Celery tasks of telephony: thin — load, call a service."""

from celery import shared_task

from core.tasks import enqueue_later
from telephony import live, recordings, services


@shared_task(name="telephony.fetch_recording", acks_late=True, reject_on_worker_lost=True)
def fetch_recording(call_id: int) -> None:
    """Copy a call's recording from the provider's expiring link; temporary failures retry (1, 5, 30 min)."""
    try:
        recordings.fetch(call_id)
    except recordings.RetryLater as later:
        enqueue_later(fetch_recording, (call_id,), later.countdown)


@shared_task(name="telephony.fetch_pending_recordings", acks_late=True, reject_on_worker_lost=True)
def fetch_pending_recordings() -> int:
    """One worker walks the recordings an import found, one at a time (a backfill of thousands of
    calls queues this once per page, not a task per call)."""
    return recordings.fetch_pending()


@shared_task(name="telephony.run_import", acks_late=True, reject_on_worker_lost=True)
def run_import(import_id: int) -> None:
    services.run_import(import_id)


@shared_task(name="telephony.sync_recent_calls")
def sync_recent_calls() -> list[int]:
    return services.sync_recent()


@shared_task(name="telephony.poll_live_calls", ignore_result=True)
def poll_live_calls() -> list[str]:
    """Every few seconds (beat): the live calls of each watched Smartflo account, one poll per account."""
    return live.poll_due()


@shared_task(name="telephony.place_automated_call", acks_late=True, reject_on_worker_lost=True)
def place_automated_call(campaign_id: int) -> None:
    """Place a call campaign's next automated call (it re-enqueues itself at the campaign's rate)."""
    from telephony import automated

    automated.place_next(campaign_id)


@shared_task(name="telephony.transfer_automated_call", acks_late=True, reject_on_worker_lost=True)
def transfer_automated_call(automated_id: int) -> None:
    """An automated call's “3”: transfer it to an agent (audited as a CallAction)."""
    from telephony import automated

    automated.transfer_to_agent(automated_id)


@shared_task(name="telephony.hang_up_automated_call", acks_late=True, reject_on_worker_lost=True)
def hang_up_automated_call(automated_id: int) -> None:
    from telephony import automated

    automated.hang_up(automated_id)
