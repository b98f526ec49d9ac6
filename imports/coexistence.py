"""Applying Meta's WhatsApp coexistence webhooks (read by inbox.providers.meta_coexistence).

Registered into inbox.ingest's coexistence hook (imports.apps), so it runs in the webhook drain,
inside the event's own savepoint; a replay of the stored event runs it again (everything here is
idempotent: provider ids and import keys are unique per number).

- `history`: the event is stored already; one ImportJob per event (`webhook_event`) applies its
  messages in batches of imports.services.BATCH_SIZE, each its own transaction, off the drain, with the
  same writer as the file imports (dedupe, placeholders, progress, cancel). Declined history is
  recorded as the event's outcome. History rows are Source.IMPORT, keep their times, directions and
  statuses, and touch nothing on the conversation (no unread, no window, no list movement).
- media follow-ups (the later `history` webhooks with a media id, last 14 days) fill the stored
  `media_placeholder` rows.
- `smb_message_echoes`: outbound messages with Source.PHONE ("sent from the phone"): live activity,
  so they move the conversation's last message like any outbound, but never count as unread.
- `smb_app_state_sync`: a contact added on the phone is found or created by number and gets the
  phone's name if it had none; a removal deletes nothing (the customer and the history stay).
- An ordinary live message whose text an export imported earlier (no provider id) replaces that
  imported row, so each message is one row whichever came first.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from contacts.models import Contact, ContactPhone
from contacts.services import find_or_create_by_phone
from core import phones
from core.tasks import enqueue
from core.untrusted import loads_json
from imports import placeholders
from imports.models import ImportJob
from imports import readers
from imports.readers import Row, import_key
from inbox import events
from inbox.providers.payloads import AttachmentSpec
from inbox.providers.tata_whatsapp import parse_wa_message
from inbox.models import Attachment, Channel, Conversation, Message, WebhookEvent
from inbox.providers import meta_coexistence as meta

MEDIA_PLACEHOLDER = "media_placeholder"
MEDIA_PLACEHOLDER_BODY = "📎 Media (WhatsApp shares the file only for the last 14 days of history)"
PREVIEW_LENGTH = 200


@dataclass
class CoexistenceParts:
    """A stored webhook's coexistence parts, read by split_payload; applied (apply_parts) before the
    payload's ordinary records. `rest` is what the ordinary WhatsApp path reads."""

    event: WebhookEvent
    found: meta.Coexistence
    rest: dict | None


def split_payload(event: WebhookEvent, payload: dict) -> tuple[list, dict | None]:
    """inbox.ingest.parse's splitter: ([CoexistenceParts] or [], the rest of the payload). Reads only."""
    channel = event.channel
    if channel is None or channel.kind != Channel.Kind.WHATSAPP:
        return [], payload
    found = meta.read(payload, channel.phone_number)
    rest = found.rest
    if rest is not None:
        # Only history media follow-ups of the business's own messages are media sent by its own number.
        business_sent = set(meta.sent_by_business(rest, channel.phone_number)) & set(meta.media_follow_up_ids(rest))
        if business_sent:
            media, rest = meta.split_messages(rest, business_sent)
            found.media += media
    checks_rest = rest is not None and (meta.media_follow_up_ids(rest) or meta.inbound_texts(rest, channel.phone_number))
    if not (found.history or found.media or found.echoes or found.contacts or checks_rest):
        return [], rest
    return [CoexistenceParts(event, found, rest)], rest


def apply_parts(channel: Channel, parts: CoexistenceParts) -> str | None:
    """inbox.ingest.apply's applier of CoexistenceParts: history queued as a job, media follow-ups,
    echoes and contacts applied; a live message's imported twin dropped before the live one is stored."""
    found, outcomes = parts.found, []
    if parts.rest is not None:
        # A media message that is a stored placeholder's follow-up fills it (the ordinary path then
        # finds the id stored and adds nothing).
        for item in _media_follow_ups(channel, parts.rest):
            outcomes.append(_apply_media(channel, item))
        _drop_imported_twins(channel, parts.rest)
    event = parts.event
    if found.history:
        outcomes += _queue_history(event, found.history)
    outcomes += [_apply_media(channel, item) for item in found.media]
    outcomes += [apply_echo(channel, echo) for echo in found.echoes]
    outcomes += [_apply_contact(contact) for contact in found.contacts]
    if outcomes and all(outcome is not None for outcome in outcomes):
        return "; ".join(sorted(set(outcomes)))
    return None


