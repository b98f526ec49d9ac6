"""What agents do to a conversation once it exists: assign, move to a team, resolve, snooze (and wake),
label, note, mark read, retry a download. Views, the API and the periodic jobs call these.

It is not the inbox's only writer: each flow writes its own rows in its own home: inbound messages
and statuses in ingest, replies and templates in outbound, downloads in media, opt-in in opt_status,
channels in channels, canned replies in canned, history in imports/services.py, missed-call work in
telephony/followups.py (docs/architecture.md walks each flow).

Each function changes rows inside one transaction and announces the change with inbox.events
(sent after commit). When a change moves a conversation to another audience (assignee or team), the
groups it had before are passed along so those browsers hear that it left.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Team, User
from accounts.selectors import assignable_users
from contacts.models import Label
from core.errors import ApplicationError, NotAllowed
from inbox import events
from inbox.models import Conversation, Message
from inbox.outbound.send import conversation_for  # noqa: F401  (the one way other apps get a contact's conversation)
from inbox.selectors import can_see_conversation

NOTE_MAX_LENGTH = 4000


# ---------------------------------------------------------------- agent actions


def _locked(conversation: Conversation, by: User | None) -> Conversation:
    """Re-read the conversation under a row lock: two agents acting at once apply one after the other."""
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    # Checked on the fresh row: the caller's copy may predate a transfer to another team.
    if by is not None and not can_see_conversation(by, locked):
        raise NotAllowed("You cannot act on this conversation.")
    return locked


def _log_activity(conversation: Conversation, text: str) -> Message:
    """A one-line entry in the thread ("Rahul assigned this to Ananya"), visible to agents only."""
    message = Message.objects.create(
        channel_id=conversation.channel_id,
        conversation=conversation,
        direction=Message.Direction.NOTE,
        source=Message.Source.SYSTEM,
        type="activity",
        body=text,
        timestamp=timezone.now(),
    )
    events.message_created(message)
    return message


def _who(user: User | None) -> str:
    return str(user) if user is not None else "Sampark"


def assign_to_agent(conversation: Conversation, assignee: User | None, *, by: User | None) -> Conversation:
    """Give the conversation to an agent (None = unassign). Agents may assign to themselves and their
    teammates; supervisors and admins to anyone active. Locks the conversation row."""
    _check_assignee(assignee, by)
    with transaction.atomic():
        return _assign_locked(_locked(conversation, by), assignee, by)


def _check_assignee(assignee: User | None, by: User | None) -> None:
    if assignee is not None and by is not None and not assignable_users(by).filter(pk=assignee.pk).exists():
        raise NotAllowed(f"You cannot assign conversations to {assignee}.")
    if assignee is not None and not assignee.is_active:
        raise ApplicationError(f"{assignee} is deactivated.")


def _assign_locked(conversation: Conversation, assignee: User | None, by: User | None) -> Conversation:
    if conversation.assignee_id == (assignee.pk if assignee else None):
        return conversation
    previous = events.conversation_groups(conversation)
    conversation.assignee = assignee
    conversation.save(update_fields=["assignee", "updated_at"])
    if assignee is None:
        _log_activity(conversation, f"{_who(by)} unassigned this conversation")
    elif by is not None and assignee.pk == by.pk:
        _log_activity(conversation, f"{_who(by)} took this conversation")
    else:
        _log_activity(conversation, f"{_who(by)} assigned this to {assignee}")
    events.conversation_updated(conversation, previous_groups=previous)
    return conversation


def assign_to_team(conversation: Conversation, team: Team | None, *, by: User | None) -> Conversation:
    """Hand the conversation to a team (None = the shared pool). An assignee outside the new team is
    cleared, so the work lands in that team's queue rather than with someone who cannot see it."""
    with transaction.atomic():
        return _move_locked(_locked(conversation, by), team, by)


def _move_locked(conversation: Conversation, team: Team | None, by: User | None) -> Conversation:
    if conversation.team_id == (team.pk if team else None):
        return conversation
    previous = events.conversation_groups(conversation)
    conversation.team = team
    fields = ["team", "updated_at"]
    if team is not None and conversation.assignee_id and not team.members.filter(pk=conversation.assignee_id).exists():
        conversation.assignee = None
        fields.append("assignee")
    conversation.save(update_fields=fields)
    _log_activity(conversation, f"{_who(by)} moved this to {team.name if team else 'no team'}")
    events.conversation_updated(conversation, previous_groups=previous)
    return conversation


def set_status(
    conversation: Conversation, status: str, *, by: User | None, snoozed_until: datetime.datetime | None = None
) -> Conversation:
    """Open, pending, snoozed (until a time in the future) or resolved. Locks the conversation row."""
    snoozed_until = _check_status(status, snoozed_until)
    with transaction.atomic():
        return _set_status_locked(_locked(conversation, by), status, snoozed_until, by)


def _check_status(status: str, snoozed_until: datetime.datetime | None) -> datetime.datetime | None:
    if status not in Conversation.Status.values:
        raise ApplicationError(f"“{status}” is not a conversation status.")
    if status != Conversation.Status.SNOOZED:
        return None
    if snoozed_until is None:
        raise ApplicationError("Choose until when to snooze.")
    if snoozed_until <= timezone.now():
        raise ApplicationError("Snooze until a time in the future.")
    return snoozed_until


