"""A missed inbound call becomes inbox work: a message on the contact's conversation with the number
that was called (an inbox Channel of kind "voice", one per DID). So it is listed, assigned, resolved,
snoozed and seen live exactly like a WhatsApp conversation — docs/telephony.md explains the choice.
Nothing is ever sent on a voice channel; its thread offers "Message on WhatsApp" instead of a composer.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from core import phones
from inbox import events as inbox_events
from inbox.models import Channel, Conversation, Message

CALL_MESSAGE_TYPE = "call"
# What a follow-up changes on its conversation (the row is locked): the UPDATE names these only.
FOLLOW_UP_FIELDS = ["unread_count", "last_message_at", "last_message_preview", "status", "snoozed_until", "updated_at"]


def voice_channel(connection, did_number: str, known: dict | None = None) -> Channel:
    """The voice channel of the DID; `known` (DID → channel, read ahead for a batch) is looked in first and kept up to date."""
    number = did_number if did_number.startswith("+") else ""
    channel = known.get(number) if known is not None else None
    channel = channel or Channel.objects.filter(kind=Channel.Kind.VOICE, phone_number=number).first()
    if channel is not None:
        if known is not None:
            known[number] = channel
        return channel
    name = f"Calls {phones.display(number)}" if number else "Missed calls"  # formatting a number is a full parse
    try:
        with transaction.atomic():
            channel, _ = Channel.objects.get_or_create(
                kind=Channel.Kind.VOICE, phone_number=number,
                defaults={"name": name[:100], "team": connection.team if connection else None, "api_base_url": ""},
            )
    except IntegrityError:
        channel = Channel.objects.get(kind=Channel.Kind.VOICE, phone_number=number)
    if known is not None:
        known[number] = channel
    return channel


def describe(call) -> str:
    when = timezone.localtime(call.at).strftime("%H:%M")
    rang = f", rang {call.duration} s" if call.duration else ""
    return f"📞 Missed call at {when}{rang}"


def open_for(call, batch=None) -> Message | None:
    """The inbox item for a missed inbound call (once per call; the caller must hold the call's row).
    `batch` (telephony.ingest.CallBatch) holds the channels and locked conversations a drain read ahead."""
    if call.contact_id is None or call.follow_up_id is not None:
        return None
    channel = voice_channel(call.connection, call.did_number, known=batch.channels if batch is not None else None)
    key = (channel.pk, call.contact_id)
    if batch is not None and key in batch.conversations_read:
        conversation = batch.conversations.get(key)
    else:
        conversation = Conversation.objects.select_for_update().filter(channel=channel, contact_id=call.contact_id).first()
    opened = conversation is None
    if opened:
        try:
            with transaction.atomic():
                conversation = Conversation.objects.create(channel=channel, contact_id=call.contact_id, team_id=channel.team_id)
        except IntegrityError:
            conversation, opened = Conversation.objects.select_for_update().get(channel=channel, contact_id=call.contact_id), False
    moment = call.at
    message = Message.objects.create(
        channel=channel, conversation=conversation, direction=Message.Direction.INBOUND, source=Message.Source.SYSTEM,
        type=CALL_MESSAGE_TYPE, body=describe(call), content={"call": call.pk, "did": call.did_number},
        status=Message.Status.RECEIVED, timestamp=moment,
    )
    previous_status = conversation.status
    conversation.unread_count += 1
    if conversation.last_message_at is None or moment >= conversation.last_message_at:
        conversation.last_message_at, conversation.last_message_preview = moment, message.body[:200]
    if conversation.status in (Conversation.Status.RESOLVED, Conversation.Status.SNOOZED):
        conversation.status, conversation.snoozed_until = Conversation.Status.OPEN, None
    conversation.save(update_fields=FOLLOW_UP_FIELDS)
    if batch is not None:
        batch.conversations[key] = conversation
        batch.conversations_read.add(key)
    if batch is not None:
        batch.follow_up_links[call.pk] = message.pk  # one UPDATE for the batch's calls (CallBatch.link_follow_ups)
    else:
        type(call).objects.filter(pk=call.pk).update(follow_up=message)
    call.follow_up = message
    inbox_events.message_created(message)
    if opened or conversation.status != previous_status:
        inbox_events.conversation_updated(conversation)
    return message
