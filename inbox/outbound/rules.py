"""The rules an outbound message must pass before it is queued: who may write in a conversation, whether
the number is on, the contact's opt-out, WhatsApp's 24-hour window, and WhatsApp's limits on text, buttons,
lists and files (the Tata reference and Meta's media table in webhook-receiver-notes.md)."""

import dataclasses
import datetime
import mimetypes
import os

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError, NotAllowed
from inbox.models import Channel, Conversation, OptStatus
from inbox.selectors import can_see_conversation

WINDOW = datetime.timedelta(hours=24)
MB = 1024 * 1024

# Limits WhatsApp applies (the Tata reference and Meta's media table in webhook-receiver-notes.md).
MEDIA_RULES = {
    "image": ({"image/jpeg", "image/png"}, 5 * MB, "JPEG or PNG"),
    "video": ({"video/mp4", "video/3gpp"}, 16 * MB, "MP4 or 3GPP"),
    "audio": ({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}, 16 * MB, "AAC, AMR, MP3, M4A or OGG (opus)"),
    "document": (
        {
            "application/pdf",
            "text/plain",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        },
        100 * MB,
        "PDF, TXT, Word, Excel or PowerPoint",
    ),
}
MIME_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "audio/mp3": "audio/mpeg", "audio/x-m4a": "audio/mp4", "audio/m4a": "audio/mp4", "video/3gp": "video/3gpp"}
TEXT_MAX = 4096
CAPTION_MAX = 1024
MAX_REPLY_BUTTONS = 3  # the reference: "max 3 buttons"
MAX_LIST_ROWS = 10  # the reference: "list of options (max allowed 10)"
BUTTON_TITLE_MAX = 20
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
HEADER_FOOTER_MAX = 60
INTERACTIVE_BODY_MAX = 1024


class WindowClosed(ApplicationError):
    pass


class OptedOut(NotAllowed):
    pass


@dataclasses.dataclass
class WindowState:
    open: bool
    closes_at: datetime.datetime | None
    reason: str = ""


def window_state(conversation: Conversation, now: datetime.datetime | None = None) -> WindowState:
    """WhatsApp allows free-form messages only within 24 h of the customer's last inbound message;
    outside it only approved templates. RCS has no such window."""
    now = now or timezone.now()
    if conversation.channel.kind != Channel.Kind.WHATSAPP:
        return WindowState(open=True, closes_at=None)
    last = conversation.last_inbound_at
    if last is None:
        return WindowState(False, None, "The customer has not written to this number yet. WhatsApp allows only approved templates until they do.")
    closes_at = last + WINDOW
    if now < closes_at:
        return WindowState(True, closes_at)
    local = timezone.localtime(last).strftime("%d %b %Y, %H:%M")
    return WindowState(
        False,
        closes_at,
        f"The customer last wrote on {local}, more than 24 hours ago. WhatsApp allows free-form replies only "
        "within 24 hours of the customer's last message; send an approved template to reopen the conversation.",
    )


def opt_out_of(contact_id: int, channel_id: int, now: datetime.datetime | None = None) -> OptStatus | None:
    """The contact's opt-out on this number, if one is in force (an auto opt-in date lifts it)."""
    return opt_outs_of([contact_id], channel_id, now).get(contact_id)


def opt_outs_of(contact_ids, channel_id: int, now: datetime.datetime | None = None) -> dict[int, OptStatus]:
    """The bulk form of opt_out_of, for a campaign's chunk: contact id → the opt-out in force."""
    now = now or timezone.now()
    return {
        status.contact_id: status
        for status in OptStatus.objects.filter(contact_id__in=contact_ids, channel_id=channel_id, opted_out=True)
        .filter(Q(auto_optin_at__isnull=True) | Q(auto_optin_at__gt=now))
        .select_related("changed_by")
    }


def check_channel_on(channel: Channel) -> None:
    if not channel.is_active:
        raise ApplicationError(f"The number {channel.name} is switched off; nothing can be sent from it.")


def opt_out_explanation(status: OptStatus) -> str:
    text = f"{status.contact} opted out of messages from {status.channel.name}"
    if status.changed_at:
        text += f" on {timezone.localtime(status.changed_at).strftime('%d %b %Y')}"
    if status.reason:
        text += f" ({status.reason})"
    text += "."
    if status.auto_optin_at:
        text += f" They are opted in again automatically on {timezone.localtime(status.auto_optin_at).strftime('%d %b %Y')}."
    return text + " Messages cannot be sent until they opt in again."


def check_can_send(conversation: Conversation, by: User | None, *, template: bool) -> None:
    """Raise why nothing may be sent in this conversation now (templates are exempt from the window)."""
    if by is not None and not can_see_conversation(by, conversation):
        raise NotAllowed("You cannot reply in this conversation.")
    check_channel_on(conversation.channel)
    opted_out = opt_out_of(conversation.contact_id, conversation.channel_id)
    if opted_out is not None:
        raise OptedOut(opt_out_explanation(opted_out), code="opted_out")
    if not template:
        window = window_state(conversation)
        if not window.open:
            raise WindowClosed(window.reason, code="window_closed")


# ---------------------------------------------------------------- files


def media_kind(file_name: str, content_type: str = "") -> tuple[str, str]:
    """(kind, mime type) of a file the agent attached, or ApplicationError naming what is allowed."""
    mime = (content_type or "").split(";")[0].strip().lower()
    guessed = (mimetypes.guess_type(file_name or "")[0] or "").lower()
    for candidate in (MIME_ALIASES.get(mime, mime), MIME_ALIASES.get(guessed, guessed)):
        for kind, (types, _, _) in MEDIA_RULES.items():
            if candidate in types:
                return kind, candidate
    extension = os.path.splitext(file_name or "")[1] or mime or "this kind of"
    allowed = "; ".join(f"{kind}s: {label} up to {limit // MB} MB" for kind, (_, limit, label) in MEDIA_RULES.items())
    raise ApplicationError(f"WhatsApp cannot send {extension} files. Allowed — {allowed}.", code="media_type")


def check_media(file_name: str, content_type: str, size: int) -> tuple[str, str]:
    kind, mime = media_kind(file_name, content_type)
    limit = MEDIA_RULES[kind][1]
    if size > limit:
        raise ApplicationError(
            f"{file_name} is {size / MB:.1f} MB; WhatsApp {kind}s can be at most {limit // MB} MB.", code="media_too_large"
        )
    if size == 0:
        raise ApplicationError(f"{file_name} is empty.", code="media_empty")
    return kind, mime