def _set_status_locked(conversation: Conversation, status: str, snoozed_until, by: User | None) -> Conversation:
    if conversation.status == status and conversation.snoozed_until == snoozed_until:
        return conversation
    conversation.status = status
    conversation.snoozed_until = snoozed_until
    conversation.save(update_fields=["status", "snoozed_until", "updated_at"])
    label = Conversation.Status(status).label.lower()
    if status == Conversation.Status.SNOOZED:
        until = timezone.localtime(snoozed_until).strftime("%d %b %H:%M")
        _log_activity(conversation, f"{_who(by)} snoozed this until {until}")
    else:
        _log_activity(conversation, f"{_who(by)} marked this {label}")
    events.conversation_updated(conversation)
    return conversation


def wake_snoozed_conversations(now: datetime.datetime | None = None) -> int:
    """Reopen every snoozed conversation whose time has come (run every minute by Celery beat)."""
    now = now or timezone.now()
    due = list(
        Conversation.objects.filter(status=Conversation.Status.SNOOZED, snoozed_until__lte=now).values_list("pk", flat=True)
    )
    woken = 0
    for pk in due:
        with transaction.atomic():
            conversation = Conversation.objects.select_for_update().get(pk=pk)
            # Checked again under the lock: an agent may have changed it since the query above.
            if conversation.status != Conversation.Status.SNOOZED or not conversation.snoozed_until or conversation.snoozed_until > now:
                continue
            conversation.status = Conversation.Status.OPEN
            conversation.snoozed_until = None
            conversation.save(update_fields=["status", "snoozed_until", "updated_at"])
            _log_activity(conversation, "Snooze ended; the conversation is open again")
            events.conversation_updated(conversation)
            woken += 1
    return woken


def set_label(conversation: Conversation, label: Label, *, on: bool, by: User | None) -> Conversation:
    with transaction.atomic():
        return _set_label_locked(_locked(conversation, by), label, on)


def _set_label_locked(conversation: Conversation, label: Label, on: bool) -> Conversation:
    has_it = conversation.labels.filter(pk=label.pk).exists()
    if has_it == on:
        return conversation
    if on:
        conversation.labels.add(label)
    else:
        conversation.labels.remove(label)
    conversation.save(update_fields=["updated_at"])
    events.conversation_updated(conversation)
    return conversation


# ---------------------------------------------------------------- many at once (the list's action bar)

BULK_MAX = 100
BULK_STATUSES = (Conversation.Status.OPEN, Conversation.Status.PENDING, Conversation.Status.RESOLVED)


def _in_bulk(conversation_ids, by: User, change) -> int:
    """Apply `change` to each conversation in one transaction, all or nothing: if `by` may not act on
    one of them (gone, or no longer visible to them), nothing changes. Rows are locked in id order, so
    two bulk actions over overlapping conversations wait for each other instead of deadlocking.
    Returns how many conversations it went through."""
    ids = sorted(set(conversation_ids))
    if not ids:
        raise ApplicationError("Choose at least one conversation.")
    if len(ids) > BULK_MAX:
        raise ApplicationError(f"Act on at most {BULK_MAX} conversations at once.")
    with transaction.atomic():
        conversations = list(Conversation.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        refused = len(ids) - sum(can_see_conversation(by, c) for c in conversations)
        if refused:
            raise NotAllowed(f"You cannot act on {refused} of the {len(ids)} conversations chosen; nothing was changed.")
        for conversation in conversations:
            change(conversation)
    return len(conversations)


def bulk_assign_to_agent(conversation_ids, assignee: User | None, *, by: User) -> int:
    _check_assignee(assignee, by)
    return _in_bulk(conversation_ids, by, lambda c: _assign_locked(c, assignee, by))


def bulk_assign_to_team(conversation_ids, team: Team | None, *, by: User) -> int:
    return _in_bulk(conversation_ids, by, lambda c: _move_locked(c, team, by))


def bulk_set_status(conversation_ids, status: str, *, by: User) -> int:
    if status not in BULK_STATUSES:
        raise ApplicationError("Open, pending or resolved: snooze conversations one at a time.")
    return _in_bulk(conversation_ids, by, lambda c: _set_status_locked(c, status, None, by))


def bulk_add_label(conversation_ids, label: Label, *, by: User) -> int:
    return _in_bulk(conversation_ids, by, lambda c: _set_label_locked(c, label, True))


def add_private_note(conversation: Conversation, *, author: User, body: str) -> Message:
    """A note for colleagues in the thread; never sent to the customer."""
    body = (body or "").strip()
    if not body:
        raise ApplicationError("Write something in the note.")
    if len(body) > NOTE_MAX_LENGTH:
        raise ApplicationError(f"Notes are at most {NOTE_MAX_LENGTH} characters.")
    with transaction.atomic():
        conversation = _locked(conversation, author)
        note = Message.objects.create(
            channel_id=conversation.channel_id,
            conversation=conversation,
            direction=Message.Direction.NOTE,
            source=Message.Source.AGENT,
            type="text",
            body=body,
            sender=author,
            timestamp=timezone.now(),
        )
        conversation.save(update_fields=["updated_at"])
        events.message_created(note)
    return note


def mark_read(conversation: Conversation, *, by: User) -> Conversation:
    """An agent opened the conversation: its unread count drops to zero for everyone."""
    if conversation.unread_count == 0:
        return conversation
    with transaction.atomic():
        conversation = _locked(conversation, by)
        if conversation.unread_count == 0:
            return conversation
        conversation.unread_count = 0
        conversation.save(update_fields=["unread_count", "updated_at"])
        events.conversation_updated(conversation)
    return conversation


# ---------------------------------------------------------------- inbound media (inbox.media does the work)


def retry_attachment(attachment, *, by: User | None):
    """An agent asks for a failed (or stuck) download again. Raises Conflict if it is ready or downloading."""
    from inbox import media

    if by is not None and not can_see_conversation(by, attachment.message.conversation):
        raise NotAllowed("You cannot act on this conversation.")
    return media.retry_attachment(attachment)
