"""What agents may see of the inbox. The same rule decides who hears live events (inbox.events)."""

from collections import defaultdict

from django.db.models import F, Q, QuerySet, prefetch_related_objects
from django.utils import timezone

from accounts.models import User
from accounts.selectors import team_ids
from inbox.models import Conversation, Message


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


# ---------------------------------------------------------------- the inbox screen

LIST_VIEWS = ("mine", "unassigned", "all")


def conversation_list(
    user: User, *, view: str = "all", status: str = "", channel_id: int | None = None, label_id: int | None = None
) -> QuerySet[Conversation]:
    """The conversation list an agent sees: visibility applied, filtered, newest activity first.

    "open" also lists snoozed conversations whose time has come, even before the periodic task has
    reopened them, so nothing waits on the beat schedule.
    """
    conversations = visible_conversations(user)
    if view == "mine":
        conversations = conversations.filter(assignee=user)
    elif view == "unassigned":
        conversations = conversations.filter(assignee__isnull=True)
    if status == Conversation.Status.OPEN:
        conversations = conversations.filter(
            Q(status=Conversation.Status.OPEN) | Q(status=Conversation.Status.SNOOZED, snoozed_until__lte=timezone.now())
        )
    elif status in Conversation.Status.values:
        conversations = conversations.filter(status=status)
    if channel_id:
        conversations = conversations.filter(channel_id=channel_id)
    if label_id:
        conversations = conversations.filter(labels__id=label_id)
    return (
        conversations.select_related("contact", "channel", "assignee", "team")
        .defer("channel__access_token", "channel__partner_token")  # a list never needs them decrypted
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")
    )


def with_row_details(conversations: list[Conversation]) -> list[Conversation]:
    """A page of the list, with what its rows show beyond the joined rows: each conversation's labels
    (as `row_labels`) and the phones of contacts without a name (shown as their name).

    Cheaper than prefetch_related("labels", "contact__phones"), which cost half the list's queries'
    time: one join of the link table to its labels, and phones only for the few nameless contacts.
    """
    labels = defaultdict(list)
    links = Conversation.labels.through.objects.filter(conversation__in=conversations).select_related("label")
    for link in links.order_by("label__name", "label_id"):
        labels[link.conversation_id].append(link.label)
    for conversation in conversations:
        conversation.row_labels = labels[conversation.pk]
    prefetch_related_objects([c.contact for c in conversations if not c.contact.name], "phones")
    return conversations


def thread_messages(conversation: Conversation, *, before_id: int | None = None, limit: int = 40) -> tuple[list, bool]:
    """The newest `limit` messages of a thread (older than `before_id` when paging back), oldest first,
    and whether there are older ones."""
    messages = (
        Message.objects.filter(conversation=conversation)
        .exclude(type="reaction")  # shown on the message they react to
        .select_related("sender", "reply_to", "channel")
        .order_by("-timestamp", "-id")
    )
    if before_id:
        anchor = Message.objects.filter(pk=before_id, conversation=conversation).values("timestamp").first()
        if anchor:
            messages = messages.filter(Q(timestamp__lt=anchor["timestamp"]) | Q(timestamp=anchor["timestamp"], id__lt=before_id))
    page = list(messages[: limit + 1])
    has_older = len(page) > limit
    shown = list(reversed(page[:limit]))
    # Only media messages have attachments; most pages then need no second query at all.
    prefetch_related_objects([m for m in shown if m.type in Message.MEDIA_TYPES], "attachments")
    return shown, has_older


def changed_since(user: User, since) -> list[int]:
    """Conversations the user may see that changed (or got a message or a status tick) after `since`:
    what a browser that lost its websocket must refetch."""
    visible = visible_conversations(user)
    touched = set(visible.filter(updated_at__gt=since).values_list("pk", flat=True))
    touched |= set(
        Message.objects.filter(conversation__in=visible)
        .filter(Q(created_at__gt=since) | Q(status_updated_at__gt=since))
        .values_list("conversation_id", flat=True)
    )
    return sorted(touched)
