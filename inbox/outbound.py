"""Replying from the CRM: every outbound WhatsApp and RCS message is created and delivered through here.

A send service checks the rules (who may write, opt-out, the 24-hour window, media limits), stores the
Message as `queued`, announces it (the thread shows it at once with a clock) and, after commit,
enqueues `inbox.deliver_message`, which hands it to Tata.

Exactly once, even when a worker dies mid-send
-----------------------------------------------
`deliver()` works in three steps:

1. **claim** — one transaction locks the message row (`select_for_update`). Only a `queued` message
   is claimed: it becomes `sending` and a `SendAttempt(pending)` row is written. Commit.
2. **call** — POST /whatsapp-cloud/messages with `metaData.custom_callback_data = message.callback_data`
   (RCS: POST /rcs/messages, whose body has no field Tata echoes back).
3. **record** — one transaction closes the attempt and moves the message to sent / failed / queued.
   RCS: the id in the send answer is the id RCS callbacks carry, so it becomes the provider message
   id here (see docs/rcs.md).

If the worker dies between 2 and 3, Celery hands the task to another worker (acks_late +
reject_on_worker_lost). That run finds the message `sending` with a pending attempt: Tata may or may
not have the message, and sending again could deliver it twice. So it **does not send**. It schedules
`reconcile()`, which waits for Tata's status callbacks: they carry our callback data, so ingest moves
the message forward (sent, delivered, read, or failed) whether or not we ever saw the send response.
If no callback arrives within `OUTBOUND_IN_DOUBT_GRACE` seconds, the message is marked failed with
code `unknown_outcome` and a message saying exactly that; the agent decides whether to Retry. A
person, never a timer, takes the risk of a duplicate.

Errors where the request cannot have reached Tata (connection refused, 5xx, 429, Meta throttling)
go back to `queued` and retry with exponential backoff. When the request may have reached Tata (read
timeout, gateway timeout) the retry waits at least the grace period first, and the claim skips the
message if a callback moved it on in the meantime. Permanent errors (400, 401, 424…) fail the
message with Tata's own words; `retry()` puts a failed message back in the queue.

RCS differs in one place: its callbacks carry only Tata's id from the send answer, so a callback can
never settle a send whose answer we lost. Where WhatsApp waits for callbacks, an RCS message in doubt
(worker died mid-send, read timeout, gateway timeout) fails at once with `unknown_outcome`, and the
agent decides; it is never resent by a timer.
"""

import dataclasses
import datetime
import logging
import mimetypes
import os
import random
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import User
from contacts.models import Contact
from core import phones
from core.errors import ApplicationError, Conflict, NotAllowed
from core.tasks import enqueue
from inbox import events
from inbox.models import Attachment, Channel, Conversation, Message, OptStatus, SendAttempt, Template
from inbox.providers import tata_rcs
from inbox.providers import tata_whatsapp as tata
from inbox.selectors import can_see_conversation

logger = logging.getLogger(__name__)

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

UNKNOWN_OUTCOME = "unknown_outcome"


class WindowClosed(ApplicationError):
    pass


class OptedOut(NotAllowed):
    pass


# ---------------------------------------------------------------- rules


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
    now = now or timezone.now()
    return (
        OptStatus.objects.filter(contact_id=contact_id, channel_id=channel_id, opted_out=True)
        .filter(Q(auto_optin_at__isnull=True) | Q(auto_optin_at__gt=now))
        .select_related("changed_by")
        .first()
    )


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


def _check_can_send(conversation: Conversation, by: User | None, *, template: bool) -> None:
    if by is not None and not can_see_conversation(by, conversation):
        raise NotAllowed("You cannot reply in this conversation.")
    if not conversation.channel.is_active:
        raise ApplicationError(f"The number {conversation.channel.name} is switched off; nothing can be sent from it.")
    opted_out = opt_out_of(conversation.contact_id, conversation.channel_id)
    if opted_out is not None:
        raise OptedOut(opt_out_explanation(opted_out), code="opted_out")
    if not template:
        window = window_state(conversation)
        if not window.open:
            raise WindowClosed(window.reason, code="window_closed")


