"""Rows for inbox UI tests: a channel, a conversation, messages — made directly, as ingest would."""

import datetime
import itertools

from django.utils import timezone

from inbox.models import Conversation, Message
from tests.factories import ContactFactory, ContactPhoneFactory
from tests.inbox.tata_payloads import make_channel

_ids = itertools.count(1)


def conversation_for(channel=None, *, team=None, assignee=None, name=None, **fields) -> Conversation:
    channel = channel or make_channel(phone=f"+9198765{next(_ids):05d}", team=team)
    contact = ContactFactory(**({"name": name} if name else {}))
    ContactPhoneFactory(contact=contact)
    return Conversation.objects.create(
        channel=channel, contact=contact, team=team if team is not None else channel.team, assignee=assignee,
        last_message_at=fields.pop("last_message_at", timezone.now()), **fields,
    )


def message_in(conversation, body="Hello", *, type="text", content=None, at=None, **fields) -> Message:
    at = at or timezone.now()
    return Message.objects.create(
        channel=conversation.channel,
        conversation=conversation,
        direction=fields.pop("direction", Message.Direction.INBOUND),
        type=type,
        body=body,
        content=content if content is not None else {"type": type, type: {"body": body}},
        provider_message_id=fields.pop("provider_message_id", f"wamid.test{next(_ids)}"),
        timestamp=at,
        **fields,
    )


def days_ago(days: int, hour: int = 10) -> datetime.datetime:
    return timezone.localtime().replace(hour=hour, minute=0, second=0, microsecond=0) - datetime.timedelta(days=days)