# ---------------------------------------------------------------- history


def _queue_history(event: WebhookEvent, chunks: list[meta.HistoryChunk]) -> list:
    outcomes = [f"History sharing declined: {chunk.declined}" for chunk in chunks if chunk.declined]
    total = sum(chunk.count() for chunk in chunks)
    if not total:
        progress = max((chunk.progress or 0 for chunk in chunks), default=0)
        return outcomes or [f"History progress {progress}% (no messages in this chunk)"]
    scan = {
        "lines": total,
        "chunks": [{"phase": c.phase, "chunk_order": c.chunk_order, "progress": c.progress} for c in chunks],
    }
    job, created = ImportJob.objects.get_or_create(
        webhook_event=event,
        defaults={
            "kind": ImportJob.Kind.HISTORY_WEBHOOK, "channel": event.channel, "status": ImportJob.Status.QUEUED, "scan": scan,
            "file_name": f"WhatsApp history (webhook #{event.pk}, phase {chunks[0].phase}, chunk {chunks[0].chunk_order})",
        },
    )  # fmt: skip
    if created or job.finished:  # a replay of the event runs its job again (the dedupe keeps it one row each)
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED, finished_at=None, failure="")
        enqueue("imports.run_import", job.pk)
    return outcomes + [None]


class HistoryReader:
    """A history webhook's stored body → rows, any number of threads (one per customer)."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.channel = job.channel
        self.contacts: dict = {}
        self.conversations: dict[str, tuple[int, int] | None] = {}

    def batches(self, fileobj, writer, size: int) -> Iterator[list[Row]]:
        payload = loads_json(bytes(self.job.webhook_event.body), depth_checked=True)
        chunks = meta.read(payload if isinstance(payload, dict) else {}, self.channel.phone_number).history
        self.conversations = history_conversations(self.channel, {c for chunk in chunks for c in chunk.customers()})
        batch: list[Row] = []
        number = 0
        for chunk in chunks:
            for record in chunk.messages():
                number += 1
                self.job.processed = number
                ids = self._conversation(record.customer)
                if ids is None:
                    writer.fail(number, f"The thread's number “{record.customer[:20]}” is not a phone number", record.provider_id)
                    continue
                message = history_message(self.channel, ids, record, job=self.job.pk, chunk=chunk)
                batch.append(Row(number, message, ids[0]))
                if len(batch) >= size:
                    yield batch
                    batch = []
        yield batch

    def _conversation(self, customer: str) -> tuple[int, int] | None:
        """(contact id, conversation id) of a thread's customer, created as an import creates them."""
        if customer not in self.conversations:
            self.conversations[customer] = history_conversation(self.channel, customer, known=self.contacts)
        return self.conversations[customer]


def history_conversations(channel: Channel, customers: set[str]) -> dict[str, tuple[int, int] | None]:
    """customer digits → (contact id, conversation id) for a whole history webhook, in a few queries
    (a phase may name thousands of customers): existing contacts and conversations are read at once,
    the missing ones inserted in bulk (contacts with no name yet; conversations resolved, like an
    import's). The numbers' unique constraints settle races with live webhooks."""
    numbers = {customer: phones.try_e164(customer) for customer in customers}
    wanted = {number for number in numbers.values() if number}
    contact_of = dict(ContactPhone.objects.filter(number__in=wanted).values_list("number", "contact_id"))
    missing = sorted(wanted - contact_of.keys())
    if missing:
        created = Contact.objects.bulk_create([Contact(name="") for _ in missing])
        ContactPhone.objects.bulk_create(
            [ContactPhone(contact=contact, number=number, is_primary=True) for contact, number in zip(created, missing, strict=True)],
            ignore_conflicts=True,
        )
        contact_of = dict(ContactPhone.objects.filter(number__in=wanted).values_list("number", "contact_id"))
        Contact.objects.filter(pk__in={c.pk for c in created} - set(contact_of.values())).delete()  # lost a race: unused
    conversation_of = dict(Conversation.objects.filter(channel=channel, contact_id__in=contact_of.values()).values_list("contact_id", "pk"))
    new = [contact_id for contact_id in set(contact_of.values()) if contact_id not in conversation_of]
    if new:
        Conversation.objects.bulk_create(
            [Conversation(channel=channel, contact_id=contact_id, team_id=channel.team_id, status=Conversation.Status.RESOLVED) for contact_id in new],
            ignore_conflicts=True,
        )
        conversation_of = dict(Conversation.objects.filter(channel=channel, contact_id__in=contact_of.values()).values_list("contact_id", "pk"))
    return {
        customer: (contact_of[number], conversation_of[contact_of[number]]) if number in contact_of else None
        for customer, number in numbers.items()
    }