# ---------------------------------------------------------------- conversations


def conversation_for(contact: Contact, channel: Channel) -> Conversation:
    """The contact's one conversation on this number, created if needed (race-safe: unique pair)."""
    existing = Conversation.objects.filter(channel=channel, contact=contact).select_related("channel", "contact").first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(channel=channel, contact=contact, team=channel.team)
    except IntegrityError:
        conversation = Conversation.objects.get(channel=channel, contact=contact)
    return Conversation.objects.select_related("channel", "contact").get(pk=conversation.pk)


# ---------------------------------------------------------------- send services (what the composer calls)


def _whatsapp_only(conversation: Conversation, what: str) -> None:
    """RCS threads take text (cards and carousels come with the RCS composer); WhatsApp kinds are refused."""
    if conversation.channel.kind != Channel.Kind.WHATSAPP:
        raise ApplicationError(f"{what} are WhatsApp messages; on an RCS number you can send text.", code="whatsapp_only")


def send_text(conversation: Conversation, *, by: User | None, body: str, preview_url: bool = False, reply_to: Message | None = None) -> Message:
    body = (body or "").strip()
    if not body:
        raise ApplicationError("Write a message first.")
    if conversation.channel.kind == Channel.Kind.RCS:
        return _send_rcs(conversation, by=by, message=tata_rcs.Text(body), type="text", body=body, reply_to=reply_to)
    if len(body) > TEXT_MAX:
        raise ApplicationError(f"WhatsApp messages are at most {TEXT_MAX} characters; this one has {len(body)}.")
    _check_can_send(conversation, by, template=False)
    return _queue(conversation, by=by, type="text", body=body, content=tata.text_content(body, preview_url=preview_url), reply_to=reply_to)


def _send_rcs(conversation: Conversation, *, by: User | None, message: tata_rcs.RcsMessage, type: str, body: str, reply_to=None, source=None) -> Message:
    """Queue an RCS message; its content is the reference's `content` object, limits checked."""
    if reply_to is not None:
        raise ApplicationError("RCS cannot quote a message; send the reply without the quote.")
    try:
        content = tata_rcs.content_json(message)
    except tata_rcs.RcsContentError as exc:
        raise ApplicationError(exc.message, code="rcs_content") from None
    _check_can_send(conversation, by, template=False)
    return _queue(conversation, by=by, type=type, body=body, content=content, source=source)  # (rcs-rich hook: source, for RCS campaigns)


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


def send_media(conversation: Conversation, *, by: User | None, upload, caption: str = "", reply_to: Message | None = None) -> Message:
    """`upload`: a Django UploadedFile. Checked against WhatsApp's type and size limits *before* it is
    stored or uploaded to Tata; the task uploads it to Tata's media API and sends it by media id."""
    _whatsapp_only(conversation, "Files sent from the composer")
    kind, mime = check_media(upload.name, getattr(upload, "content_type", ""), upload.size)
    caption = (caption or "").strip()
    if len(caption) > CAPTION_MAX:
        raise ApplicationError(f"Captions are at most {CAPTION_MAX} characters.")
    _check_can_send(conversation, by, template=False)
    content = tata.media_content(kind, "", caption=caption, filename=upload.name)
    message = _queue(
        conversation, by=by, type=kind, body=caption, content=content, reply_to=reply_to,
        attachment=dict(kind=kind, mime_type=mime, file_name=os.path.basename(upload.name), upload=upload),
    )
    return message


def send_location(conversation: Conversation, *, by: User | None, latitude, longitude, name: str = "", address: str = "") -> Message:
    _whatsapp_only(conversation, "Location pins")
    try:
        latitude, longitude = float(latitude), float(longitude)
    except (TypeError, ValueError):
        raise ApplicationError("Latitude and longitude must be numbers, e.g. 19.0760 and 72.8777.") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ApplicationError("Latitude is between -90 and 90, longitude between -180 and 180.")
    _check_can_send(conversation, by, template=False)
    body = name or address or f"{latitude:.5f}, {longitude:.5f}"
    content = tata.location_content(latitude, longitude, name=name.strip(), address=address.strip())
    return _queue(conversation, by=by, type="location", body=body, content=content)


