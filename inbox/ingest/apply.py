"""Typed records (inbox.providers.payloads) → contacts, conversations and messages. Idempotent.

What lands where, for the UI and the API:
- `Message.body` is always readable on its own: the text, a caption, the tapped button's title,
  "📍 place — address", "👤 Ravi Kumar", an order summary, or a placeholder for what WhatsApp cannot
  show. `Message.content` is the provider's message object as received; `Message.display` is what its
  bubble shows, computed by the provider's parser (inbox.display).
- Media: an Attachment (pending → downloading → ready / failed) fetched by the task
  `inbox.download_attachment` (inbox.media).
- Reactions are `type="reaction"` messages pointing at their target (`reply_to`); the target's
  `reactions` field holds each side's current emoji. Threads show them on the target, not as bubbles.
- Replies: `reply_to` when the quoted message is known, else `reply_to_provider_id`; a quoted message
  (or a reaction's target) that arrives later is linked then (readahead.BatchRows.link_waiting_messages).
- Statuses: inbox.ingest.statuses.

Events (after commit): `message.created` for every new message (it carries the conversation's list
fields), `message.updated` for reaction changes, and `conversation.updated` when a conversation is
opened or reopened.
"""

from contacts.models import Contact, ContactPhone
from core.events import publish
from core.tasks import enqueue
from inbox import events
from inbox.ingest import statuses
from inbox.ingest.readahead import batch_open
from inbox.models import Attachment, Channel, Conversation, Message
from inbox.providers.payloads import AttachmentSpec, InboundMessage, NothingToApply, StatusUpdate, Typing


def apply_records(channel: Channel, records: list) -> str | None:
    """Apply an event's records; returns why nothing was stored when every one was known but needs nothing."""
    outcomes = [APPLIERS[type(record)](channel, record) for record in records]
    if all(outcome is not None for outcome in outcomes):
        return "; ".join(sorted(set(outcomes)))
    return None


def _apply_inbound(channel: Channel, record: InboundMessage) -> None:
    message = record_inbound(channel, record)
    if message is not None and record.new_number:
        _add_new_number(message.conversation.contact, record.new_number)


def _apply_status(channel: Channel, record: StatusUpdate) -> None:
    statuses.apply_status(channel, record)


def _apply_typing(channel: Channel, record: Typing) -> str:
    if record.user:
        conversation = (
            Conversation.objects.filter(channel=channel, contact__phones__number=record.user).only("pk", "assignee_id", "team_id").first()
        )
        if conversation is not None:
            publish("typing", {"conversation": conversation.pk}, events.conversation_groups(conversation))
    return record.reason


def _nothing(channel: Channel, record: NothingToApply) -> str:
    return record.reason


APPLIERS = {InboundMessage: _apply_inbound, StatusUpdate: _apply_status, Typing: _apply_typing, NothingToApply: _nothing}


def record_inbound(channel: Channel, parsed: InboundMessage) -> Message | None:
    """Store one customer message; None when it was already stored (a duplicate delivery).

    Locks the conversation row for the counters (unread, last message) so two messages of one customer
    processed side by side both count. Works inside a drain's batch or on its own.
    """
    with batch_open() as rows:
        if rows.stored_pk(channel.pk, parsed.provider_id):
            return None  # the provider delivered it again: already stored
        contact = rows.contact(parsed.sender, parsed.sender_name)
        conversation, opened = rows.conversation(channel, contact)
        reply_to_id = rows.quoted_pk(conversation, parsed.reply_to_provider_id)
        message = Message(
            channel=channel,
            conversation=conversation,
            direction=Message.Direction.INBOUND,
            source=Message.Source.CUSTOMER,
            type=parsed.type[:32],
            body=parsed.body,
            content=parsed.content,
            display=parsed.display,
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
        target = Message.objects.select_for_update().get(pk=reply_to_id)
        if target.take_reaction(message.direction, parsed.reaction_emoji, message.timestamp):
            events.message_updated(target)

    reopened = conversation.note_inbound(
        message, preview=parsed.preview or parsed.body, counts_as_unread=parsed.counts_as_unread, opens_window=parsed.type != "system"
    )
    events.message_created(message)
    if opened or reopened:
        events.conversation_updated(conversation)
    return message


def _add_attachment(message: Message, spec: AttachmentSpec) -> None:
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
        enqueue("inbox.download_attachment", attachment.pk)
    else:
        Attachment.objects.filter(pk=attachment.pk).update(status=Attachment.Status.FAILED, error="The provider sent no media id or link.")


def _add_new_number(contact: Contact, new_number: str) -> None:
    """`user_changed_number`: the customer's new number joins their contact (and becomes primary)."""
    if ContactPhone.objects.filter(number=new_number).exists():
        return
    contact.phones.update(is_primary=False)
    ContactPhone.objects.create(contact=contact, number=new_number, is_primary=True, label="WhatsApp (new)")
