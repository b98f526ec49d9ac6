import logging

from celery import shared_task
from django.utils import timezone

from contacts import csv_io
from contacts.models import ImportJob

logger = logging.getLogger(__name__)


@shared_task(name="contacts.run_import")
def run_import(job_id: int) -> None:
    job = ImportJob.objects.get(pk=job_id)
    try:
        csv_io.run_job(job)
    except Exception as exc:
        logger.exception("contact import %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, failure=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
