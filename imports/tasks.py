import logging

from celery import shared_task
from django.utils import timezone

from imports import services
from imports.models import ImportJob

logger = logging.getLogger(__name__)


@shared_task(name="imports.run_import")
def run_import(job_id: int) -> None:
    try:
        services.run(job_id)
    except Exception as exc:
        logger.exception("history import %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.FAILED, failure=str(exc)[:2000], finished_at=timezone.now())
        services.announce(ImportJob.objects.get(pk=job_id))
        raise


@shared_task(name="imports.fetch_media")
def fetch_media(attachment_id: int) -> None:
    services.fetch_media(attachment_id)
