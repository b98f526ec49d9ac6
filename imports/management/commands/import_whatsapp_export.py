"""manage.py import_whatsapp_export CHAT.zip --channel +919876500001 --business "Sharma Store" [--phone …]

The same import as the "Import history" page, run in the terminal with a progress bar."""

import sys

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role, User
from core.errors import ApplicationError
from imports import services
from imports import whatsapp_export as wa
from inbox.models import Channel


class Command(BaseCommand):
    help = "Import a WhatsApp chat export (.txt or .zip) into a contact's conversation."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--channel", required=True, help="the business number (E.164) the chat was on")
        parser.add_argument("--business", required=True, help="the export's name for the business")
        parser.add_argument("--phone", default="", help="the customer's number, when the export shows a saved name")
        parser.add_argument("--date-order", choices=[wa.DMY, wa.MDY], default="", help="only when the file cannot tell")
        parser.add_argument("--time-zone", default="", help="the phone's time zone (default: the project's)")
        parser.add_argument("--user", default="", help="username recorded as the importer (default: the first admin)")

    def _channel_and_user(self, options):
        channel = Channel.objects.filter(phone_number=options["channel"], kind=Channel.Kind.WHATSAPP).first()
        if channel is None:
            raise CommandError(f"No WhatsApp number {options['channel']}.")
        users = User.objects.filter(is_active=True)
        user = users.filter(username=options["user"]).first() if options["user"] else users.filter(role=Role.ADMIN).first()
        if user is None:
            raise CommandError("No such active user (an admin or supervisor records the import).")
        return channel, user

    def handle(self, *args, **options):
        channel, user = self._channel_and_user(options)
        try:
            with open(options["path"], "rb") as handle:
                job = services.create_whatsapp_job(by=user, upload=File(handle, name=options["path"]))
            answers = services.Answers(
                channel=channel, business_sender=options["business"], contact_phone=options["phone"],
                date_order=options["date_order"], time_zone=options["time_zone"],
            )  # fmt: skip
            services.start(job, answers, by=user, run_now=True)
            job = services.run(job.pk, on_progress=self._bar)
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        self._summary(job)

    def _summary(self, job):
        sys.stderr.write("\n")
        self.stdout.write(
            f"{job.get_status_display()}: {job.imported_count} imported, {job.duplicate_count} already there, "
            f"{job.failed_count} failed (job {job.pk})."
        )

    def _bar(self, job):
        filled = job.percent * 40 // 100
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (40 - filled)}] {job.percent:3d}%  {job.imported_count} imported")
        sys.stderr.flush()
