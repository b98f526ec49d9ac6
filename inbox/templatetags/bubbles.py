"""One message as a bubble in the thread: every message type readable, status ticks, day separators.

Built with format_html rather than a template partial: a thread renders 40-100 bubbles, and the
template engine's cost per bubble (tags, filters, includes) was most of the thread's render time.
What each message shows (its kind and fields) comes from `inbox.display` (computed at ingest by the
provider's parser); this module only renders it. Every value is escaped by format_html; `rich_text` escapes before it adds links. The live updates
(inbox.js) rely on the ids and the `data-message`, `data-status` and `data-day` attributes.
"""

import datetime

from django import template
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import format_html, format_html_join, urlize
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator, capfirst

from core.filetypes import is_inline_safe
from inbox.display import display_of
from inbox.models import Channel, Message
from inbox.rich import display as rich_display  # (rcs-rich hook)
from inbox.templatetags.inbox_ui import pk_url

register = template.Library()


@register.simple_tag
def bubbles(messages) -> SafeString:
    """A run of bubbles, oldest first, with a day separator before the first message of each day."""
    parts, previous_day = [], None
    for message in messages:
        day = day_key(message.timestamp)
        parts.append(bubble(message, show_day=day != previous_day))
        previous_day = day
    return mark_safe("".join(parts))


@register.simple_tag
def bubble(message: Message, show_day: bool = False, action_error: str = "") -> SafeString:
    day = format_html('<div class="day" data-day="{}"><span>{}</span></div>', day_key(message.timestamp), day_label(message.timestamp)) if show_day else ""
    m = display_of(message)
    if m["kind"] == "activity":
        return format_html(
            '{}<div class="activity" id="msg-{}" data-message="{}"><span>{} · {}</span></div>',
            day, message.pk, message.pk, message.body, timezone.localtime(message.timestamp).strftime("%H:%M"),
        )
    if m["kind"] == "call":  # a missed call (telephony.followups): a line in the thread, linking to the call
        return format_html(
            '{}<div class="activity call" id="msg-{}" data-message="{}"><span><a href="{}">{}</a> · {}</span></div>',
            day, message.pk, message.pk, pk_url(m["call"], "telephony:call"), message.body, timezone.localtime(message.timestamp).strftime("%H:%M"),
        )
    if m["kind"] == "system":
        return format_html('{}<div class="activity system" id="msg-{}" data-message="{}"><span>{}</span></div>', day, message.pk, message.pk, m["text"])
    failed = message.status == Message.Status.FAILED
    return format_html(
        '{}<article class="bubble {}{}" id="msg-{}" data-message="{}" data-status="{}">{}{}{}{}{}{}'
        '<footer class="bubble-foot">{}{}{}</footer>{}{}{}</article>',
        day, message.direction, " failed" if failed else "", message.pk, message.pk, message.status,
        _sender_tag(message),
        format_html('<div class="bubble-tag">↪ {}</div>', m["forwarded"]) if m.get("forwarded") else "",
        _referral(m["referral"]) if m.get("referral") else "",
        _quote(message),
        format_html('<div class="bubble-tag">Asked about product {}</div>', m["product"]) if m.get("product") else "",
        _body(message, m),
        format_html_join("", '<span class="reaction" title="Reaction">{}</span>', ((emoji,) for emoji in message.reaction_emojis)),
        _time(message.timestamp),
        tick(message) if message.direction == Message.Direction.OUTBOUND else "",
        format_html('<p class="error" role="alert">{}</p>', action_error) if action_error else "",
        _fail_reason(message) if failed else "",
        _actions(message),
    )


def _body(message: Message, m: dict) -> str:
    # (rcs-rich hook) rich RCS messages we sent, and taps on their chips: inbox/rich/display.py
    if message.type == "rich":
        return rich_display.rich_body(message)
    shown = _BODIES.get(m["kind"], _text_body)(message, m)
    if message.type == "suggestion" and message.direction == Message.Direction.INBOUND:
        return rich_display.tap_body(message, shown)
    return shown


def _sender_tag(message: Message) -> str:
    if message.direction == Message.Direction.NOTE:
        return format_html('<div class="bubble-tag">Private note · {}</div>', message.sender or "Sampark")
    if message.direction != Message.Direction.OUTBOUND:
        return ""
    if message.sender:
        return format_html('<div class="bubble-tag">{}</div>', message.sender)
    if message.source != Message.Source.AGENT:
        return format_html('<div class="bubble-tag">{}</div>', message.get_source_display())
    return ""


