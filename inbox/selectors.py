"""What agents may see of the inbox. The same rule decides who hears live events (inbox.events)."""

from collections import defaultdict

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, prefetch_related_objects
from django.utils import timezone

from accounts.models import User
from accounts.selectors import team_ids
from contacts.models import Contact, ContactPhone
from contacts.selectors import name_or_email_matches, phone_search_digits, search_contacts
from core.untrusted import clean_text
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
# What an agent sees on opening the inbox before choosing anything (as in Chatwoot).
DEFAULT_FILTERS = {"view": "mine", "status": "open"}
# Message text is searched from this many characters: shorter fragments have no trigram to look up,
# so every message would be read.
MESSAGE_SEARCH_MIN_LENGTH = 3
SEARCH_MAX_LENGTH = 100  # longer queries are cut (a pasted paragraph searches for its start)
# A search first looks up this many matching contacts and messages at most (search_conversations).
SEARCH_PROBE = 1000


def _open_now() -> Q:
    """Open, or snoozed until a moment that has passed (the periodic task reopens those soon)."""
    return Q(status=Conversation.Status.OPEN) | Q(status=Conversation.Status.SNOOZED, snoozed_until__lte=timezone.now())


def conversation_list(
    user: User,
    *,
    view: str = "all",
    status: str = "",
    channel_id: int | None = None,
    label_id: int | None = None,
    query: str = "",
) -> QuerySet[Conversation]:
    """The conversation list an agent sees: visibility applied, filtered, newest activity first.

    "open" also lists snoozed conversations whose time has come, even before the periodic task has
    reopened them, so nothing waits on the beat schedule. A search `query` looks through every
    conversation the user may see, whatever the other filters say (search_conversations).
    """
    if query.strip():
        return search_conversations(user, query)
    conversations = visible_conversations(user)
    if view == "mine":
        conversations = conversations.filter(assignee=user)
    elif view == "unassigned":
        conversations = conversations.filter(assignee__isnull=True)
    if status == Conversation.Status.OPEN:
        conversations = conversations.filter(_open_now())
    elif status in Conversation.Status.values:
        conversations = conversations.filter(status=status)
    if channel_id:
        conversations = conversations.filter(channel_id=channel_id)
    if label_id:
        conversations = conversations.filter(labels__id=label_id)
    return _as_list(conversations)


def _as_list(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    return (
        conversations.select_related("contact", "channel", "assignee", "team")
        .defer("channel__access_token", "channel__partner_token")  # a list never needs them decrypted
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")
    )


def search_conversations(user: User, query: str) -> QuerySet[Conversation]:
    """Every conversation the user may see, in any tab and status, whose contact's name, email or
    phone (typed in any form, as contacts.selectors.search_contacts matches them) or whose message
    text holds `query`; newest activity first. Activity lines ("Rahul took this") are not message text.

    No one plan is fast for every fragment at 100k conversations / 1M messages (PostgreSQL). The
    contacts and the messages that match are first looked up through the trigram indexes, SEARCH_PROBE
    at most: a rare fragment's are all found, and the list is their conversations. A common one
    ("order") matches too many to look up; the list then walks the newest conversations and checks
    each one, which finds a page at once. See docs/inbox-triage.md.
    """
    query = clean_text((query or "").strip())  # a NUL in a query string: PostgreSQL refuses it as a parameter
    contacts = search_contacts(Contact.objects.all(), query).order_by()
    messages = _messages_matching(query) if len(query) >= MESSAGE_SEARCH_MIN_LENGTH else Message.objects.none()
    contact_ids = list(contacts.values_list("pk", flat=True)[: SEARCH_PROBE + 1])
    # Message rows, not distinct conversations: DISTINCT made PostgreSQL read whole long threads first.
    message_rows = list(messages.order_by().values_list("conversation_id", flat=True)[: SEARCH_PROBE + 1])
    if len(contact_ids) <= SEARCH_PROBE:
        matches = Q(contact_id__in=contact_ids)
    elif digits := phone_search_digits(query):
        # Checked on each row walked: as a subquery, PostgreSQL would hash every match first.
        matches = Exists(ContactPhone.objects.filter(contact=OuterRef("contact_id"), number__contains=digits))
    else:
        matches = name_or_email_matches(query, through="contact__")  # on the row's joined contact
    if len(message_rows) <= SEARCH_PROBE:
        matches |= Q(pk__in=set(message_rows))
    else:
        matches |= Exists(messages.filter(conversation=OuterRef("pk")))
    return _as_list(visible_conversations(user).filter(matches))


def _messages_matching(query: str) -> QuerySet[Message]:
    return Message.objects.filter(body__ilike=query).exclude(type="activity")


def open_counts(user: User) -> dict[str, int]:
    """How many open conversations the user may see are theirs, unassigned, in all, and unread: the
    inbox's tab counts and title badge. One aggregate over the open rows (about a third of all)."""
    return visible_conversations(user).filter(_open_now()).aggregate(
        mine=Count("pk", filter=Q(assignee=user)),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        all=Count("pk"),
        unread=Count("pk", filter=Q(unread_count__gt=0)),
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


def with_search_snippets(conversations: list[Conversation], query: str) -> list[Conversation]:
    """Each conversation of a page of search results gets `search_hit`: the text of its newest message
    holding `query` (empty when only the contact matched). One query for the page."""
    query = (query or "").strip()
    hits = {}
    if conversations and len(query) >= MESSAGE_SEARCH_MIN_LENGTH:
        newest_hit = _messages_matching(query).filter(conversation=OuterRef("pk")).order_by("-timestamp", "-id").values("body")[:1]
        hits = dict(
            Conversation.objects.filter(pk__in=[c.pk for c in conversations])
            .annotate(hit=Subquery(newest_hit))
            .values_list("pk", "hit")
        )
    for conversation in conversations:
        conversation.search_hit = hits.get(conversation.pk) or ""
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