def history_conversation(channel: Channel, customer: str, *, known: dict | None = None) -> tuple[int, int] | None:
    number = phones.try_e164(customer)
    if number is None:
        return None
    contact, _ = find_or_create_by_phone(number, known=known)
    return contact.pk, readers.history_conversation(contact, channel).pk


def history_message(channel: Channel, ids: tuple[int, int], record: meta.HistoryMessage, **origin) -> Message:
    """An unsaved history row: Source.IMPORT, its own time, direction and status, keyed both ways."""
    contact_id, conversation_id = ids
    chunk = origin.pop("chunk", None)
    if chunk is not None:
        origin.update(phase=chunk.phase, chunk=chunk.chunk_order)
    kind, body = _content(record.message)
    direction = Message.Direction.OUTBOUND if record.outbound else Message.Direction.INBOUND
    return Message(
        channel_id=channel.pk,
        conversation_id=conversation_id,
        direction=direction,
        source=Message.Source.IMPORT,
        type=kind[:32],
        body=body,
        content={**record.message, "import": {"history": True, **origin}},
        status=record.status,
        timestamp=record.timestamp,
        provider_message_id=record.provider_id,
        # Also keyed like an exported row, so an export of the same chat finds it (and it finds the export's).
        import_key=import_key(contact_id, record.timestamp, direction, body),
    )


def _content(message: dict) -> tuple[str, str]:
    if message.get("type") == MEDIA_PLACEHOLDER:
        return MEDIA_PLACEHOLDER, MEDIA_PLACEHOLDER_BODY
    parsed = parse_wa_message(message)
    return parsed.type, parsed.body


# ---------------------------------------------------------------- media follow-ups


def _media_follow_ups(channel: Channel, payload: dict) -> list[dict]:
    """In Tata's envelope a follow-up reads like a live message: it is one when its id is a stored media
    placeholder."""
    candidates = meta.media_follow_up_ids(payload)
    if not candidates:
        return []
    ids = set(
        Message.objects.filter(channel=channel, provider_message_id__in=candidates, type=MEDIA_PLACEHOLDER).values_list("provider_message_id", flat=True)
    )
    return meta.split_messages(payload, ids)[0] if ids else []


def _apply_media(channel: Channel, item: dict) -> str | None:
    parsed = parse_wa_message(item)
    stored = Message.objects.select_for_update().filter(channel=channel, provider_message_id=parsed.provider_id).first()
    if stored is None:  # the follow-up came before its chunk: store it as history now; the chunk finds it
        business = meta.digits(channel.phone_number)
        outbound = meta.digits(item.get("from")) == business
        customer = meta.digits(item.get("to")) if outbound else meta.digits(item.get("from"))
        ids = history_conversation(channel, customer)
        if ids is None:
            return "A history media message without a customer's number"
        record = meta.HistoryMessage(customer, outbound, parsed.provider_id, parsed.timestamp, "sent" if outbound else "received", item)
        stored = history_message(channel, ids, record, media_follow_up=True)
        stored.save(force_insert=True)
    elif stored.source == Message.Source.OUTSIDE_SAMPARK and stored.body == placeholders.OUTSIDE_BODY:  # its status came first
        placeholders.fill(stored, Message(type=parsed.type[:32], body=parsed.body, content=item))
    elif stored.type != MEDIA_PLACEHOLDER:
        return None  # delivered again: already filled
    else:
        stored.type, stored.body = parsed.type[:32], parsed.body
        stored.content = {**item, "import": stored.content.get("import", {})}
        stored.save(update_fields=["type", "body", "content"])
    if parsed.attachment is not None and not stored.attachments.exists():
        _attach(stored, parsed.attachment)
    return None


