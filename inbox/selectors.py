"""What agents may see of the inbox. The same rule decides who hears live events (inbox.events)."""

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.selectors import team_ids
from inbox.models import Conversation


def conversation_visibility(user: User) -> Q:
    """Admins and supervisors: everything. An agent: conversations assigned to them, their teams'
    conversations, and the shared pool (no team, no assignee)."""
    if user.sees_everything:
        return Q()
    return Q(assignee=user) | Q(team_id__in=team_ids(user)) | Q(team__isnull=True, assignee__isnull=True)


def visible_conversations(user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(conversation_visibility(user))


def can_see_conversation(user: User, conversation: Conversation) -> bool:
    if user.sees_everything:
        return True
    return (
        conversation.assignee_id == user.pk
        or (conversation.team_id is not None and conversation.team_id in team_ids(user))
        or (conversation.team_id is None and conversation.assignee_id is None)
    )
