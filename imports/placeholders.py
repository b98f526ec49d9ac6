"""Rows that already stand for a message we are importing, and are filled instead of doubled.

- A status callback for an id we never sent leaves a content-less outbound placeholder
  (`inbox.ingest.statuses.OUTSIDE_BODY`, source campaign). When an import, a history webhook or an echo later
  brings that message, the placeholder gets its content: matched by provider id, or — for an export,
  which has no ids — by being the nearest unfilled placeholder of the same conversation within
  PLACEHOLDER_SLACK of the exported minute.
- A row imported from an export (no provider id, keyed on contact, minute, direction and text) that a
  history webhook or an echo brings again with its provider id learns that id, so the live webhook,
  a replay or a report naming the id find it.
"""

import datetime
import logging
from collections import defaultdict

from django.core.cache import cache
from django.db.models import Q

from inbox.ingest.statuses import OUTSIDE_BODY  # the placeholder's text: one definition
from inbox.models import Channel, Message

logger = logging.getLogger(__name__)
PLACEHOLDER_SLACK = datetime.timedelta(seconds=90)  # the "sent" status comes seconds after the exported minute
FILLED_FIELDS = ["type", "body", "content", "import_key"]


def placeholders() -> Q:
    return Q(source=Message.Source.OUTSIDE_SAMPARK, body=OUTSIDE_BODY, direction=Message.Direction.OUTBOUND)


def fill(placeholder: Message, message: Message, *, source: str | None = None) -> None:
    """Give a placeholder the content `message` (not saved) carries."""
    placeholder.type, placeholder.body = message.type, message.body
    placeholder.content = {**placeholder.content, **message.content}
    placeholder.import_key = message.import_key or placeholder.import_key
    fields = list(FILLED_FIELDS)
    if source:
        placeholder.source = source
        fields.append("source")
    placeholder.save(update_fields=fields)


def claim_by_id(rows: list) -> tuple[list, list]:
    """Rows (imports._Row) with a provider id: fill the placeholders stored under it, and teach the
    export rows stored under their key that id. Returns (rows that filled a placeholder, the others)."""
    # Placeholders are outbound: only outbound rows can stand for one.
    by_id = {
        (r.message.channel_id, r.message.provider_message_id): r
        for r in rows if r.message.provider_message_id and r.message.direction == Message.Direction.OUTBOUND
    }  # fmt: skip
    filled = []
    for placeholder in Message.objects.filter(_per_channel(by_id, "provider_message_id")).filter(placeholders()) if by_id else []:
        row = by_id[(placeholder.channel_id, placeholder.provider_message_id)]
        fill(placeholder, row.message)
        row.message.pk = placeholder.pk
        filled.append(row)
    taken = {id(r) for r in filled}
    _adopt_ids([r for r in rows if r.message.provider_message_id and r.message.import_key and id(r) not in taken])
    return filled, [r for r in rows if id(r) not in taken]


def _adopt_ids(rows: list) -> None:
    # Only rows not newer than the newest id-less imported row of their number can have an id-less twin.
    channels = Channel.objects.only("pk", "webhook_token").in_bulk({r.message.channel_id for r in rows})
    until = {channel_id: idless_until(channel) for channel_id, channel in channels.items()}
    by_key = {
        (r.message.channel_id, r.message.import_key): r
        for r in rows
        if until.get(r.message.channel_id) and r.message.timestamp.replace(second=0, microsecond=0) <= until[r.message.channel_id]
    }
    if not by_key:
        return
    for pk, channel_id, key in Message.objects.filter(_per_channel(by_key, "import_key"), provider_message_id__isnull=True).values_list("pk", "channel_id", "import_key"):
        provider_id = by_key[(channel_id, key)].message.provider_message_id
        if not Message.objects.filter(channel_id=channel_id, provider_message_id=provider_id).exists():
            Message.objects.filter(pk=pk).update(provider_message_id=provider_id)


def _per_channel(pairs, field: str) -> Q:
    """(channel, value) pairs as one IN list per channel: the (channel, field) unique index answers it."""
    values = defaultdict(set)
    for channel_id, value in pairs:
        values[channel_id].add(value)
    match = Q()
    for channel_id, wanted in values.items():
        match |= Q(channel_id=channel_id, **{f"{field}__in": wanted})
    return match