def _check_interactive_frame(body: str, header: str, footer: str) -> None:
    if not body.strip():
        raise ApplicationError("Interactive messages need a body text.")
    if len(body) > INTERACTIVE_BODY_MAX:
        raise ApplicationError(f"The body of an interactive message is at most {INTERACTIVE_BODY_MAX} characters.")
    for label, text in (("header", header), ("footer", footer)):
        if len(text) > HEADER_FOOTER_MAX:
            raise ApplicationError(f"The {label} is at most {HEADER_FOOTER_MAX} characters.")


def send_buttons(conversation: Conversation, *, by: User | None, body: str, buttons: list[str], header: str = "", footer: str = "") -> Message:
    _whatsapp_only(conversation, "Reply buttons")
    titles = [b.strip() for b in buttons if b and b.strip()]
    _check_interactive_frame(body, header, footer)
    if not titles:
        raise ApplicationError("Add at least one button.")
    if len(titles) > MAX_REPLY_BUTTONS:
        raise ApplicationError(f"WhatsApp allows at most {MAX_REPLY_BUTTONS} reply buttons.")
    if len(set(t.lower() for t in titles)) != len(titles):
        raise ApplicationError("Each button needs a different title.")
    for title in titles:
        if len(title) > BUTTON_TITLE_MAX:
            raise ApplicationError(f"Button “{title}” is longer than {BUTTON_TITLE_MAX} characters.")
    _check_can_send(conversation, by, template=False)
    content = tata.buttons_content(body.strip(), [(f"btn-{i + 1}", t) for i, t in enumerate(titles)], header=header.strip(), footer=footer.strip())
    return _queue(conversation, by=by, type="interactive", body=body.strip(), content=content)


def send_list(
    conversation: Conversation, *, by: User | None, body: str, button: str, rows: list[dict], section_title: str = "", header: str = "", footer: str = ""
) -> Message:
    """rows: [{"title", "description"}], at most 10, shown in one section."""
    _whatsapp_only(conversation, "Lists")
    rows = [r for r in rows if (r.get("title") or "").strip()]
    _check_interactive_frame(body, header, footer)
    if not button.strip():
        raise ApplicationError("Name the button that opens the list (e.g. “Choose”).")
    if len(button) > BUTTON_TITLE_MAX:
        raise ApplicationError(f"The list button is at most {BUTTON_TITLE_MAX} characters.")
    if not rows:
        raise ApplicationError("Add at least one row to the list.")
    if len(rows) > MAX_LIST_ROWS:
        raise ApplicationError(f"WhatsApp lists hold at most {MAX_LIST_ROWS} rows; this one has {len(rows)}.")
    provider_rows = []
    for i, row in enumerate(rows):
        title, description = row["title"].strip(), (row.get("description") or "").strip()
        if len(title) > ROW_TITLE_MAX:
            raise ApplicationError(f"Row “{title}” is longer than {ROW_TITLE_MAX} characters.")
        if len(description) > ROW_DESCRIPTION_MAX:
            raise ApplicationError(f"The description of “{title}” is longer than {ROW_DESCRIPTION_MAX} characters.")
        provider_rows.append({"id": f"row-{i + 1}", "title": title, **({"description": description} if description else {})})
    section = {"title": (section_title or button).strip()[:ROW_TITLE_MAX], "rows": provider_rows}
    _check_can_send(conversation, by, template=False)
    content = tata.list_content(body.strip(), button.strip(), [section], header=header.strip(), footer=footer.strip())
    return _queue(conversation, by=by, type="interactive", body=body.strip(), content=content)


