"""Stored webhook events → contacts, conversations, messages and statuses. Idempotent.

`process_event(event)` parses one stored WebhookEvent and applies it in a single transaction, then
marks the event processed / ignored (known, nothing to do) / unprocessable (kept for replay, with the
reason). Applying the same event twice, or a provider's duplicate delivery, changes nothing: every
provider id is unique in the database (Message: channel + provider_message_id) and statuses only move
forward.

What lands where, for the UI and the API:
- `Message.body` is always readable on its own: the text, a caption, the tapped button's title,
  "📍 place — address", "👤 Ravi Kumar", an order summary, or a placeholder for what WhatsApp cannot
  show. `Message.content` is the provider's message object as received.
- Media: an Attachment (pending → downloading → ready / failed) fetched by `inbox.tasks.download_attachment`.
- Reactions are `type="reaction"` messages pointing at their target (`reply_to`); the target's
  `reactions` field holds each side's current emoji. Threads show them on the target, not as bubbles.
- Replies: `reply_to` when the quoted message is known, else `reply_to_provider_id`; a quoted message
  (or a reaction's target) that arrives later is linked then.
- Status callbacks find their message by our callback data first ("sampark-msg-<uid>"), then by the
  provider id; statuses for ids we never sent create an outbound message with `source=campaign`.

Events (after commit): `message.created` for every new message (it carries the conversation's list
fields), `message.updated` for status and reaction changes, and `conversation.updated` when a
conversation is opened, reopened or changes its last message through an outbound placeholder.
"""

import datetime
import logging
import uuid
from collections import defaultdict
from contextlib import ExitStack
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from contacts.models import Contact, ContactPhone
from contacts.services import find_or_create_by_phone
from core import phones
from core.events import publish
from core.tasks import enqueue
from core.untrusted import NotJSON, clean_text, loads_json
from inbox import events
from inbox.models import Attachment, Channel, Conversation, Message, WebhookEvent

logger = logging.getLogger(__name__)

CALLBACK_PREFIX = "sampark-msg-"
PREVIEW_LENGTH = 200


class Unprocessable(Exception):
    """The payload is not in a shape we understand. The event is kept (status unprocessable) for replay."""


class Ignored(Exception):
    """A known payload with nothing to do (typing indicators, calls until calling is built)."""


# ================================================================ entry point


# Webhook sources other apps apply (telephony's Status URL: "smartflo"), registered from their
# AppConfig.ready(): source → apply(event), which returns a reason when there was nothing to do and
# raises Unprocessable / Ignored like the inbox's own. They share the drain, replay and retry rules.
SOURCE_APPLIERS: dict = {}
# source → read_ahead(events): a context manager entered around a batch's events of that source, so the
# applier reads what the whole batch needs in a few queries (as BatchRows does for the inbox's own).
SOURCE_READ_AHEAD: dict = {}

DRAIN_BATCH = 20
# A deadlock or lock timeout with a concurrent drain, or a message id it stored first, is not the
# payload's fault: the event stays `received` and is tried again, up to this many attempts in all.
TRANSIENT_ATTEMPTS = 5
DRAIN_FLAG = "inbox:drain-queued"
DRAIN_FLAG_SECONDS = 30


def process_event(event: WebhookEvent, *, force: bool = False) -> WebhookEvent:
    """Apply one stored event and record the outcome on it. Safe to call again (replay) at any time.

    Locks the event row so a replay and a worker never apply it side by side. Already-settled events
    (processed, ignored) are left alone unless `force`; rejected ones (bad signature) never run.
    """
    try:
        with transaction.atomic():
            _skip_commit_wait()
            event = WebhookEvent.objects.select_for_update(of=("self",)).select_related("channel").get(pk=event.pk)
            if event.status == WebhookEvent.Status.REJECTED:
                return event
            if not force and event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
                return event
            _apply_batch([event])
    except WebhookEvent.DoesNotExist:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever it was, it was this event's: set it aside (see _set_aside)
        return _set_aside(event.pk, exc)
    return event


def schedule_drain() -> None:
    """Ask for a drain of `received` events, unless one is queued or running (the webhook's fast path).

    The flag in the shared cache (Redis in production) is the gate: a webhook that sets it queues a
    drain, and the drain keeps it set while it works, so under load one drain runs on and webhooks
    skip queueing Celery tasks nobody needs. The flag expires after DRAIN_FLAG_SECONDS: a drain
    that runs longer gets company (drains share the work), and a queued drain that never ran is
    replaced by the next webhook's or the periodic one.

    Never raises: the event is stored, so when Redis is down the webhook still answers 200 and the
    periodic drain (CELERY_BEAT_SCHEDULE) applies it once the broker is back.
    """
    from inbox.tasks import drain_webhook_events

    try:
        gate_opened = cache.add(DRAIN_FLAG, 1, timeout=DRAIN_FLAG_SECONDS)
    except Exception as exc:  # noqa: BLE001 - the cache is Redis; the broker is the same Redis
        logger.warning("could not queue a drain (%s: %s); the periodic drain will apply the stored event", exc.__class__.__name__, exc)
        return
    if gate_opened:
        enqueue(drain_webhook_events)


def drain_received(*, batch_size: int = DRAIN_BATCH) -> int:
    """Apply every `received` event, oldest first, a batch per transaction; returns how many.

    Batches are claimed with FOR UPDATE SKIP LOCKED, so several workers drain side by side without
    waiting on each other, and one commit covers a batch (under light load a batch is one event, so
    nothing waits for company). Each event still applies in its own savepoint: one bad payload is
    recorded as unprocessable and never undoes its neighbours.

    When it has caught up (a batch came back short) the drain opens the gate (see schedule_drain)
    and then looks once more: an event stored before the gate opened is found by that look, and one
    stored after finds the gate open and queues the next drain.
    """
    done = 0
    while True:
        applied = _drain_batch(batch_size)
        done += applied
        if applied < batch_size:
            _open_gate()
            applied = _drain_batch(batch_size)
            done += applied
            if not applied:
                return done


