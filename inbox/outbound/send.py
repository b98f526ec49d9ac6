"""The send services the composer, campaigns and the API call: each checks its arguments and the rules
(inbox.outbound.rules), stores the Message as `queued`, announces it (the thread shows it at once with a
clock) and, after commit, enqueues `inbox.deliver_message`, which hands it to Tata (inbox.outbound.delivery).

WhatsApp kinds each have a `send_*` here; RCS content goes through `send_rcs` (the RCS send seam).
"""

import os

from django.db import transaction
from django.db.models import Case, CharField, Q, Value, When
from django.utils import timezone

from accounts.models import User
from contacts.models import Contact
from core.errors import ApplicationError, Conflict, NotAllowed
from inbox import events
from inbox.models import Attachment, Channel, Conversation, Message, Template
from inbox.outbound import delivery
from inbox.outbound.rules import (
    BUTTON_TITLE_MAX, CAPTION_MAX, HEADER_FOOTER_MAX, INTERACTIVE_BODY_MAX, MAX_LIST_ROWS, MAX_REPLY_BUTTONS,
    ROW_DESCRIPTION_MAX, ROW_TITLE_MAX, TEXT_MAX, OptedOut, check_can_send, check_channel_on, check_media, opt_out_explanation,
    opt_outs_of,
)
from inbox.providers import tata_rcs
from inbox.providers import tata_whatsapp as tata
from inbox.selectors import can_see_conversation

# ---------------------------------------------------------------- conversations


def conversation_for(contact: Contact, channel: Channel) -> Conversation:
    """The contact's one conversation on this number, created if needed (race-safe: unique pair)."""
    return Conversation.objects.for_contact(contact, channel)[0]


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
        return send_rcs(conversation, by=by, message=tata_rcs.Text(body), type="text", body=body, reply_to=reply_to)
    if len(body) > TEXT_MAX:
        raise ApplicationError(f"WhatsApp messages are at most {TEXT_MAX} characters; this one has {len(body)}.")
    check_can_send(conversation, by, template=False)
    return _queue(conversation, by=by, type="text", body=body, content=tata.text_content(body, preview_url=preview_url), reply_to=reply_to)


def send_rcs(
    conversation: Conversation, *, by: User | None, message: tata_rcs.RcsMessage, type: str, body: str, reply_to=None, source=None,
) -> Message:
    """Queue an RCS message; its content is the reference's `content` object, limits checked."""
    if reply_to is not None:
        raise ApplicationError("RCS cannot quote a message; send the reply without the quote.")
    try:
        content = tata_rcs.content_json(message)
    except tata_rcs.RcsContentError as exc:
        raise ApplicationError(exc.message, code="rcs_content") from None
    check_can_send(conversation, by, template=False)
    return _queue(conversation, by=by, type=type, body=body, content=content, source=source)


def send_media(conversation: Conversation, *, by: User | None, upload, caption: str = "", reply_to: Message | None = None) -> Message:
    """`upload`: a Django UploadedFile. Checked against WhatsApp's type and size limits *before* it is
    stored or uploaded to Tata; the task uploads it to Tata's media API and sends it by media id."""
    _whatsapp_only(conversation, "Files sent from the composer")
    kind, mime = check_media(upload.name, getattr(upload, "content_type", ""), upload.size)
    caption = (caption or "").strip()
    if len(caption) > CAPTION_MAX:
        raise ApplicationError(f"Captions are at most {CAPTION_MAX} characters.")
    check_can_send(conversation, by, template=False)
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
    check_can_send(conversation, by, template=False)
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
    check_can_send(conversation, by, template=False)
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
    check_can_send(conversation, by, template=False)
    content = tata.list_content(body.strip(), button.strip(), [section], header=header.strip(), footer=footer.strip())
    return _queue(conversation, by=by, type="interactive", body=body.strip(), content=content)


def _check_template(conversation: Conversation, template: Template) -> None:
    _whatsapp_only(conversation, "Templates")
    if template.channel_id != conversation.channel_id:
        raise ApplicationError("That template belongs to another number.")
    if template.status.upper() != "APPROVED":
        raise ApplicationError(f"“{template.name}” is {template.status.lower() or 'not approved'}; only approved templates can be sent.")


