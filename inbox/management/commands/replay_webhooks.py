"""Apply stored webhook events again: after a fix for an `unprocessable` shape, or after a crash left
events `received`. Idempotent: applying an event twice changes nothing."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from inbox.ingest.drain import process_event
from inbox.models import WebhookEvent


class Command(BaseCommand):
    help = "Re-apply stored webhook events (unprocessable ones, and received ones a crash left behind)."

    def add_arguments(self, parser):
        parser.add_argument("--id", type=int, action="append", dest="ids", help="only this event (repeatable)")
        parser.add_argument(
            "--status", action="append", choices=["received", "unprocessable", "processed", "ignored"],
            help="statuses to replay (repeatable); default: unprocessable and received",
        )
        parser.add_argument("--all", action="store_true", help="every status except rejected (processed ones re-applied)")
        parser.add_argument(
            "--older-than", type=int, default=60, metavar="SECONDS",
            help="leave `received` events younger than this alone: they are still in flight (default 60)",
        )
        parser.add_argument("--source", help="e.g. tata_whatsapp, tata_rcs")
        parser.add_argument("--limit", type=int, default=0)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, ids, status, all, older_than, source, limit, dry_run, **options):
        statuses = (
            ["received", "unprocessable", "processed", "ignored"] if all else (status or ["received", "unprocessable"])
        )
        cutoff = timezone.now() - datetime.timedelta(seconds=older_than)
        events = WebhookEvent.objects.filter(status__in=statuses).exclude(
            Q(status=WebhookEvent.Status.RECEIVED) & Q(received_at__gt=cutoff)
        )
        if ids:
            events = WebhookEvent.objects.filter(pk__in=ids).exclude(status=WebhookEvent.Status.REJECTED)
        if source:
            events = events.filter(source=source)
        # Oldest first: a reply replayed after the message it quotes links straight away.
        events = events.order_by("received_at", "pk")
        pks = list(events.values_list("pk", flat=True)[: limit or None])
        if ids and len(pks) != len(set(ids)):
            missing = sorted(set(ids) - set(pks))
            raise CommandError(f"No replayable event with id {', '.join(map(str, missing))} (rejected events never replay).")
        if dry_run:
            self.stdout.write(f"Would replay {len(pks)} event(s).")
            return
        counts: dict[str, int] = {}
        for pk in pks:
            event = process_event(WebhookEvent(pk=pk), force=True)
            counts[event.status] = counts.get(event.status, 0) + 1
            if event.status == WebhookEvent.Status.UNPROCESSABLE:
                self.stdout.write(f"  #{pk} still unprocessable: {event.error}")
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing to do"
        self.stdout.write(self.style.SUCCESS(f"Replayed {len(pks)} event(s): {summary}."))