def _open_gate() -> None:
    try:
        cache.delete(DRAIN_FLAG)
    except Exception as exc:  # noqa: BLE001 - Redis is down: the flag lapses by itself after DRAIN_FLAG_SECONDS
        logger.warning("could not reopen the drain gate (%s: %s)", exc.__class__.__name__, exc)


def _drain_batch(batch_size: int) -> int:
    batch = []
    try:
        with transaction.atomic():
            batch = list(
                WebhookEvent.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("channel")
                .filter(status=WebhookEvent.Status.RECEIVED)
                .order_by("pk")[:batch_size]
            )
            if batch:
                _skip_commit_wait()
                _apply_batch(batch)
        return len(batch)
    except Exception:
        if not batch:
            raise  # claiming the batch failed: the database, not an event
        # Something outside the per-event savepoints failed (the read-ahead, linking, saving the
        # outcomes): the batch was rolled back. Apply its events one by one, so that only the event at
        # fault is set aside and the drain goes on; the next batch never meets it again.
        logger.exception("a batch of %s webhook events failed as a whole; applying them one by one", len(batch))
    for event in batch:
        _apply_alone(event.pk)
    return len(batch)


def _apply_alone(event_pk: int) -> None:
    try:
        with transaction.atomic():
            event = (
                WebhookEvent.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("channel")
                .filter(pk=event_pk, status=WebhookEvent.Status.RECEIVED)
                .first()
            )
            if event is not None:  # else settled or taken by another drain meanwhile
                _apply_batch([event])
    except Exception as exc:  # noqa: BLE001 - a batch of one: the fault is this event's
        _set_aside(event_pk, exc)


SET_ASIDE_PREFIX = "Set aside: processing failed outside the event's own transaction"


def _set_aside(event_pk: int, exc: Exception) -> WebhookEvent:
    """Record an event whose processing failed even on its own as `unprocessable`, with the reason, so
    that no drain picks it up again (a replay can, after a fix). A transient database error (deadlock,
    lock timeout) leaves it `received` for TRANSIENT_ATTEMPTS attempts; if even this write fails the
    database itself is failing, and that error propagates."""
    logger.error("webhook event %s set aside: %s", event_pk, exc.__class__.__name__, exc_info=exc)
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update(of=("self",)).get(pk=event_pk)
        if event.status == WebhookEvent.Status.REJECTED:
            return event
        event.attempts += 1
        transient = isinstance(exc, OperationalError) and event.attempts < TRANSIENT_ATTEMPTS
        event.status = WebhookEvent.Status.RECEIVED if transient else WebhookEvent.Status.UNPROCESSABLE
        event.error = error_text(f"{SET_ASIDE_PREFIX}: {exc.__class__.__name__}: {exc}")
        event.processed_at = None if transient else timezone.now()
        event.save(update_fields=["status", "error", "attempts", "processed_at"])
    return event


ERROR_LENGTH = 2000


def error_text(text: str) -> str:
    """An outcome's reason as stored: storable anywhere, and short (it may quote the payload)."""
    return clean_text(text)[:ERROR_LENGTH]


def _apply_batch(batch: list[WebhookEvent]) -> None:
    """Apply locked events in the current transaction and record each one's outcome."""
    rows = BatchRows.read(batch)
    token = _batch_rows.set(rows)
    try:
        with ExitStack() as read_ahead:
            for source, read in SOURCE_READ_AHEAD.items():
                events = [event for event in batch if event.source == source]
                if events:
                    read_ahead.enter_context(read(events))
            _apply_each(batch, rows)
        try:
            with transaction.atomic():
                rows.link_waiting_messages()
        except DatabaseError:  # the messages are stored and each keeps the id it quotes; only the link is missing
            logger.exception("linking early replies to the messages of a batch failed")
    finally:
        _batch_rows.reset(token)
    _save_outcomes(batch)


def _apply_each(batch: list[WebhookEvent], rows: "BatchRows") -> None:
    for event in batch:
        inserted_before = len(rows.inserted)
        if not _apply_and_settle(event):
            rows.forget(inserted_since=inserted_before)


def _save_outcomes(batch: list[WebhookEvent]) -> None:
    """One UPDATE per distinct outcome, usually one for the whole batch. (bulk_update writes a CASE per
    row and field, and building it cost more than applying the events.)"""
    outcomes = defaultdict(list)
    settled_at = timezone.now()
    for event in batch:
        event.processed_at = None if event.status == WebhookEvent.Status.RECEIVED else settled_at
        event.error = error_text(event.error)
        outcomes[(event.status, event.error, event.attempts)].append(event)
    for (status, error, attempts), settled in outcomes.items():
        WebhookEvent.objects.filter(pk__in=[event.pk for event in settled]).update(
            status=status, error=error, attempts=attempts, processed_at=settled[0].processed_at
        )


