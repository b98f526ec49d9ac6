"""Rebuild from the stored raw webhook events: pick them (ids, statuses, a time range, a channel, a
source) and apply them again, oldest first. Used by `manage.py replay_webhooks` and the admin.

Safe to run twice: applying an event is idempotent (provider ids and import keys are unique per
number, statuses only move forward), so a replay over conversations that still exist adds nothing, and
one over deleted conversations brings their messages back. Rejected events (bad signature) never
replay; `received` events younger than `in_flight` are left to the drain that is about to take them.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from inbox.ingest.drain import process_event
from inbox.models import Channel, WebhookEvent

DEFAULT_STATUSES = ("received", "unprocessable")
EVERY_STATUS = ("received", "unprocessable", "processed", "ignored")


@dataclass
class Selection:
    ids: list[int] = field(default_factory=list)
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None
    channel: Channel | None = None
    source: str = ""
    in_flight: datetime.timedelta = datetime.timedelta(seconds=60)
    limit: int = 0


def selected(selection: Selection) -> QuerySet:
    if selection.ids:
        events = WebhookEvent.objects.filter(pk__in=selection.ids).exclude(status=WebhookEvent.Status.REJECTED)
    else:
        cutoff = timezone.now() - selection.in_flight
        events = WebhookEvent.objects.filter(status__in=selection.statuses).exclude(
            Q(status=WebhookEvent.Status.RECEIVED) & Q(received_at__gt=cutoff)
        )
    if selection.since:
        events = events.filter(received_at__gte=selection.since)
    if selection.until:
        events = events.filter(received_at__lt=selection.until)
    if selection.channel:
        events = events.filter(channel=selection.channel)
    if selection.source:
        events = events.filter(source=selection.source)
    # Oldest first: a reply replayed after the message it quotes links straight away.
    return events.order_by("received_at", "pk")


def replay(pks, *, on_event=None) -> dict[str, int]:
    """Apply these events again (forced); returns how many ended in each status."""
    counts: dict[str, int] = {}
    for pk in pks:
        event = process_event(WebhookEvent(pk=pk), force=True)
        counts[event.status] = counts.get(event.status, 0) + 1
        if on_event:
            on_event(event)
    return counts


def summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing to do"