def _referral(referral: dict) -> str:
    return format_html(
        '<div class="referral">From {}: <strong>{}</strong>{}{}</div>',
        referral["type"], referral["headline"],
        format_html(" — {}", referral["body"]) if referral["body"] else "",
        format_html(' <a href="{}" target="_blank" rel="noopener noreferrer nofollow">view</a>', referral["url"]) if referral["url"] else "",
    )


def _quote(message: Message) -> str:
    if message.reply_to:
        original = message.reply_to
        return format_html('<blockquote class="quoted">{}</blockquote>', _truncate(original.body or original.type, 140))
    if message.reply_to_provider_id:
        return mark_safe('<blockquote class="quoted"><span class="muted">a message not in Sampark</span></blockquote>')
    return ""


def _time(moment: datetime.datetime) -> str:
    local = timezone.localtime(moment)
    return format_html('<time datetime="{}" title="{}">{}</time>', local.isoformat(), local.strftime("%-d %b %Y %H:%M:%S"), local.strftime("%H:%M"))


def _fail_reason(message: Message) -> str:
    return format_html(
        '<div class="fail-reason" role="alert">Not delivered{}{}</div>',
        format_html(": {}", message.error_message) if message.error_message else "",
        format_html(' <span class="muted">({})</span>', message.error_code) if message.error_code else "",
    )


def _actions(message: Message) -> str:
    retry = ""
    if message.direction == Message.Direction.OUTBOUND and message.status == Message.Status.FAILED:
        retry = format_html(
            '<button type="button" class="retry" hx-post="{}" hx-target="closest .bubble" hx-swap="outerHTML">Retry</button>',
            pk_url(message.pk, "outbound:retry"),
        )
    reply = ""
    # RCS has no quoting: no Reply action on RCS threads.
    if message.direction != Message.Direction.NOTE and message.provider_message_id and message.channel.kind != Channel.Kind.RCS:
        reply = format_html(
            '<button type="button" class="link-button reply-action" data-reply-to="{}" data-reply-text="{}" '
            'aria-label="Quote this message in the reply">↩ Reply</button>',
            message.pk, _truncate(message.body or message.type, 80),
        )
    return format_html("{}{}", retry, reply)


def _truncate(text: str, length: int) -> str:
    return text if len(text) <= length else Truncator(text).chars(length)


def tick(message: Message) -> str:
    css, glyph, label = TICKS.get(message.status, ("", "", ""))
    if not css:
        return ""
    title = f"{label}: {message.error_message}" if message.status == Message.Status.FAILED and message.error_message else label
    return format_html('<span class="tick tick-{}" title="{}" aria-label="{}">{}</span>', css, title, label, glyph)


# ---------------------------------------------------------------- what a bubble shows, by kind


def _media_body(message: Message, m: dict) -> str:
    attachments = [_attachment(attachment, m) for attachment in message.attachments.all()]
    if not attachments:
        attachments = [format_html('<div class="media"><span class="media-state">{} (not stored)</span></div>', capfirst(message.type))]
    text = format_html('<div class="text">{}</div>', rich_text(m["text"])) if m["text"] else ""
    return format_html("{}{}", mark_safe("".join(attachments)), text)


def _attachment(attachment, m: dict) -> str:
    if attachment.status == "ready" and attachment.file:
        url = pk_url(attachment.pk, "inbox:attachment")
        shown_inline = is_inline_safe(attachment.mime_type)  # what its bytes were (inbox.media); else a download
        if attachment.kind in ("image", "sticker") and shown_inline:
            shown = format_html('<a href="{}" target="_blank"><img src="{}" alt="{}" loading="lazy"></a>', url, url, m["text"] or attachment.kind)
        elif attachment.kind == "video" and shown_inline:
            shown = format_html('<video controls preload="metadata" src="{}"></video>', url)
        elif attachment.kind == "audio" and shown_inline:
            voice = mark_safe('<span class="muted">Voice note</span>') if m.get("voice") else ""
            shown = format_html('<audio controls preload="metadata" src="{}"></audio>{}', url, voice)
        else:
            size = format_html(' <span class="muted">{}</span>', filesizeformat(attachment.size)) if attachment.size else ""
            shown = format_html('<a class="doc" href="{}?download=1">📄 {}</a>{}', url, attachment.file_name or "document", size)
    elif attachment.status == "failed":
        shown = format_html(
            '<span class="media-state failed">{} could not be downloaded{}</span>'
            '<button type="button" hx-post="{}" hx-target="closest .bubble" hx-swap="outerHTML">Retry</button>',
            capfirst(attachment.kind), format_html(": {}", attachment.error) if attachment.error else "",
            pk_url(attachment.pk, "inbox:attachment_retry"),
        )
    else:
        name = format_html(" “{}”", attachment.file_name) if attachment.file_name else ""
        shown = format_html('<span class="media-state">Downloading {}{}…</span>', attachment.kind, name)
    return format_html(
        '<div class="media media-{}" data-attachment="{}" data-attachment-status="{}">{}</div>', attachment.kind, attachment.pk, attachment.status, shown
    )