class BatchRows:
    """What the events of one batch read, fetched in three queries up front instead of several per event.

    - contacts by phone number, and their conversations, locked in primary-key order (so concurrent
      drains cannot deadlock on them);
    - the stored messages the batch names: its own ids (a duplicate delivery is skipped without an
      insert) and the ones its replies and reactions quote;
    - the messages it inserts, so that replies and reactions which arrived before them (out-of-order
      delivery) are linked by one query when the batch ends.
    Every ingest function runs inside a batch (`_apply_batch`); a replay is a batch of one.
    """

    def __init__(self, contacts: dict, conversations: dict, message_pks: dict, named: set):
        self.contacts: dict[str, Contact | None] = contacts  # E.164 → contact (None: nobody had the number)
        self.new_contact_ids: set[int] = set()  # created by this batch, so they have no conversation yet
        self.conversations: dict[tuple[int, int], Conversation] = conversations  # (channel, contact) → locked row
        # (channel, provider id) → the stored message's (pk, conversation), None when not stored
        self.message_pks: dict[tuple[int, str], tuple[int, int] | None] = message_pks
        self.named = named  # the (channel, provider id) pairs whose absence from message_pks means "not stored"
        self.inserted: list[Message] = []

    @classmethod
    def read(cls, batch: list[WebhookEvent]) -> "BatchRows":
        numbers, named = set(), set()
        for event in batch:
            for number, provider_ids in _senders_and_ids(event):
                if number:
                    numbers.add(number)
                named.update((event.channel_id, provider_id) for provider_id in provider_ids if provider_id)
        channel_ids = {event.channel_id for event in batch if event.channel_id}
        contacts = dict.fromkeys(numbers)  # None: nobody has this number yet
        if numbers:
            contacts.update((phone.number, phone.contact) for phone in ContactPhone.objects.filter(number__in=numbers).select_related("contact"))
        known_contact_ids = [contact.pk for contact in contacts.values() if contact is not None]
        conversations = {
            (c.channel_id, c.contact_id): c
            for c in Conversation.objects.select_for_update()
            .filter(channel_id__in=channel_ids, contact_id__in=known_contact_ids)
            .order_by("pk")
        } if known_contact_ids and channel_ids else {}
        message_pks = {
            (channel_id, provider_id): (pk, conversation_id)
            for pk, conversation_id, channel_id, provider_id in Message.objects.filter(
                channel_id__in=channel_ids, provider_message_id__in={provider_id for _, provider_id in named}
            ).values_list("pk", "conversation_id", "channel_id", "provider_message_id")
            if (channel_id, provider_id) in named
        } if named else {}
        return cls(contacts, conversations, message_pks, named)

    def _stored(self, channel_id: int, provider_id: str) -> tuple[int, int] | None:
        if not provider_id:
            return None
        key = (channel_id, provider_id)
        if key not in self.message_pks and key not in self.named:  # a payload shape the read-ahead missed
            self.message_pks[key] = (
                Message.objects.filter(channel_id=channel_id, provider_message_id=provider_id).values_list("pk", "conversation_id").first()
            )
        return self.message_pks.get(key)

    def stored_pk(self, channel_id: int, provider_id: str) -> int | None:
        """The message stored under this provider id on the channel (ids are unique per channel)."""
        stored = self._stored(channel_id, provider_id)
        return stored[0] if stored else None

    def quoted_pk(self, conversation: Conversation, provider_id: str) -> int | None:
        """The message a reply or reaction points at — only within its own conversation: an id from
        another conversation (another audience) is treated as a message not in Sampark."""
        stored = self._stored(conversation.channel_id, provider_id)
        return stored[0] if stored and stored[1] == conversation.pk else None

    def add(self, message: Message) -> None:
        self.inserted.append(message)
        if message.provider_message_id:
            self.message_pks[(message.channel_id, message.provider_message_id)] = (message.pk, message.conversation_id)

    def forget(self, *, inserted_since: int) -> None:
        """An event was rolled back: what it created or changed in memory may not exist. Read again."""
        for message in self.inserted[inserted_since:]:
            self.message_pks.pop((message.channel_id, message.provider_message_id), None)
        del self.inserted[inserted_since:]
        self.contacts.clear()
        self.new_contact_ids.clear()
        self.conversations.clear()

    def link_waiting_messages(self) -> None:
        """Replies and reactions that arrived before a message of this batch now point at it."""
        targets = {(m.channel_id, m.provider_message_id): m for m in self.inserted if m.provider_message_id}
        if not targets:
            return
        waiting = defaultdict(list)
        for reply in Message.objects.filter(
            channel_id__in={channel_id for channel_id, _ in targets},
            reply_to__isnull=True,
            reply_to_provider_id__in={provider_id for _, provider_id in targets},
        ):
            target = targets.get((reply.channel_id, reply.reply_to_provider_id))
            if target is not None and target.pk != reply.pk and target.conversation_id == reply.conversation_id:
                waiting[target].append(reply)
        for target, replies in waiting.items():
            Message.objects.filter(pk__in=[reply.pk for reply in replies]).update(reply_to=target)
            for reaction in sorted((m for m in replies if m.type == "reaction"), key=lambda m: m.timestamp):
                _apply_reaction(target, reaction)


_batch_rows: ContextVar[BatchRows] = ContextVar("ingest_batch_rows")


def _senders_and_ids(event: WebhookEvent):
    """(E.164 customer, provider ids it names: its own and the one it quotes or reacts to) of each
    item in the event, as far as the payload can be read; the apply step reports anything malformed."""
    if event.source in SOURCE_APPLIERS:
        return
    try:
        payload = parse_body(bytes(event.body))
        if isinstance(payload.get("entity"), dict):
            entity = payload["entity"]
            customer = _rcs_user(payload, entity)
            if _provider_id(entity.get("messageId")) and payload.get("entityType") == "USER_MESSAGE":
                parsed = parse_rcs_message(payload)
                yield customer, [parsed.provider_id, parsed.reply_to_provider_id]
            else:
                yield customer, [_provider_id(entity.get("messageId"))]
            return
        for value in _whatsapp_values(payload):
            for item in _as_list(value.get("messages")):
                if isinstance(item, dict) and _provider_id(item.get("id")):
                    parsed = parse_wa_message(item)
                    yield phones.try_e164(_text(item.get("from"))), [parsed.provider_id, parsed.reply_to_provider_id]
            for item in _as_list(value.get("statuses")):
                if isinstance(item, dict):
                    yield phones.try_e164(_text(item.get("recipient_id"))), [_provider_id(item.get("id"))]
    except Exception:  # noqa: BLE001 - reading ahead is only an optimisation; applying the event tells what is wrong
        return


def _skip_commit_wait() -> None:
    if connection.vendor == "postgresql":
        # The raw event was committed durably before we got here; if this commit is lost in a crash
        # the event is still `received` and the next drain or a replay redoes it. So skip the fsync wait.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _apply_and_settle(event: WebhookEvent) -> bool:
    """Apply one event in its own savepoint and set its outcome; False when the savepoint was rolled back."""
    event.attempts += 1
    try:
        with transaction.atomic():  # a failure undoes the partial rows but keeps the event
            ignored_because = _apply(event)
    except Ignored as exc:
        event.status, event.error = WebhookEvent.Status.IGNORED, str(exc)
    except Unprocessable as exc:
        event.status, event.error = WebhookEvent.Status.UNPROCESSABLE, str(exc)
    except (OperationalError, IntegrityError) as exc:
        retry = event.attempts < TRANSIENT_ATTEMPTS
        logger.warning("webhook event %s: %s (%s)", event.pk, exc, "will retry" if retry else "giving up")
        event.status = WebhookEvent.Status.RECEIVED if retry else WebhookEvent.Status.UNPROCESSABLE
        event.error = f"{exc.__class__.__name__}: {exc}"
    except Exception as exc:  # a bug or a shape we did not foresee: keep it for a replay after the fix
        logger.exception("webhook event %s could not be processed", event.pk)
        event.status, event.error = WebhookEvent.Status.UNPROCESSABLE, f"{exc.__class__.__name__}: {exc}"
    else:
        if ignored_because:
            event.status, event.error = WebhookEvent.Status.IGNORED, ignored_because
        else:
            event.status, event.error = WebhookEvent.Status.PROCESSED, ""
        return True
    return False


