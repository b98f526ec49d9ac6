"""Apply stored webhook events again: after a fix for an `unprocessable` shape, after a crash left
events `received`, or to rebuild conversations from the raw events of a time range or a channel
(`--since 2026-11-01 --until 2026-11-02 --channel +919876500001`: every status but rejected).
Idempotent: applying an event twice changes nothing (see inbox.replay)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from inbox import replay
from inbox.models import Channel, WebhookEvent


def _moment(value: str) -> datetime.datetime:
    moment = parse_datetime(value)
    if moment is None and parse_date(value) is not None:
        moment = datetime.datetime.combine(parse_date(value), datetime.time())
    if moment is None:
        raise CommandError(f"“{value}” is not a date or a date and time (ISO 8601, e.g. 2026-11-01 or 2026-11-01T09:30).")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _channel(value: str) -> Channel:
    channel = Channel.objects.filter(pk=int(value)).first() if value.isdigit() and len(value) < 10 else None
    channel = channel or Channel.objects.filter(phone_number=value).first() or Channel.objects.filter(phone_number=f"+{value.lstrip('+')}").first()
    if channel is None:
        raise CommandError(f"No channel with id or number “{value}”.")
    return channel


class Command(BaseCommand):
    help = "Re-apply stored webhook events (unprocessable and stuck ones; or every event of a time range / channel)."

    def add_arguments(self, parser):
        parser.add_argument("--id", type=int, action="append", dest="ids", help="only this event (repeatable)")
        parser.add_argument(
            "--status", action="append", choices=list(replay.EVERY_STATUS),
            help="statuses to replay (repeatable); default: unprocessable and received, or all with --since/--until/--channel",
        )
        parser.add_argument("--all", action="store_true", help="every status except rejected (processed ones re-applied)")
        parser.add_argument("--since", type=_moment, help="received at or after (ISO date or date-time; local time zone unless given)")
        parser.add_argument("--until", type=_moment, help="received before")
        parser.add_argument("--channel", type=_channel, help="the channel's id or business number")
        parser.add_argument(
            "--older-than", type=int, default=60, metavar="SECONDS",
            help="leave `received` events younger than this alone: they are still in flight (default 60)",
        )
        parser.add_argument("--source", help="e.g. tata_whatsapp, tata_rcs")
        parser.add_argument("--limit", type=int, default=0)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, ids, status, all, since, until, channel, older_than, source, limit, dry_run, **options):
        rebuild = bool(since or until or channel)
        statuses = replay.EVERY_STATUS if all or (rebuild and not status) else tuple(status or replay.DEFAULT_STATUSES)
        selection = replay.Selection(
            ids=ids or [], statuses=statuses, since=since, until=until, channel=channel, source=source or "",
            in_flight=datetime.timedelta(seconds=older_than),
        )  # fmt: skip
        pks = list(replay.selected(selection).values_list("pk", flat=True)[: limit or None])
        if ids and len(pks) != len(set(ids)):
            missing = sorted(set(ids) - set(pks))
            raise CommandError(f"No replayable event with id {', '.join(map(str, missing))} (rejected events never replay).")
        if dry_run:
            self.stdout.write(f"Would replay {len(pks)} event(s).")
            return

        def report(event):
            if event.status == WebhookEvent.Status.UNPROCESSABLE:
                self.stdout.write(f"  #{event.pk} still unprocessable: {event.error}")

        counts = replay.replay(pks, on_event=report)
        self.stdout.write(self.style.SUCCESS(f"Replayed {len(pks)} event(s): {replay.summary(counts)}."))