def send_template_message(
    conversation: Conversation, template: Template, *, by: User | None, components: list[dict], preview: str,
    header_upload=None, source: str = Message.Source.AGENT,
) -> Message:
    """Templates may be sent at any time (they are how a business opens a conversation).
    `components` come from inbox.templates_service.send_components (variables filled in)."""
    _whatsapp_only(conversation, "Templates")
    if template.channel_id != conversation.channel_id:
        raise ApplicationError("That template belongs to another number.")
    if template.status.upper() != "APPROVED":
        raise ApplicationError(f"“{template.name}” is {template.status.lower() or 'not approved'}; only approved templates can be sent.")
    _check_can_send(conversation, by, template=True)
    attachment = None
    if header_upload is not None:
        kind, mime = check_media(header_upload.name, getattr(header_upload, "content_type", ""), header_upload.size)
        attachment = dict(kind=kind, mime_type=mime, file_name=os.path.basename(header_upload.name), upload=header_upload)
    content = tata.template_content(template.name, template.language, components)
    return _queue(conversation, by=by, type="template", body=preview, content=content, attachment=attachment, source=source)


PREVIEWS = {"image": "📷 Photo", "video": "🎥 Video", "audio": "🎵 Audio", "document": "📄 Document", "location": "📍 Location"}


def _queue(
    conversation: Conversation, *, by: User | None, type: str, body: str, content: dict,
    reply_to: Message | None = None, attachment: dict | None = None, source: str | None = None,
) -> Message:
    if reply_to is not None:
        if reply_to.conversation_id != conversation.pk:
            raise ApplicationError("You can only quote a message of this conversation.")
        if not reply_to.provider_message_id:
            raise ApplicationError("That message has no WhatsApp id yet, so it cannot be quoted; try again in a moment.")
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            channel_id=conversation.channel_id,
            conversation=conversation,
            direction=Message.Direction.OUTBOUND,
            source=source or (Message.Source.AGENT if by is not None else Message.Source.SYSTEM),
            type=type,
            body=body,
            content=content,
            status=Message.Status.QUEUED,
            sender=by,
            reply_to=reply_to,
            reply_to_provider_id=reply_to.provider_message_id if reply_to else "",
            timestamp=now,
            status_updated_at=now,
        )
        if attachment:
            upload = attachment.pop("upload")
            record = Attachment(message=message, status=Attachment.Status.READY, size=upload.size, **attachment)
            record.file.save(attachment["file_name"], upload, save=False)
            record.save()
        preview = (body or PREVIEWS.get(type, type))[:200]
        Conversation.objects.filter(pk=conversation.pk).filter(Q(last_message_at__lte=now) | Q(last_message_at__isnull=True)).update(
            last_message_at=now, last_message_preview=preview, updated_at=now
        )
        conversation.last_message_at, conversation.last_message_preview = now, preview
        message.conversation = conversation
        events.message_created(message)
        _enqueue_delivery(message.pk)
    return message


def _enqueue_delivery(message_id: int) -> None:
    from inbox.tasks import deliver_message

    enqueue(deliver_message, message_id)


def retry(message: Message, *, by: User | None) -> Message:
    """An agent's Retry on a failed message: the same row goes back to the queue (same callback data,
    so a late status from an earlier attempt still lands on it)."""
    if by is not None and not can_see_conversation(by, message.conversation):
        raise NotAllowed("You cannot act on this conversation.")
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("conversation__channel", "conversation__contact").get(pk=message.pk)
        if message.direction != Message.Direction.OUTBOUND or message.status != Message.Status.FAILED:
            raise Conflict("Only a failed message can be retried.")
        _check_can_send(message.conversation, by, template=message.type == "template")
        message.status = Message.Status.QUEUED
        message.error_code = message.error_message = ""
        message.status_updated_at = timezone.now()
        message.save(update_fields=["status", "error_code", "error_message", "status_updated_at"])
        events.message_updated(message)
        _enqueue_delivery(message.pk)
    return message


# ---------------------------------------------------------------- delivery (called by the task)