# ===== coexistence hook (issue #15): the one place ingest knows of it ============================
# imports.apps registers imports.coexistence.apply_payload here. It applies Meta's coexistence parts
# (history, smb_message_echoes, smb_app_state_sync, history media follow-ups) and returns
# (their outcomes, the rest of the payload or None), which the WhatsApp path below applies as ever.
COEXISTENCE_HOOK: list = []


def _apply_coexistence(event: WebhookEvent, payload: dict) -> tuple[list, dict | None]:
    return COEXISTENCE_HOOK[0](event, payload) if COEXISTENCE_HOOK else ([], payload)
# ===== end of the coexistence hook ===============================================================


def _apply(event: WebhookEvent) -> str | None:
    """Apply the payload; returns why nothing was stored when it was known but needs nothing."""
    if event.source in SOURCE_APPLIERS:
        return SOURCE_APPLIERS[event.source](event)
    channel = event.channel
    if channel is None:
        raise Unprocessable("The channel this event arrived on no longer exists.")
    payload = parse_body(bytes(event.body))
    if "entityType" in payload or "entity" in payload:
        return _apply_rcs(channel, payload)
    outcomes, payload = _apply_coexistence(event, payload)  # coexistence hook (#15)
    if payload is None:
        return "; ".join(sorted(set(outcomes))) if outcomes and all(o is not None for o in outcomes) else None
    for value in _whatsapp_values(payload):
        outcomes += _apply_whatsapp(channel, value)
    if not outcomes:
        raise Unprocessable(
            "Not a shape we know: no messages, statuses or calls (WhatsApp) and no entity (RCS). "
            f"Top-level keys: {', '.join(sorted(payload)) or 'none'}."
        )
    if all(outcome is not None for outcome in outcomes):  # every item was known-but-ignored
        return "; ".join(sorted(set(outcomes)))
    return None


def parse_body(body: bytes) -> dict:
    """The stored body as a dict whose strings are all storable (core.untrusted)."""
    try:
        payload = loads_json(body)
    except NotJSON as exc:
        raise Unprocessable(f"The body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise Unprocessable(f"The body is JSON but not an object ({type(payload).__name__}).")
    return payload


def _whatsapp_values(payload: dict) -> list[dict]:
    """Tata posts Meta's `value` object directly; Meta's own envelope (entry[].changes[].value) is read too."""
    if isinstance(payload.get("entry"), list):
        values = []
        for entry in payload["entry"]:
            for change in _as_list(_dict(entry).get("changes")):
                if isinstance(change, dict) and isinstance(change.get("value"), dict):
                    values.append(change["value"])
        return values
    return [payload]


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# Typed reads of the payload: a field of the wrong type reads as absent, so the parse functions below
# never trip over a string where an object belongs (or a list where a string does); what is then
# missing is reported as Unprocessable in words, like any other payload we cannot use.


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value) -> str:
    """A provider's text field: strings as they are, numbers as written; objects, lists, booleans and
    null are not text."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


PROVIDER_ID_LENGTH = 255  # Message.provider_message_id


def _provider_id(value, what: str = "id") -> str:
    """A provider's message id (text or a number; "" when absent or of another type)."""
    provider_id = _text(value).strip()
    if len(provider_id) > PROVIDER_ID_LENGTH:
        raise Unprocessable(f"The {what} is longer than {PROVIDER_ID_LENGTH} characters.")
    return provider_id


def _int(value) -> int:
    try:
        return int(_text(value) or 0)
    except ValueError:
        return 0


# ================================================================ WhatsApp


def _apply_whatsapp(channel: Channel, value: dict) -> list[str | None]:
    """Returns one outcome per item: None when applied, a reason when known but ignored."""
    outcomes: list[str | None] = []
    names = {}
    for contact in _as_list(value.get("contacts")):
        if isinstance(contact, dict) and _text(contact.get("wa_id")):
            names[_text(contact["wa_id"])] = _text(_dict(contact.get("profile")).get("name")).strip()
    top_errors = _as_list(value.get("errors"))
    for message in _as_list(value.get("messages")):
        outcomes.append(_ingest_wa_message(channel, message, names, top_errors))
    for status in _as_list(value.get("statuses")):
        outcomes.append(_apply_wa_status(channel, status))
    outcomes += ["WhatsApp calling events are kept but not handled yet"] * len(_as_list(value.get("calls")))
    if not outcomes and top_errors:
        outcomes.append(f"Provider reported errors without a message: {_error_text(top_errors[0])}")
    return outcomes


def _ingest_wa_message(channel: Channel, data, names: dict, top_errors: list) -> None:
    if not isinstance(data, dict) or not _provider_id(data.get("id"), "message id") or not _text(data.get("from")):
        raise Unprocessable("A WhatsApp message without an id or a sender.")
    sender = phones.try_e164(_text(data["from"]))
    if sender is None:
        raise Unprocessable(f"The sender “{_text(data['from'])[:40]}” is not a phone number.")
    parsed = parse_wa_message(data, top_errors=top_errors)
    message = record_inbound(channel, sender, names.get(_text(data["from"]), ""), parsed)
    if message is not None and parsed.type == "system":
        _apply_system_change(message.conversation.contact, _dict(data.get("system")))


@dataclass
class AttachmentSpec:
    kind: str
    provider_media_id: str = ""
    source_url: str = ""
    mime_type: str = ""
    sha256: str = ""
    file_name: str = ""
    size: int | None = None