def _wanted(rows: list) -> list:
    return [r for r in rows if not r.message.provider_message_id and r.message.direction == Message.Direction.OUTBOUND]


def waiting_for(rows: list) -> dict:
    """conversation id → its unfilled placeholders near these rows' outbound rows without a provider id
    (exports, reports without ids), which claim_by_time may fill."""
    wanted = _wanted(rows)
    waiting = defaultdict(list)
    if not wanted:
        return waiting
    start = min(r.message.timestamp for r in wanted) - PLACEHOLDER_SLACK
    end = max(r.message.timestamp for r in wanted) + PLACEHOLDER_SLACK
    for placeholder in Message.objects.filter(
        placeholders(), conversation_id__in={r.message.conversation_id for r in wanted}, timestamp__gte=start, timestamp__lte=end
    ).order_by("timestamp", "pk"):
        waiting[placeholder.conversation_id].append(placeholder)
    return waiting


def claim_by_time(rows: list, waiting: dict | None = None) -> list:
    """Outbound rows without a provider id that fill the nearest unfilled placeholder of their
    conversation (`waiting`: waiting_for's answer, when the caller asked already). Returns the rows that did."""
    wanted = _wanted(rows)
    if waiting is None:
        waiting = waiting_for(wanted)
    filled = []
    for row in wanted:
        candidates = waiting.get(row.message.conversation_id)
        if not candidates:
            continue
        nearest = min(candidates, key=lambda p: abs(p.timestamp - row.message.timestamp))
        if abs(nearest.timestamp - row.message.timestamp) > PLACEHOLDER_SLACK:
            continue
        candidates.remove(nearest)
        fill(nearest, row.message)
        row.message.pk = nearest.pk
        filled.append(row)
    return filled


# ---------------------------------------------------------------- id-less imported rows and live messages
#
# A live message can only have an id-less imported twin (an export row) if it is not newer than the
# newest id-less row imported on its number: exports hold the past. The live path asks this first, from
# the shared cache, so ordinary live traffic costs no query for it.

IDLESS_KEY = "imports:idless-until:{}"  # the channel's webhook token: a number re-created is another number
IDLESS_SECONDS = 24 * 3600
NONE = "none"


def note_idless_rows(messages: list[Message]) -> None:
    """Imported rows were stored: note, per number, the newest of those without a provider id."""
    newest: dict[int, datetime.datetime] = {}
    for message in messages:
        if not message.provider_message_id:
            newest[message.channel_id] = max(message.timestamp, newest.get(message.channel_id, message.timestamp))
    for channel_id, at in newest.items():
        note_idless(channel_id, at)


def note_idless(channel_id: int, newest: datetime.datetime) -> None:
    """An import stored id-less rows on this number up to `newest`."""
    channel = Channel.objects.only("pk", "webhook_token").get(pk=channel_id)
    try:
        current = idless_until(channel)
        if current is None or newest > current:
            cache.set(IDLESS_KEY.format(channel.webhook_token), newest.isoformat(), IDLESS_SECONDS)
    except Exception as exc:  # noqa: BLE001 - the cache is Redis; on a miss the database is asked again
        logger.warning("could not note imported rows for channel %s (%s)", channel_id, exc)


def idless_until(channel: Channel) -> datetime.datetime | None:
    """The newest id-less imported row's time on this number (None: there are none)."""
    key = IDLESS_KEY.format(channel.webhook_token)
    try:
        cached = cache.get(key)
    except Exception:  # noqa: BLE001 - Redis down: ask the database
        cached = None
    if cached is None:
        newest = (
            Message.objects.filter(channel_id=channel.pk, import_key__isnull=False, provider_message_id__isnull=True)
            .order_by("-timestamp").values_list("timestamp", flat=True).first()
        )  # fmt: skip
        try:
            cache.set(key, newest.isoformat() if newest else NONE, IDLESS_SECONDS)
        except Exception:  # noqa: BLE001
            pass
        return newest
    return None if cached == NONE else datetime.datetime.fromisoformat(cached)