@dataclasses.dataclass
class Outcome:
    """What the task should do next: nothing (done), retry after `retry_in` seconds, or reconcile."""

    done: bool = True
    retry_in: float | None = None
    reconcile_in: float | None = None


def _setting(name: str, default):
    return getattr(settings, name, default)


def deliver(message_id: int, *, retries: int = 0) -> Outcome:
    from inbox import ratelimit

    message = Message.objects.select_related("channel", "conversation__contact").filter(pk=message_id).first()
    if message is None or message.direction != Message.Direction.OUTBOUND:
        return Outcome()
    if message.status == Message.Status.SENDING:
        return Outcome(reconcile_in=0)  # a worker died mid-send (or is still sending): never resend blindly
    if message.status != Message.Status.QUEUED:
        return Outcome()
    wait = ratelimit.acquire(message.channel_id)
    while 0 < wait <= 1:  # a short wait is cheaper here than a round trip through the broker
        time.sleep(wait)
        wait = ratelimit.acquire(message.channel_id)
    if wait:
        return Outcome(done=False, retry_in=wait)
    channel = message.channel
    try:
        _upload_media_if_needed(message, channel)
    except tata.TataError as exc:
        return _record_failure(message.pk, None, exc, retries=retries)

    attempt = _claim(message)
    if attempt is None:
        return Outcome()
    if channel.kind == Channel.Kind.RCS:
        return _deliver_rcs(message, channel, attempt, retries=retries)
    payload = tata.message_payload(
        phones.to_e164(message.conversation.contact.primary_phone),
        message.content,
        callback_data=message.callback_data,
        reply_to_provider_id=message.reply_to_provider_id,
    )
    try:
        request_id = tata.send_message(channel.api_base_url, channel.authorization, payload)
    except tata.TataError as exc:
        return _record_failure(message.pk, attempt, exc, retries=retries)
    _record_accepted(message, attempt, request_id)
    return Outcome()


def _deliver_rcs(message: Message, channel: Channel, attempt: SendAttempt, *, retries: int) -> Outcome:
    to = phones.to_e164(message.conversation.contact.primary_phone)
    try:
        message_id = tata_rcs.send_content(channel.api_base_url, channel.authorization, to, message.content)
    except tata.TataError as exc:
        if tata_rcs.may_have_been_accepted(exc):
            # No RCS callback can name this message (see the module docstring): a person decides.
            return _fail_in_doubt(message.pk, attempt, exc)
        return _record_failure(message.pk, attempt, exc, retries=retries)
    _record_accepted(message, attempt, message_id, provider_message_id=message_id)
    return Outcome()


def _upload_media_if_needed(message: Message, channel: Channel) -> None:
    if message.type not in MEDIA_RULES and message.type != "template":
        return  # only media messages and templates with a media header carry an attachment
    attachment = message.attachments.first()
    if attachment is None or attachment.provider_media_id:
        return
    with attachment.file.open("rb") as handle:
        content = handle.read()
    media_id = tata.upload_media(channel.api_base_url, channel.authorization, file_name=attachment.file_name, content=content, mime_type=attachment.mime_type)
    with transaction.atomic():
        attachment.provider_media_id = media_id
        attachment.save(update_fields=["provider_media_id"])
        locked = Message.objects.select_for_update().get(pk=message.pk)
        locked.content = _with_media_id(locked.content, attachment.kind, media_id)
        locked.save(update_fields=["content"])
    message.content = locked.content


def _with_media_id(content: dict, kind: str, media_id: str) -> dict:
    content = dict(content)
    if content.get("type") == "template":
        for component in content["template"]["components"]:
            if component.get("type") == "header":
                for parameter in component.get("parameters", []):
                    if parameter.get("type") == kind:
                        parameter[kind] = {**parameter.get(kind, {}), "id": media_id}
                        parameter[kind].pop("link", None)
    else:
        content[kind] = {**content.get(kind, {}), "id": media_id}
    return content