@dataclass
class ParsedMessage:
    """A provider message reduced to what we store; built by the pure parse_* functions."""

    provider_id: str
    type: str
    body: str
    content: dict
    timestamp: datetime.datetime
    reply_to_provider_id: str = ""
    error_code: str = ""
    error_message: str = ""
    attachment: AttachmentSpec | None = None
    reaction_emoji: str | None = None  # set for reactions ("" = removed)
    preview: str = ""
    counts_as_unread: bool = True
    extra: dict = field(default_factory=dict)


def parse_wa_message(data: dict, *, top_errors: list | None = None) -> ParsedMessage:
    """Meta's message object → ParsedMessage. Unknown types are kept with a readable placeholder."""
    kind = _text(data.get("type")).strip() or "unknown"
    obj = _dict(data.get(kind))
    parsed = ParsedMessage(
        provider_id=_provider_id(data.get("id"), "message id"),
        type=kind,
        body="",
        content=data,
        timestamp=_from_unix(data.get("timestamp")),
        reply_to_provider_id=_provider_id(_dict(data.get("context")).get("id"), "quoted message id"),
    )
    errors = _as_list(data.get("errors")) or _as_list(top_errors)
    if errors:
        parsed.error_code = _text(_dict(errors[0]).get("code"))[:32]
        parsed.error_message = _error_text(errors[0])

    if kind == "text":
        parsed.body = _text(obj.get("body"))
    elif kind in Message.MEDIA_TYPES:
        caption = _text(obj.get("caption")).strip()
        parsed.body = caption or _media_label(kind, obj)
        parsed.preview = _media_label(kind, obj) + (f" {caption}" if caption else "")
        media_id = _text(obj.get("id"))
        parsed.attachment = AttachmentSpec(
            kind=kind,
            provider_media_id=media_id,
            source_url=_text(obj.get("url")) if not media_id else "",
            mime_type=_text(obj.get("mime_type")),
            sha256=_text(obj.get("sha256")),
            file_name=_text(obj.get("filename")),
        )
    elif kind == "location":
        parsed.body = location_text(obj.get("latitude"), obj.get("longitude"), obj.get("name"), obj.get("address"))
    elif kind == "contacts":
        people = [_dict(_dict(c).get("name")) for c in _as_list(data.get("contacts"))]
        names = [(_text(name.get("formatted_name")) or _text(name.get("first_name"))).strip() for name in people]
        parsed.body = "👤 " + (", ".join(n for n in names if n) or "Shared contact")
    elif kind == "interactive":
        parsed.body = _interactive_text(obj)
    elif kind == "button":
        parsed.body = _text(obj.get("text")) or _text(obj.get("payload"))
    elif kind == "reaction":
        emoji = _text(obj.get("emoji"))
        parsed.reaction_emoji = emoji
        parsed.reply_to_provider_id = _provider_id(obj.get("message_id"), "reacted-to message id")
        parsed.body = emoji or "Removed a reaction"
        parsed.preview = f"Reacted {emoji}" if emoji else ""
        parsed.counts_as_unread = bool(emoji)
    elif kind == "order":
        parsed.body = order_text(obj)
    elif kind == "system":
        parsed.body = _text(obj.get("body")) or "The customer's WhatsApp account changed."
        parsed.counts_as_unread = False
    elif kind == "unsupported":
        what = _text(obj.get("type")) or "this kind of message"
        detail = parsed.error_message or "WhatsApp does not pass it on to businesses."
        parsed.body = f"Unsupported message ({what}). {detail} Ask the customer to send it another way."
    else:
        parsed.body = f"A “{kind}” message, which Sampark cannot show yet (kept as received)."
    return parsed


def _media_label(kind: str, obj: dict) -> str:
    if kind == "image":
        return "📷 Photo"
    if kind == "video":
        return "🎥 Video"
    if kind == "audio":
        return "🎤 Voice message" if obj.get("voice") else "🎵 Audio"
    if kind == "sticker":
        return "Sticker"
    return f"📄 {_text(obj.get('filename')) or 'Document'}"


def location_text(latitude, longitude, name=None, address=None) -> str:
    place = " — ".join(_text(p).strip() for p in (name, address) if _text(p).strip())
    return f"📍 {place}" if place else f"📍 {_text(latitude)}, {_text(longitude)}"


def _interactive_text(obj: dict) -> str:
    kind = _text(obj.get("type"))
    reply = _dict(obj.get(kind))
    if kind in ("button_reply", "list_reply"):
        return _text(reply.get("title")) or _text(reply.get("id"))
    if kind == "nfm_reply":
        try:
            answers = loads_json(_text(reply.get("response_json")) or "{}")
        except NotJSON:
            answers = {}
        shown = [f"{k.replace('_', ' ')}: {v}" for k, v in answers.items() if k != "flow_token"] if isinstance(answers, dict) else []
        return "📝 Form submitted" + (" — " + "; ".join(shown) if shown else "")
    if kind == "call_permission_reply":
        if reply.get("response") == "accept":
            until = _int(reply.get("expiration_timestamp"))
            when = f" until {timezone.localtime(_from_unix(until)):%d %b %Y, %H:%M}" if until else ""
            return f"✅ Allowed WhatsApp calls{when}"
        return "🚫 Declined WhatsApp calls"
    return f"Interactive reply ({kind or 'unknown'})"


def order_text(obj: dict) -> str:
    items = [i for i in _as_list(obj.get("product_items")) if isinstance(i, dict)]
    count = sum(_int(i.get("quantity")) for i in items)
    currencies = {_text(i.get("currency")) for i in items if _text(i.get("currency"))}
    try:
        total = sum((Decimal(_text(item.get("item_price")) or 0) * _int(item.get("quantity")) for item in items), Decimal(0))
        total = total.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        total = None
    amount = ""
    if total is not None and total.is_finite() and len(currencies) <= 1:
        currency = next(iter(currencies), "")
        symbol = "₹" if currency == "INR" else (f"{currency} " if currency else "")
        amount = f", {symbol}{total:,}"
    note = f" — {_text(obj.get('text'))}" if _text(obj.get("text")) else ""
    return f"🛒 Order: {count} item{'s' if count != 1 else ''}{amount}{note}"


