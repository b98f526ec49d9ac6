"""Import a Smartflo account's previous calls: `manage.py import_calls <connection id> --from 2026-01-01 --to 2026-01-31`.
Resumes an import that stopped with `--resume <import id>`. Progress is printed per page (and shown live in the app)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from telephony import services
from telephony.models import CallImport, TelephonyConnection


class Command(BaseCommand):
    help = "Import previous calls from Smartflo's call records (paged, resumable, idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("connection", nargs="?", help="telephony connection id (uuid)")
        parser.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (Indian time); default 30 days ago")
        parser.add_argument("--to", dest="end", help="last day, YYYY-MM-DD; default today")
        parser.add_argument("--resume", type=int, help="continue this import id from where it stopped")

    def handle(self, *args, connection=None, start=None, end=None, resume=None, **options):
        if resume:
            job = CallImport.objects.filter(pk=resume).first()
            if job is None:
                raise CommandError(f"No import {resume}.")
        else:
            found = TelephonyConnection.objects.filter(pk=connection).first() if connection else None
            if found is None:
                raise CommandError("Give a telephony connection id (see /telephony/connections/).")
            tz = timezone.get_current_timezone()
            try:
                first = datetime.date.fromisoformat(start) if start else timezone.localdate() - datetime.timedelta(days=30)
                last = datetime.date.fromisoformat(end) if end else timezone.localdate()
            except ValueError as exc:
                raise CommandError(f"Dates are YYYY-MM-DD: {exc}") from exc
            job = CallImport.objects.create(
                connection=found, from_date=datetime.datetime.combine(first, datetime.time.min, tzinfo=tz),
                to_date=min(timezone.now(), datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)),
            )
        job = services.run_import(job.pk)
        self.stdout.write(f"import {job.pk}: {job.get_status_display()}, {job.fetched} records ({job.created} new, {job.updated} updated)")
        if job.status == CallImport.Status.FAILED:
            raise CommandError(f"{job.error} — resume with --resume {job.pk}")