def _claim(message: Message) -> SendAttempt | None:
    """Step 1: queued → sending, with a pending attempt row, in one transaction.

    The conditional UPDATE takes the row lock and re-checks the status after any wait, so of two
    workers holding the same task exactly one claims it; the other finds nothing to update.
    """
    now = timezone.now()
    with transaction.atomic():
        claimed = Message.objects.filter(pk=message.pk, status=Message.Status.QUEUED).update(
            status=Message.Status.SENDING, status_updated_at=now
        )
        if not claimed:
            return None
        number = (SendAttempt.objects.filter(message_id=message.pk).aggregate(last=Max("number"))["last"] or 0) + 1
        attempt = SendAttempt.objects.create(message_id=message.pk, number=number, started_at=now)
        # No event: queued and sending look the same to an agent (a clock); "sent" follows in moments.
    message.status, message.status_updated_at = Message.Status.SENDING, now
    return attempt


def _record_accepted(message: Message, attempt: SendAttempt, request_id: str, *, provider_message_id: str = "") -> None:
    """Step 3 on success. A status callback may already have moved the message further: keep that
    (the conditional UPDATE re-checks the status under the row lock).

    `provider_message_id` (RCS): the id callbacks will carry. A callback that came before this answer
    was recorded made a placeholder under that id; it is folded into the message here."""
    now = timezone.now()
    with transaction.atomic():
        SendAttempt.objects.filter(pk=attempt.pk).update(
            outcome=SendAttempt.Outcome.ACCEPTED, finished_at=now, provider_request_id=request_id
        )
        if provider_message_id:
            _adopt_rcs_id(message, provider_message_id)
        not_yet_sent = Q(status__in=[Message.Status.QUEUED, Message.Status.SENDING]) | Q(
            status=Message.Status.FAILED, error_code=UNKNOWN_OUTCOME
        )
        became_sent = Message.objects.filter(not_yet_sent, pk=message.pk).update(
            provider_request_id=request_id, status=Message.Status.SENT, error_code="", error_message="", status_updated_at=now
        )
        if became_sent:
            message.status, message.error_code, message.error_message = Message.Status.SENT, "", ""
            message.status_updated_at = now
            events.message_updated(message)
        else:  # the callback that moved it on has told the browsers already
            Message.objects.filter(pk=message.pk).update(provider_request_id=request_id)
        message.provider_request_id = request_id
        _campaign_progress(message)


def _adopt_rcs_id(message: Message, provider_message_id: str) -> None:
    from inbox.ingest import _adopt_provider_id

    for last_try in (False, True):
        try:
            with transaction.atomic():  # a savepoint: the unique id may collide with a placeholder being written
                locked = Message.objects.select_for_update().get(pk=message.pk)
                if locked.provider_message_id != provider_message_id:
                    _adopt_provider_id(locked, provider_message_id)  # also folds a placeholder's status in
            break
        except IntegrityError:
            # A callback's placeholder for this id committed while we wrote: it is visible now, fold it.
            if last_try:
                raise
    if locked.status != message.status:
        events.message_updated(locked)
    message.provider_message_id, message.status = locked.provider_message_id, locked.status
    message.status_updated_at = locked.status_updated_at


def _backoff(retries: int) -> float:
    base = _setting("OUTBOUND_RETRY_BASE_SECONDS", 2)
    cap = _setting("OUTBOUND_RETRY_MAX_SECONDS", 300)
    return min(cap, base * (2**retries)) * random.uniform(0.8, 1.2)