def _error_text(error) -> str:
    if not isinstance(error, dict):
        return _text(error) or "Unknown error"
    details = _text(_dict(error.get("error_data")).get("details"))
    return details or _text(error.get("message")) or _text(error.get("title")) or _text(error.get("code")) or "Unknown error"


def _from_unix(value) -> datetime.datetime:
    try:
        return datetime.datetime.fromtimestamp(int(value), tz=datetime.timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return timezone.now()


def _from_iso(value) -> datetime.datetime:
    try:
        parsed = datetime.datetime.fromisoformat(_text(value))
        # In UTC now: a time near year 1 or 9999 with an offset cannot be stored.
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)).astimezone(datetime.timezone.utc)
    except (ValueError, OverflowError):
        return timezone.now()


def _apply_system_change(contact: Contact, system: dict) -> None:
    """`user_changed_number`: the customer's new number joins their contact (and becomes primary)."""
    if system.get("type") != "user_changed_number":
        return
    new_number = phones.try_e164(_text(system.get("wa_id")) or _text(system.get("new_wa_id")))
    if not new_number or ContactPhone.objects.filter(number=new_number).exists():
        return
    contact.phones.update(is_primary=False)
    ContactPhone.objects.create(contact=contact, number=new_number, is_primary=True, label="WhatsApp (new)")


def _apply_wa_status(channel: Channel, data) -> str | None:
    if not isinstance(data, dict) or not _provider_id(data.get("id"), "status's message id") or not _text(data.get("status")):
        raise Unprocessable("A status without an id or a status.")
    provider_id = _provider_id(data["id"])
    if data.get("type") == "call" or provider_id.startswith("wacid."):
        return "WhatsApp call statuses are kept but not handled yet"
    status = {"played": "read"}.get(_text(data["status"]).lower(), _text(data["status"]).lower())
    if status not in ("sent", "delivered", "read", "failed"):
        return f"Status “{_text(data['status'])[:40]}” has no meaning for a message's ticks"
    errors = _as_list(data.get("errors"))
    apply_status(
        channel,
        provider_id=provider_id,
        callback_data=_text(data.get("custom_callback_data")) or _text(data.get("biz_opaque_callback_data")),
        status=status,
        at=_from_unix(data.get("timestamp")),
        error_code=_text(_dict(errors[0]).get("code"))[:32] if errors else "",
        error_message=_error_text(errors[0]) if errors else "",
        recipient=_text(data.get("recipient_id")),
        details={k: data[k] for k in ("conversation", "pricing") if k in data},
    )
    return None


# ================================================================ RCS

RCS_STATUS = {
    "MESSAGE_DELIVERED": "delivered",
    "DELIVERED": "delivered",
    "MESSAGE_READ": "read",
    "READ": "read",
    "SEND_MESSAGE_SUCCESS": "sent",
    "SEND_MESSAGE_FAILURE": "failed",
    "TTL_EXPIRATION_REVOKED": "failed",
}
RCS_TYPING = {"TYPING", "IS_TYPING"}


def _rcs_user(payload: dict, entity: dict) -> str | None:
    """The customer's number of an RCS event, in E.164 (None when it has none we can read)."""
    return phones.try_e164(_text(payload.get("userPhoneNumber")) or _text(entity.get("senderPhoneNumber")))


def _rcs_name(payload: dict, entity: dict) -> str:
    """The customer's name where an RCS event carries one. Tata's reference shows none (RBM user
    messages have only the number), but aggregators that know the profile forward it as
    userName/displayName; without one the contact keeps the name it has, or shows its number."""
    for value in (payload.get("userName"), payload.get("displayName"), entity.get("userName"), entity.get("displayName")):
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return ""


def _apply_rcs(channel: Channel, payload: dict) -> str | None:
    entity = payload.get("entity") if isinstance(payload.get("entity"), dict) else None
    entity_type = _text(payload.get("entityType"))
    if entity is None:
        raise Unprocessable("An RCS payload without an entity.")
    user = _rcs_user(payload, entity)
    message_id = _provider_id(entity.get("messageId"), "messageId")
    if entity_type == "USER_MESSAGE":
        if user is None or not message_id:
            raise Unprocessable("An RCS user message without a valid userPhoneNumber or messageId.")
        record_inbound(channel, user, _rcs_name(payload, entity), parse_rcs_message(payload))
        return None
    event_type = _text(entity.get("eventType")).upper()
    if event_type in RCS_TYPING:
        if user:
            _publish_typing(channel, user)
        return "Typing indicator (shown live, not stored)"
    status = RCS_STATUS.get(event_type)
    if status is None:
        if entity_type in ("USER_EVENT", "STATUS_EVENT", "SERVER_EVENT"):
            raise Ignored(f"RCS event {event_type or '(no eventType)'} has nothing to apply")
        raise Unprocessable(f"Unknown RCS entityType “{entity_type[:40]}”.")
    if not message_id:
        raise Unprocessable(f"RCS {event_type} without a messageId.")
    error = _dict(entity.get("error"))
    message_text = _text(error.get("message"))
    if event_type == "TTL_EXPIRATION_REVOKED":
        message_text = "Not delivered before it expired; the message was revoked."
    apply_status(
        channel,
        provider_id=message_id,
        callback_data=message_id,
        status=status,
        at=_from_iso(entity.get("sendTime")),
        error_code=(_text(error.get("errCode")) or _text(error.get("code")) or ("TTL" if event_type.startswith("TTL") else ""))[:32],
        error_message=message_text,
        recipient=user or "",
    )
    return None


