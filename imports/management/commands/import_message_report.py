"""manage.py import_message_report report.csv --channel +919876500001 [--map "Sent At=time" …]

The same import as the "Import history" page for CSV / JSON reports, with a terminal progress bar.
Without --map, the columns are guessed from their names (the command prints the mapping it used)."""

from django.core.files import File
from django.core.management.base import CommandError

from core.errors import ApplicationError
from imports import services
from imports.management.commands.import_whatsapp_export import Command as ExportCommand


class Command(ExportCommand):
    help = "Import a CSV / JSON / JSON Lines message report."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--channel", required=True, help="the number (E.164) for rows without a business number")
        parser.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD", help="time, direction, phone, text, provider_message_id, media_url, business_number")
        parser.add_argument("--time-zone", default="Asia/Kolkata", help="for times written without a zone")
        parser.add_argument("--user", default="", help="username recorded as the importer (default: the first admin)")

    def handle(self, *args, **options):
        channel, user = self._channel_and_user(options)
        try:
            with open(options["path"], "rb") as handle:
                job = services.create_report_job(by=user, upload=File(handle, name=options["path"]))
            mapping = dict(pair.split("=", 1) for pair in options["map"]) if options["map"] else job.mapping
            self.stdout.write("Columns: " + ", ".join(f"{column} → {target}" for column, target in mapping.items()))
            services.start_report(job, mapping=mapping, channel=channel, time_zone=options["time_zone"], by=user, run_now=True)
            job = services.run(job.pk, on_progress=self._bar)
        except (ApplicationError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self._summary(job)
