"""How the inbox plugs into contacts (registered from InboxConfig.ready)."""

from django.db.models import Q

from contacts.timeline import Entry
from inbox import events
from inbox.models import Conversation, Message
from inbox.selectors import conversation_visibility, visible_conversations


def fold_conversations(keep, duplicate) -> None:
    """Contact merge hook. A conversation is unique per (channel, contact): where both contacts talk
    to the same number, the duplicate's messages move into the kept conversation, counters combine,
    and the duplicate's conversation goes. Others simply follow the contact (generic repointing)."""
    kept = {c.channel_id: c for c in Conversation.objects.select_for_update().filter(contact=keep).order_by("pk")}
    for other in Conversation.objects.select_for_update().filter(contact=duplicate).order_by("pk"):
        target = kept.get(other.channel_id)
        if target is None:
            continue
        Message.objects.filter(conversation=other).update(conversation=target)
        target.unread_count += other.unread_count
        if other.last_message_at and (target.last_message_at is None or other.last_message_at > target.last_message_at):
            target.last_message_at, target.last_message_preview = other.last_message_at, other.last_message_preview
        if other.last_inbound_at and (target.last_inbound_at is None or other.last_inbound_at > target.last_inbound_at):
            target.last_inbound_at = other.last_inbound_at
        if target.status == Conversation.Status.RESOLVED and other.status != Conversation.Status.RESOLVED:
            target.status, target.snoozed_until = other.status, other.snoozed_until
        target.assignee_id = target.assignee_id or other.assignee_id
        target.team_id = target.team_id or other.team_id
        target.save()
        target.labels.add(*other.labels.all())
        previous = events.conversation_groups(other)
        other.delete()
        events.conversation_updated(target, previous_groups=previous)


def contacts_of_visible_conversations(user) -> Q:
    """Visibility grant: an agent may open the contact of any conversation they may see."""
    return Q(pk__in=Conversation.objects.filter(conversation_visibility(user)).values("contact_id"))


def messages_source(contact, viewer, limit: int) -> list[Entry]:
    """Timeline source: the contact's latest messages in the conversations `viewer` may see, the
    inbox's own rule (reactions show on their target)."""
    messages = (
        Message.objects.filter(conversation__contact=contact, conversation__in=visible_conversations(viewer))
        .exclude(type="reaction")
        .select_related("channel", "sender")
        .order_by("-timestamp", "-id")[:limit]
    )
    return [Entry(m.timestamp, "message", m) for m in messages]