def _location_body(message: Message, m: dict) -> str:
    return format_html(
        '<div class="location">📍 {}{}{}</div>',
        format_html("<strong>{}</strong><br>", m["name"]) if m["name"] else "",
        format_html("{}<br>", m["address"]) if m["address"] else "",
        format_html('<a href="{}" target="_blank" rel="noopener noreferrer">Open map ({})</a>', m["map_url"], m["coordinates"]) if m["map_url"] else "",
    )


def _contacts_body(message: Message, m: dict) -> str:
    cards = []
    for card in m["cards"]:
        lines = format_html_join("", "<br>{}", ((value,) for value in card["phones"] + card["emails"]))
        links = format_html_join("", "<br>{}", ((rich_text(url),) for url in card["urls"]))
        org = format_html('<br><span class="muted">{}</span>', card["org"]) if card["org"] else ""
        cards.append(format_html('<div class="contact-card"><strong>👤 {}</strong>{}{}{}</div>', card["name"], org, lines, links))
    return mark_safe("".join(cards))


def _tap_body(message: Message, m: dict) -> str:
    text = m["text"]
    if m.get("until"):  # a call permission: until when, in the agent's time zone
        until = datetime.datetime.fromtimestamp(m["until"], tz=datetime.timezone.utc)
        text += f" until {timezone.localtime(until):%-d %b %H:%M}"
    return format_html('<div class="tap"><span class="tap-choice">{}</span> <span class="muted">{}</span></div>', text, m["detail"])


def _form_body(message: Message, m: dict) -> str:
    return format_html(
        '<div class="text">{}</div><dl class="facts form-answers">{}</dl>',
        m["text"], format_html_join("", "<dt>{}</dt><dd>{}</dd>", m["answers"]),
    )


def _order_body(message: Message, m: dict) -> str:
    return format_html(
        '<div class="order"><strong>🛒 Order</strong><ul class="plain">{}</ul><div>Total <strong>{}</strong></div>{}</div>',
        format_html_join("", '<li>{} × {} <span class="muted">{}</span></li>', ((i["quantity"], i["sku"], i["price"]) for i in m["items"])),
        m["total"],
        format_html('<div class="text">{}</div>', rich_text(m["text"])) if m["text"] else "",
    )


def _unsupported_body(message: Message, m: dict) -> str:
    return format_html(
        '<div class="unsupported">This {} message cannot be shown here{}. The customer sees it on their phone.</div>',
        m["label"], format_html(" ({})", m["reason"]) if m["reason"] else "",
    )


def _text_body(message: Message, m: dict) -> str:
    return format_html(
        '{}<div class="text">{}</div>{}',
        format_html('<div class="bubble-tag">Template {}</div>', m["template"]) if m.get("template") else "",
        rich_text(m["text"] or message.body),
        format_html('<div class="choices">{}</div>', format_html_join("", '<span class="choice">{}</span>', ((c,) for c in m["choices"]))) if m.get("choices") else "",
    )


_BODIES = {
    "media": _media_body,
    "location": _location_body,
    "contacts": _contacts_body,
    "tap": _tap_body,
    "form": _form_body,
    "order": _order_body,
    "unsupported": _unsupported_body,
}


def rich_text(text: str) -> SafeString:
    """Escape first, then turn URLs into links (opening in a new tab) and newlines into <br>."""
    html = urlize(text or "", nofollow=True, autoescape=True)
    html = html.replace('rel="nofollow"', 'target="_blank" rel="nofollow noopener noreferrer"')
    return mark_safe(html.replace("\n", "<br>"))


def day_label(value: datetime.datetime) -> str:
    day = timezone.localtime(value).date()
    today = timezone.localdate()
    if day == today:
        return "Today"
    if day == today - datetime.timedelta(days=1):
        return "Yesterday"
    return day.strftime("%a %-d %b %Y") if day.year != today.year else day.strftime("%a %-d %b")


def day_key(value: datetime.datetime) -> str:
    return timezone.localtime(value).date().isoformat()


TICKS = {
    Message.Status.QUEUED: ("clock", "◷", "Queued"),
    Message.Status.SENDING: ("clock", "◷", "Sending"),
    Message.Status.SENT: ("sent", "✓", "Sent"),
    Message.Status.DELIVERED: ("delivered", "✓✓", "Delivered"),
    Message.Status.READ: ("read", "✓✓", "Read"),
    Message.Status.FAILED: ("failed", "!", "Failed"),
}
