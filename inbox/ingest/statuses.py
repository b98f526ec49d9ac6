"""Status callbacks (StatusUpdate records) → our outbound messages' ticks. Statuses only move forward
(`Message.advance_status` holds the rule).

A status finds its message by our callback data first ("sampark-msg-<uid>"), then by the provider id;
a status for an id we never sent creates an outbound placeholder with `source=campaign` (something was
sent from outside Sampark), which is folded into the real message if its callback data turns up later.
Events (after commit): `message.updated` for a status change, `message.created` for a placeholder.
"""

import uuid

from django.db import IntegrityError, transaction

from core import phones
from inbox import events
from inbox.ingest.readahead import batch_open
from inbox.models import Channel, Message
from inbox.providers.payloads import StatusUpdate, Unprocessable

CALLBACK_PREFIX = "sampark-msg-"  # Message.callback_data
OUTSIDE_BODY = "Sent from outside Sampark (a Tata portal campaign or another tool); the content is not available."


def apply_status(channel: Channel, update: StatusUpdate) -> Message:
    """Move an outbound message's status forward (never back). Locks the message row.

    `failed` never replaces delivered/read (the customer got it; the error is still recorded), and a
    delivered/read that arrives after a failed wins for the same reason. Unknown ids become an
    outbound placeholder (source=campaign): something was sent from outside Sampark.
    """
    message, changed = None, []
    uid = _uid_from_callback(update.callback_data)
    if uid is not None:
        message = _locked(channel).filter(uid=uid).first()
        if message is not None and update.provider_id and message.provider_message_id != update.provider_id:
            changed = _adopt_or_defer(message, update.provider_id)
    if message is None:
        message = _locked(channel).filter(provider_message_id=update.provider_id).first()
    if message is None:
        message = _outside_message(channel, update)
        if message is None:  # created concurrently by another event; apply on top of it
            message = _locked(channel).get(provider_message_id=update.provider_id)
        else:
            return message

    changed += message.advance_status(update.status, update.at, error_code=update.error_code, error_message=update.error_message)
    if message.source == Message.Source.OUTSIDE_SAMPARK and update.status == "sent" and update.at < message.timestamp:
        message.timestamp = update.at  # the placeholder was made from a later status; "sent" is when it went out
        changed.append("timestamp")
    if changed:
        message.save(update_fields=changed)
        if changed != ["provider_message_id"]:  # browsers show the status, not the provider's id
            events.message_updated(message)
    return message


def _locked(channel: Channel):
    """The channel's messages, the row read locked, with its conversation (whose assignee and team
    say who hears of a change)."""
    return Message.objects.select_for_update(of=("self",)).select_related("conversation").filter(channel=channel)


def _adopt_or_defer(message: Message, provider_id: str) -> list[str]:
    """Learn the provider's id. When the batch's read-ahead knows no message holds it (the usual case:
    the first status after our send), there is no placeholder to fold in, and the id is written with
    the status in one UPDATE (returns the field to save); otherwise `adopt_provider_id` folds it now."""
    with batch_open() as rows:
        stored = rows.stored_pk(message.channel_id, provider_id)
    if stored is None:
        message.provider_message_id = provider_id
        return ["provider_message_id"]
    adopt_provider_id(message, provider_id)
    return []


def _uid_from_callback(callback_data: str) -> uuid.UUID | None:
    if not callback_data.startswith(CALLBACK_PREFIX):
        return None
    try:
        return uuid.UUID(callback_data[len(CALLBACK_PREFIX) :])
    except ValueError:
        return None


def adopt_provider_id(message: Message, provider_id: str) -> None:
    """Found by our callback data: learn the provider's id. A placeholder made for that id before (a
    status that came without callback data) is folded into the real message."""
    placeholder = Message.objects.filter(
        channel_id=message.channel_id, provider_message_id=provider_id, source=Message.Source.OUTSIDE_SAMPARK
    ).exclude(pk=message.pk).first()
    if placeholder is not None:
        # Only what was said in the message's own conversation follows it (the placeholder was made
        # for whichever recipient the status named).
        same_audience = placeholder.conversation_id == message.conversation_id
        if same_audience:
            Message.objects.filter(reply_to=placeholder, conversation_id=message.conversation_id).update(reply_to=message)
            message.reactions = {**placeholder.reactions, **message.reactions}
        message.advance_status(placeholder.status, placeholder.status_updated_at or placeholder.timestamp,
                               error_code=placeholder.error_code, error_message=placeholder.error_message)
        placeholder.delete()
    message.provider_message_id = provider_id
    message.save(update_fields=["provider_message_id", "status", "status_updated_at", "error_code", "error_message", "reactions"])


def _outside_message(channel: Channel, update: StatusUpdate) -> Message | None:
    """An outbound placeholder for a status whose message we never sent; None if it exists already."""
    phone = phones.try_e164(update.recipient)
    if phone is None:
        raise Unprocessable(f"A status for an unknown message ({update.provider_id}) with no usable recipient.")
    with batch_open() as rows:
        contact = rows.contact(phone, "")
        conversation, opened = rows.conversation(channel, contact)
        message = Message(
            channel=channel,
            conversation=conversation,
            direction=Message.Direction.OUTBOUND,
            source=Message.Source.OUTSIDE_SAMPARK,
            type="unknown",
            body=OUTSIDE_BODY,
            content=update.details,
            status=Message.Status.QUEUED,
            provider_message_id=update.provider_id,
            timestamp=update.at,
        )
        message.advance_status(update.status, update.at, error_code=update.error_code, error_message=update.error_message)
        try:
            with transaction.atomic():
                message.save(force_insert=True)
        except IntegrityError:
            return None
        rows.add(message)
    conversation.note_outside_message(update.at)
    events.message_created(message)
    if opened:
        events.conversation_updated(conversation)
    return message