def _record_failure(message_id: int, attempt: SendAttempt | None, exc: tata.TataError, *, retries: int) -> Outcome:
    """Step 3 on failure: retry later (back to queued) or fail for good with Tata's words."""
    max_retries = _setting("OUTBOUND_MAX_RETRIES", 6)
    retry = exc.retryable and retries < max_retries
    maybe_accepted = attempt is not None and tata.may_have_been_accepted(exc)
    code = (exc.code or str(exc.status_code or "network"))[:32]
    with transaction.atomic():
        message = Message.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=message_id)
        if attempt is not None:
            SendAttempt.objects.filter(pk=attempt.pk).update(
                outcome=SendAttempt.Outcome.RETRY if retry else SendAttempt.Outcome.FAILED,
                finished_at=timezone.now(), error_code=code, error_message=exc.message,
            )
        if message.status not in (Message.Status.QUEUED, Message.Status.SENDING):
            return Outcome()  # a status callback already settled it
        message.status_updated_at = timezone.now()
        if retry:
            message.status = Message.Status.QUEUED
            message.error_code, message.error_message = code, f"Retrying: {exc.message}"
        else:
            message.status = Message.Status.FAILED
            message.error_code, message.error_message = code, exc.message
        message.save(update_fields=["status", "error_code", "error_message", "status_updated_at"])
        events.message_updated(message)
        if not retry:
            _campaign_progress(message)
    if not retry:
        return Outcome()
    delay = _backoff(retries)
    if maybe_accepted:
        # Tata may have it: give its status callback time to arrive before the claim looks again.
        delay = max(delay, _setting("OUTBOUND_IN_DOUBT_GRACE", 120))
    return Outcome(done=False, retry_in=delay)


IN_DOUBT_TEXT = (
    "Sending was interrupted and Tata has not reported on this message. It may or may not have "
    "reached the customer; check before you retry."
)


def _fail_in_doubt(message_id: int, attempt: SendAttempt, exc: tata.TataError) -> Outcome:
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=message_id)
        SendAttempt.objects.filter(pk=attempt.pk).update(
            outcome=SendAttempt.Outcome.UNKNOWN, finished_at=now, error_code=(exc.code or "network")[:32], error_message=exc.message
        )
        if message.status not in (Message.Status.QUEUED, Message.Status.SENDING):
            return Outcome()
        message.status, message.error_code, message.error_message = Message.Status.FAILED, UNKNOWN_OUTCOME, IN_DOUBT_TEXT
        message.status_updated_at = now
        message.save(update_fields=["status", "error_code", "error_message", "status_updated_at"])
        events.message_updated(message)
    return Outcome()


def reconcile(message_id: int, now: datetime.datetime | None = None) -> Outcome:
    """Settle a message left `sending` by a worker that died after asking Tata. Never resends.

    While the attempt may still be running (younger than OUTBOUND_STALE_AFTER) it looks again later.
    Then it waits for Tata's callbacks until OUTBOUND_IN_DOUBT_GRACE has passed since the attempt
    started; ingest applies them to the message (our callback data identifies it). Still nothing:
    the message fails with `unknown_outcome` and the agent decides.
    """
    now = now or timezone.now()
    stale_after = datetime.timedelta(seconds=_setting("OUTBOUND_STALE_AFTER", 60))
    grace = datetime.timedelta(seconds=_setting("OUTBOUND_IN_DOUBT_GRACE", 120))
    with transaction.atomic():
        message = Message.objects.select_for_update(of=("self",)).select_related("conversation").filter(pk=message_id).first()
        if message is None:
            return Outcome()
        attempt = message.send_attempts.filter(outcome__in=[SendAttempt.Outcome.PENDING, SendAttempt.Outcome.UNKNOWN]).order_by("-number").first()
        if message.status != Message.Status.SENDING:
            if attempt is not None:  # a callback settled it: now we know what became of the attempt
                outcome = SendAttempt.Outcome.FAILED if message.status == Message.Status.FAILED else SendAttempt.Outcome.ACCEPTED
                SendAttempt.objects.filter(pk=attempt.pk).update(outcome=outcome, finished_at=now)
            return Outcome()
        if attempt is None:  # sending without an open attempt cannot happen through deliver(); heal it
            message.status = Message.Status.QUEUED
            message.save(update_fields=["status"])
            _enqueue_delivery(message.pk)
            return Outcome()
        age = now - attempt.started_at
        if age < stale_after:
            return Outcome(done=False, reconcile_in=(stale_after - age).total_seconds())
        if attempt.outcome == SendAttempt.Outcome.PENDING:
            attempt.outcome = SendAttempt.Outcome.UNKNOWN
            attempt.error_message = "The worker stopped between asking Tata and recording the answer."
            attempt.save(update_fields=["outcome", "error_message"])
        if age < grace and message.channel.kind != Channel.Kind.RCS:  # RCS callbacks cannot name it: no wait
            return Outcome(done=False, reconcile_in=(grace - age).total_seconds())
        attempt.finished_at = now
        attempt.save(update_fields=["finished_at"])
        message.status = Message.Status.FAILED
        message.error_code = UNKNOWN_OUTCOME
        message.error_message = IN_DOUBT_TEXT
        message.status_updated_at = now
        message.save(update_fields=["status", "error_code", "error_message", "status_updated_at"])
        events.message_updated(message)
        _campaign_progress(message)
    return Outcome()


