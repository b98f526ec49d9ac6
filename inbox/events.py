"""Who hears what about conversations. Services call these; core.events.publish does the sending.

The groups mirror inbox.selectors.conversation_visibility: staff hear everything, the assignee and
the conversation's team hear theirs, and everybody hears the shared pool (no team, no assignee).
When a conversation changes hands, pass the groups it had before so the old audience hears that
it left (their browsers drop it from the list).
"""

from accounts.selectors import AGENTS_GROUP, STAFF_GROUP, team_group, user_group
from core.events import publish
from inbox.models import Conversation, Message


def conversation_groups(conversation: Conversation) -> set[str]:
    groups = {STAFF_GROUP}
    if conversation.assignee_id:
        groups.add(user_group(conversation.assignee_id))
    if conversation.team_id:
        groups.add(team_group(conversation.team_id))
    if not conversation.assignee_id and not conversation.team_id:
        groups.add(AGENTS_GROUP)
    return groups


def conversation_payload(conversation: Conversation) -> dict:
    return {
        "conversation": conversation.pk,
        "status": conversation.status,
        "assignee": conversation.assignee_id,
        "team": conversation.team_id,
        "unread": conversation.unread_count,
        "last_message_at": conversation.last_message_at,
    }


def conversation_updated(conversation: Conversation, *, previous_groups: set[str] | frozenset = frozenset()) -> None:
    publish("conversation.updated", conversation_payload(conversation), conversation_groups(conversation) | set(previous_groups))


def message_created(message: Message) -> None:
    publish(
        "message.created",
        {"message": message.pk, "direction": message.direction, **conversation_payload(message.conversation)},
        conversation_groups(message.conversation),
    )


def message_updated(message: Message) -> None:
    publish(
        "message.updated",
        {"message": message.pk, "conversation": message.conversation_id, "status": message.status},
        conversation_groups(message.conversation),
    )