def _attach(message: Message, spec: AttachmentSpec) -> None:
    attachment = Attachment.objects.create(
        message=message, kind=spec.kind, provider_media_id=spec.provider_media_id[:255], source_url=spec.source_url[:2000],
        mime_type=spec.mime_type[:100], sha256=spec.sha256[:128], file_name=spec.file_name[:255],
    )  # fmt: skip
    if attachment.provider_media_id or attachment.source_url:
        enqueue("inbox.download_attachment", attachment.pk)


# ---------------------------------------------------------------- echoes


def apply_echo(channel: Channel, echo: meta.Echo) -> str | None:
    """What the owner typed on the phone: the business's outbound message, marked Source.PHONE."""
    number = phones.try_e164(echo.customer)
    if number is None:
        return f"An echo to “{echo.customer[:20]}”, which is not a phone number"
    parsed = parse_wa_message(echo.message)
    message = Message(
        channel=channel, direction=Message.Direction.OUTBOUND, source=Message.Source.PHONE, type=parsed.type[:32], body=parsed.body,
        content=echo.message, status=Message.Status.SENT, provider_message_id=parsed.provider_id, timestamp=echo.timestamp,
    )  # fmt: skip
    stored = Message.objects.select_for_update().filter(channel=channel, provider_message_id=parsed.provider_id).first()
    if stored is not None:
        if stored.source == Message.Source.OUTSIDE_SAMPARK and stored.body == placeholders.OUTSIDE_BODY:
            placeholders.fill(stored, message, source=Message.Source.PHONE)  # its status callback came first
            _attach_once(stored, parsed.attachment)
            events.message_updated(stored)
        return None
    contact, _ = find_or_create_by_phone(number)
    conversation = Conversation.objects.select_for_update().get(pk=readers.history_conversation(contact, channel).pk)
    twin = Message.objects.filter(
        channel=channel, import_key=import_key(contact.pk, echo.timestamp, message.direction, message.body), provider_message_id__isnull=True
    ).first()
    if twin is not None:  # an export brought it first: that row learns its id and where it came from
        Message.objects.filter(pk=twin.pk).update(provider_message_id=message.provider_message_id, source=Message.Source.PHONE)
        return None
    message.conversation = conversation
    message.save(force_insert=True)
    _attach_once(message, parsed.attachment)
    if conversation.last_message_at is None or message.timestamp >= conversation.last_message_at:
        conversation.last_message_at = message.timestamp
        conversation.last_message_preview = (parsed.preview or parsed.body)[:PREVIEW_LENGTH]
        conversation.save(update_fields=["last_message_at", "last_message_preview", "updated_at"])
    events.message_created(message)
    return None


def _attach_once(message: Message, spec: AttachmentSpec | None) -> None:
    if spec is not None and not message.attachments.exists():
        _attach(message, spec)


# ---------------------------------------------------------------- the phone's contacts


def _apply_contact(sync: meta.ContactSync) -> str | None:
    number = phones.try_e164(sync.phone)
    if number is None:
        return f"A phone contact with “{sync.phone[:20]}”, which is not a phone number"
    if sync.action == "remove":
        return "A contact removed from the phone's address book (kept in Sampark)"
    find_or_create_by_phone(number, name=sync.full_name or sync.first_name)
    return None


# ---------------------------------------------------------------- live messages an export brought first


def _drop_imported_twins(channel: Channel, payload: dict) -> None:
    """A live text message whose export row (no provider id) is stored: drop that row, so the live one,
    which is about to be stored with its id (and opens the window as live messages do), is the only one."""
    texts = meta.inbound_texts(payload, channel.phone_number)
    if not texts:
        return
    until = placeholders.idless_until(channel)
    for sender, _provider_id, at, text in texts:
        if until is None or at.replace(second=0, microsecond=0) > until:
            continue  # newer than every exported row on this number: it cannot have a twin
        number = phones.try_e164(sender)
        contact_id = ContactPhone.objects.filter(number=number).values_list("contact_id", flat=True).first() if number else None
        if contact_id is not None:
            Message.objects.filter(
                channel=channel, import_key=import_key(contact_id, at, Message.Direction.INBOUND, text),
                provider_message_id__isnull=True, source=Message.Source.IMPORT,
            ).delete()  # fmt: skip