def requeue_stalled(now: datetime.datetime | None = None) -> int:
    """Queue delivery again for messages left `queued` whose task was lost (the broker was down when
    they were queued, or a countdown retry vanished with its worker), and reconciliation for messages
    left `sending`; returns how many.

    Exactly once still holds: a delivery only sends after its claim (a conditional UPDATE from
    `queued`), so a task queued twice claims once. What the sweeper must not do is start a retry early:
    after an error that may have reached Tata the retry waits OUTBOUND_IN_DOUBT_GRACE for the status
    callback first. So a message with an earlier attempt is only taken once it has waited longer than
    any retry can be scheduled (`_requeue_after(attempted=True)`); one never attempted after
    OUTBOUND_REQUEUE_AFTER. Each message taken has its `status_updated_at` moved on, so the next sweep
    leaves it alone for as long again (a long campaign under the rate limit is not re-queued each minute).
    """
    now = now or timezone.now()
    stalled = Message.objects.filter(direction=Message.Direction.OUTBOUND, status=Message.Status.QUEUED).filter(
        Q(send_attempts__isnull=True, status_updated_at__lt=now - _requeue_after(attempted=False))
        | Q(status_updated_at__lt=now - _requeue_after(attempted=True))
    )
    requeued = 0
    for message_id in set(stalled.values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            touched = Message.objects.filter(pk=message_id, status=Message.Status.QUEUED).update(status_updated_at=now)
            if touched:
                _enqueue_delivery(message_id)
                requeued += touched
    # Left `sending` past any wait for Tata's callback: the reconcile task that settles it was lost.
    # reconcile() never sends; it settles the message (or asks a person), so it is not found again.
    in_doubt = Message.objects.filter(
        direction=Message.Direction.OUTBOUND, status=Message.Status.SENDING,
        status_updated_at__lt=now - _requeue_after(attempted=True),
    ).values_list("pk", flat=True)[:1000]
    for message_id in in_doubt:
        _enqueue_reconcile(message_id)
        requeued += 1
    if requeued:
        logger.warning("re-queued %s message(s) left queued or sending without a task", requeued)
    return requeued


def _enqueue_reconcile(message_id: int) -> None:
    from inbox.tasks import reconcile_message

    enqueue(reconcile_message, message_id)


def _requeue_after(*, attempted: bool) -> datetime.timedelta:
    first = _setting("OUTBOUND_REQUEUE_AFTER", 120)
    if not attempted:
        return datetime.timedelta(seconds=first)
    # _backoff() draws up to 1.2 × the cap; an in-doubt retry waits the grace.
    longest_retry = max(_setting("OUTBOUND_RETRY_MAX_SECONDS", 300) * 1.2, _setting("OUTBOUND_IN_DOUBT_GRACE", 180))
    return datetime.timedelta(seconds=max(first, longest_retry + 60))


def _campaign_progress(message: Message) -> None:
    # Source "campaign" means "sent outside Sampark" (ingest's placeholders); ours are templates, or
    # rich RCS messages (rcs-rich hook: inbox.rich's type "rich").
    if message.type in ("template", "rich"):
        from campaigns.services import message_settled

        message_settled(message)