def parse_rcs_message(payload: dict) -> ParsedMessage:
    """A Tata/Jio (or Google RBM) RCS user message → ParsedMessage. Unused keys arrive as null."""
    entity = _dict(payload.get("entity"))
    text = _text(entity.get("text"))
    parsed = ParsedMessage(
        provider_id=_provider_id(entity.get("messageId"), "messageId"),
        type="text",
        body="",
        content=payload,
        timestamp=_from_iso(entity.get("sendTime")),
        reply_to_provider_id=_provider_id(_dict(payload.get("metaData")).get("orgMsgId"), "quoted message id"),
    )
    suggestion = _dict(entity.get("suggestionResponse"))
    file = _dict(_dict(entity.get("userFile")).get("payload"))
    location = _dict(entity.get("location"))
    if suggestion:
        # When both text and a suggestion are filled, the suggestion is the machine-readable intent.
        parsed.type = "suggestion"
        parsed.body = (
            _text(suggestion.get("plainText")) or _text(suggestion.get("text")) or text
            or _text(_dict(suggestion.get("postBack")).get("data")) or _text(suggestion.get("postbackData"))
        )
    elif location:
        parsed.type = "location"
        parsed.body = location_text(location.get("latitude"), location.get("longitude"))
    elif file:
        mime = _text(file.get("mimeType"))
        kind = mime.split("/")[0] if mime.split("/")[0] in ("image", "video", "audio") else "document"
        parsed.type = kind
        label = _media_label(kind, {"filename": file.get("fileName")})
        parsed.body = text.strip() or label
        parsed.preview = label
        size = file.get("fileSizeBytes")
        parsed.attachment = AttachmentSpec(
            kind=kind,
            source_url=_text(file.get("fileUri")),
            mime_type=mime,
            file_name=_text(file.get("fileName")),
            size=size if isinstance(size, int) and not isinstance(size, bool) and 0 <= size < 2**63 else None,
        )
    elif text:
        parsed.body = text
    else:
        parsed.type = "unsupported"
        parsed.body = "An RCS message Sampark cannot show (kept as received)."
    return parsed


def _publish_typing(channel: Channel, user: str) -> None:
    conversation = (
        Conversation.objects.filter(channel=channel, contact__phones__number=user).only("pk", "assignee_id", "team_id").first()
    )
    if conversation is not None:
        publish("typing", {"conversation": conversation.pk}, events.conversation_groups(conversation))


# ================================================================ applying (shared by WhatsApp and RCS)


def record_inbound(channel: Channel, phone: str, name: str, parsed: ParsedMessage) -> Message | None:
    """Store one customer message; None when it was already stored (a duplicate delivery).

    Locks the conversation row for the counters (unread, last message) so two messages of one customer
    processed side by side both count.
    """
    rows = _batch_rows.get()
    if rows.stored_pk(channel.pk, parsed.provider_id):
        return None  # the provider delivered it again: already stored
    contact = _contact(phone, name)
    conversation, opened = _locked_conversation(channel, contact)
    reply_to_id = rows.quoted_pk(conversation, parsed.reply_to_provider_id)
    message = Message(
        channel=channel,
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        source=Message.Source.CUSTOMER,
        type=parsed.type[:32],
        body=parsed.body,
        content=parsed.content,
        status=Message.Status.RECEIVED,
        error_code=parsed.error_code,
        error_message=parsed.error_message,
        provider_message_id=parsed.provider_id,
        reply_to_id=reply_to_id,
        reply_to_provider_id=parsed.reply_to_provider_id[:255],
        timestamp=parsed.timestamp,
    )
    # Stored by a concurrent drain since the batch was read: the unique id raises IntegrityError and
    # the event is tried again, when it finds the message stored.
    message.save(force_insert=True)
    rows.add(message)

    if parsed.attachment is not None:
        _add_attachment(message, parsed.attachment)
    if parsed.reaction_emoji is not None and reply_to_id:
        _apply_reaction(Message.objects.select_for_update().get(pk=reply_to_id), message)

    previous_status = conversation.status
    changed = ["updated_at"]
    if parsed.counts_as_unread:
        conversation.unread_count += 1
        changed.append("unread_count")
    if parsed.preview or parsed.body:
        if conversation.last_message_at is None or message.timestamp >= conversation.last_message_at:
            conversation.last_message_at = message.timestamp
            conversation.last_message_preview = (parsed.preview or parsed.body)[:PREVIEW_LENGTH]
            changed += ["last_message_at", "last_message_preview"]
    if parsed.type != "system" and (conversation.last_inbound_at is None or message.timestamp > conversation.last_inbound_at):
        conversation.last_inbound_at = message.timestamp
        changed.append("last_inbound_at")
    if conversation.status in (Conversation.Status.RESOLVED, Conversation.Status.SNOOZED):
        conversation.status = Conversation.Status.OPEN
        conversation.snoozed_until = None
        changed += ["status", "snoozed_until"]
    conversation.save(update_fields=changed)

    events.message_created(message)
    if opened or conversation.status != previous_status:
        events.conversation_updated(conversation)
    return message


def _contact(phone: str, name: str) -> Contact:
    rows = _batch_rows.get()
    contact, created = find_or_create_by_phone(phone, name=name, known=rows.contacts)
    if created:
        rows.new_contact_ids.add(contact.pk)
    return contact


def _locked_conversation(channel: Channel, contact: Contact) -> tuple[Conversation, bool]:
    rows = _batch_rows.get()
    key = (channel.pk, contact.pk)
    if key in rows.conversations:
        return rows.conversations[key], False
    # A contact this batch created has no conversation, and nobody else can see it before we commit:
    # no lookup, and no race to guard with a savepoint.
    new_contact = contact.pk in rows.new_contact_ids
    conversation = None if new_contact else Conversation.objects.select_for_update().filter(channel=channel, contact=contact).first()
    opened = conversation is None
    if opened:
        try:
            with transaction.atomic(savepoint=not new_contact):
                conversation = Conversation.objects.create(channel=channel, contact=contact, team_id=channel.team_id)
        except IntegrityError:  # opened by a concurrent event for the same customer
            conversation, opened = Conversation.objects.select_for_update().get(channel=channel, contact=contact), False
    rows.conversations[key] = conversation
    return conversation, opened


def _add_attachment(message: Message, spec: AttachmentSpec) -> None:
    from inbox.tasks import download_attachment

    attachment = Attachment.objects.create(
        message=message,
        kind=spec.kind,
        provider_media_id=spec.provider_media_id[:255],
        source_url=spec.source_url[:2000],
        mime_type=spec.mime_type[:100],
        sha256=spec.sha256[:128],
        file_name=spec.file_name[:255],
        size=spec.size,
    )
    if attachment.provider_media_id or attachment.source_url:
        enqueue(download_attachment, attachment.pk)
    else:
        Attachment.objects.filter(pk=attachment.pk).update(status=Attachment.Status.FAILED, error="The provider sent no media id or link.")


