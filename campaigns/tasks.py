"""Celery tasks of campaigns: thin — load, call a service."""

import logging

from celery import shared_task

from campaigns import services
from core.tasks import backoff, enqueue_later

logger = logging.getLogger(__name__)

RUN_RETRIES = 8  # 0.5 s, 1 s, 2 s … 60 s apart; after that the periodic resume (campaigns.resume_stalled) carries on


@shared_task(name="campaigns.run_campaign", acks_late=True, reject_on_worker_lost=True)
def run_campaign(campaign_id: int, attempt: int = 0) -> int:
    """Queue the campaign's waiting recipients. A step that fails (a database error, a lock it could not
    get) is recorded on the campaign, whose page says why, and tried again after a backoff."""
    try:
        return services.run(campaign_id)
    except Exception as exc:
        retry_in = backoff(attempt) if attempt < RUN_RETRIES else None
        try:
            services.record_problem(campaign_id, exc, retry_in=retry_in)
        except Exception:
            logger.exception("could not record why campaign %s stopped", campaign_id)
        if retry_in is None:
            raise
        logger.warning("campaign %s stopped (attempt %s); trying again", campaign_id, attempt + 1, exc_info=True)
        enqueue_later(run_campaign, (campaign_id, attempt + 1), retry_in)
        return 0


@shared_task(name="campaigns.resume_stalled")
def resume_stalled() -> int:
    return services.resume_stalled()