def send_template_message(
    conversation: Conversation, template: Template, *, by: User | None, components: list[dict], preview: str,
    header_upload=None, source: str = Message.Source.AGENT,
) -> Message:
    """Templates may be sent at any time (they are how a business opens a conversation).
    `components` come from inbox.message_templates.fill.send_components (variables filled in)."""
    _check_template(conversation, template)
    check_can_send(conversation, by, template=True)
    attachment = None
    if header_upload is not None:
        kind, mime = check_media(header_upload.name, getattr(header_upload, "content_type", ""), header_upload.size)
        attachment = dict(kind=kind, mime_type=mime, file_name=os.path.basename(header_upload.name), upload=header_upload)
    content = tata.template_content(template.name, template.language, components)
    return _queue(conversation, by=by, type="template", body=preview, content=content, attachment=attachment, source=source)


def send_template_messages(template: Template, drafts: list[tuple[Conversation, list[dict], str]]) -> list[Message | ApplicationError]:
    """The bulk form of send_template_message for a campaign's chunk (no sender, no header upload):
    (conversation, components, preview) each → its queued message, or why it may not be sent. The
    same rules, with the chunk's opt-outs read in one query and its messages stored in one INSERT."""
    if not drafts:
        return []
    try:
        for conversation, _, _ in drafts:
            _check_template(conversation, template)
        check_channel_on(drafts[0][0].channel)
    except ApplicationError as exc:
        return [exc] * len(drafts)
    opted_out = opt_outs_of([conversation.contact_id for conversation, _, _ in drafts], template.channel_id)
    results: list[Message | ApplicationError] = []
    queued, now = [], timezone.now()
    for conversation, components, preview in drafts:
        if conversation.contact_id in opted_out:
            results.append(OptedOut(opt_out_explanation(opted_out[conversation.contact_id]), code="opted_out"))
            continue
        content = tata.template_content(template.name, template.language, components)
        queued.append(_new_message(conversation, by=None, type="template", body=preview, content=content, now=now))
        results.append(queued[-1])
    with transaction.atomic():
        Message.objects.bulk_create(queued)
        _note_outbound({message.conversation: message.body for message in queued}, now)
        for message in queued:
            events.message_created(message)
            delivery.enqueue_delivery(message.pk)
    return results


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
    message = _new_message(conversation, by=by, type=type, body=body, content=content, reply_to=reply_to, source=source)
    with transaction.atomic():
        message.save(force_insert=True)
        if attachment:
            upload = attachment.pop("upload")
            record = Attachment(message=message, status=Attachment.Status.READY, size=upload.size, **attachment)
            record.file.save(attachment["file_name"], upload, save=False)
            record.save()
        _note_outbound({conversation: body or PREVIEWS.get(type, type)}, message.timestamp)
        events.message_created(message)
        delivery.enqueue_delivery(message.pk)
    return message


def _new_message(conversation: Conversation, *, by: User | None, type: str, body: str, content: dict, reply_to=None, source=None,
                 now=None) -> Message:
    now = now or timezone.now()
    return Message(
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


def _note_outbound(previews: dict[Conversation, str], now) -> None:
    """The conversations' list fields (last message, its preview), in one UPDATE, unless a newer message set them."""
    if not previews:
        return
    previews = {conversation: preview[:200] for conversation, preview in previews.items()}
    preview = Case(*(When(pk=c.pk, then=Value(text)) for c, text in previews.items()), output_field=CharField())
    Conversation.objects.filter(pk__in=[c.pk for c in previews]).filter(Q(last_message_at__lte=now) | Q(last_message_at__isnull=True)).update(
        last_message_at=now, last_message_preview=preview if len(previews) > 1 else next(iter(previews.values())), updated_at=now
    )
    for conversation, text in previews.items():
        conversation.last_message_at, conversation.last_message_preview = now, text


def retry(message: Message, *, by: User | None) -> Message:
    """An agent's Retry on a failed message: the same row goes back to the queue (same callback data,
    so a late status from an earlier attempt still lands on it)."""
    if by is not None and not can_see_conversation(by, message.conversation):
        raise NotAllowed("You cannot act on this conversation.")
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("conversation__channel", "conversation__contact").get(pk=message.pk)
        if message.direction != Message.Direction.OUTBOUND or message.status != Message.Status.FAILED:
            raise Conflict("Only a failed message can be retried.")
        check_can_send(message.conversation, by, template=message.type == "template")
        message.status = Message.Status.QUEUED
        message.error_code = message.error_message = ""
        message.status_updated_at = timezone.now()
        message.save(update_fields=["status", "error_code", "error_message", "status_updated_at"])
        events.message_updated(message)
        delivery.enqueue_delivery(message.pk)
    return message