def _apply_reaction(target: Message, reaction: Message) -> None:
    """Set the reacting side's current emoji on the target, unless a newer reaction already did."""
    side = reaction.direction
    current = target.reactions.get(side) or {}
    at = reaction.timestamp.isoformat()
    if current.get("at") and current["at"] > at:
        return  # an older reaction arriving late (retry burst) does not undo a newer one
    reacted = _dict(reaction.content.get("reaction")) if reaction.type == "reaction" else {}
    emoji = _text(reacted["emoji"]) if "emoji" in reacted else reaction.body
    target.reactions = {**target.reactions, side: {"emoji": emoji or "", "at": at}}
    target.save(update_fields=["reactions"])
    events.message_updated(target)


def _uid_from_callback(callback_data: str) -> uuid.UUID | None:
    if not callback_data.startswith(CALLBACK_PREFIX):
        return None
    try:
        return uuid.UUID(callback_data[len(CALLBACK_PREFIX) :])
    except ValueError:
        return None


def apply_status(
    channel: Channel,
    *,
    provider_id: str,
    callback_data: str,
    status: str,
    at: datetime.datetime,
    error_code: str = "",
    error_message: str = "",
    recipient: str = "",
    details: dict | None = None,
) -> Message:
    """Move an outbound message's status forward (never back). Locks the message row.

    `failed` never replaces delivered/read (the customer got it; the error is still recorded), and a
    delivered/read that arrives after a failed wins for the same reason. Unknown ids become an
    outbound placeholder (source=campaign): something was sent from outside Sampark.
    """
    message = None
    uid = _uid_from_callback(callback_data)
    if uid is not None:
        message = Message.objects.select_for_update().filter(channel=channel, uid=uid).first()
        if message is not None and provider_id and message.provider_message_id != provider_id:
            _adopt_provider_id(message, provider_id)
    if message is None:
        message = Message.objects.select_for_update().filter(channel=channel, provider_message_id=provider_id).first()
    if message is None:
        message = _outside_message(
            channel, provider_id, recipient, status, at, details or {}, error_code=error_code, error_message=error_message
        )
        if message is None:  # created concurrently by another event; apply on top of it
            message = Message.objects.select_for_update().get(channel=channel, provider_message_id=provider_id)
        else:
            return message

    changed = advance_status(message, status, at, error_code=error_code, error_message=error_message)
    if message.source == Message.Source.CAMPAIGN and status == "sent" and at < message.timestamp:
        message.timestamp = at  # the placeholder was made from a later status; "sent" is when it went out
        changed.append("timestamp")
    if changed:
        message.save(update_fields=changed)
        events.message_updated(message)
    return message


def advance_status(message: Message, status: str, at, *, error_code: str = "", error_message: str = "") -> list[str]:
    """Apply a status to the in-memory message; returns the changed field names (nothing saved)."""
    rank = Message.STATUS_RANK
    current = message.status
    changed: list[str] = []
    if status == Message.Status.FAILED:
        if error_code or error_message:
            message.error_code, message.error_message = error_code[:32], error_message or "Failed to send"
            changed += ["error_code", "error_message"]
        if rank[current] < rank[Message.Status.DELIVERED]:
            message.status = status
            changed.append("status")
    elif current == Message.Status.FAILED:
        if status in (Message.Status.DELIVERED, Message.Status.READ):
            message.status = status
            changed.append("status")
    elif rank[status] > rank[current]:
        message.status = status
        changed.append("status")
    if "status" in changed:
        # Our clock, not the provider's: browsers catching up after a reconnect ask "what changed since".
        message.status_updated_at = timezone.now()
        changed.append("status_updated_at")
    return changed


def _adopt_provider_id(message: Message, provider_id: str) -> None:
    """Found by our callback data: learn the provider's id. A placeholder made for that id before (a
    status that came without callback data) is folded into the real message."""
    placeholder = Message.objects.filter(
        channel_id=message.channel_id, provider_message_id=provider_id, source=Message.Source.CAMPAIGN
    ).exclude(pk=message.pk).first()
    if placeholder is not None:
        # Only what was said in the message's own conversation follows it (the placeholder was made
        # for whichever recipient the status named).
        same_audience = placeholder.conversation_id == message.conversation_id
        if same_audience:
            Message.objects.filter(reply_to=placeholder, conversation_id=message.conversation_id).update(reply_to=message)
            message.reactions = {**placeholder.reactions, **message.reactions}
        advance_status(message, placeholder.status, placeholder.status_updated_at or placeholder.timestamp,
                       error_code=placeholder.error_code, error_message=placeholder.error_message)
        placeholder.delete()
    message.provider_message_id = provider_id
    message.save(update_fields=["provider_message_id", "status", "status_updated_at", "error_code", "error_message", "reactions"])


OUTSIDE_BODY = "Sent from outside Sampark (a Tata portal campaign or another tool); the content is not available."


def _outside_message(channel, provider_id, recipient, status, at, details, *, error_code="", error_message="") -> Message | None:
    """An outbound placeholder for a status whose message we never sent; None if it exists already."""
    phone = phones.try_e164(recipient)
    if phone is None:
        raise Unprocessable(f"A status for an unknown message ({provider_id}) with no usable recipient.")
    contact = _contact(phone, "")
    conversation, opened = _locked_conversation(channel, contact)
    message = Message(
        channel=channel,
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        source=Message.Source.CAMPAIGN,
        type="unknown",
        body=OUTSIDE_BODY,
        content=details,
        status=Message.Status.QUEUED,
        provider_message_id=provider_id,
        timestamp=at,
    )
    advance_status(message, status, at, error_code=error_code, error_message=error_message)
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        return None
    _batch_rows.get().add(message)
    if conversation.last_message_at is None or at >= conversation.last_message_at:
        conversation.last_message_at = at
        conversation.last_message_preview = "Sent outside Sampark"
        conversation.save(update_fields=["last_message_at", "last_message_preview", "updated_at"])
    events.message_created(message)
    if opened:
        events.conversation_updated(conversation)
    return message
