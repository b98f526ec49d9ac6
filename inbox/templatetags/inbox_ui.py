"""How the inbox shows things: message bodies as safe text with links, every message type readable,
status ticks, day separators. Presentation only; no queries beyond what the message already holds."""

import datetime
import json
from functools import lru_cache
from urllib.parse import quote

from django import template
from django.urls import get_script_prefix, reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join, urlize
from django.utils.safestring import mark_safe

from core import phones
from inbox.models import Message

register = template.Library()


@register.filter
def pk_url(pk: int, name: str) -> str:
    """`{% url name pk %}` for routes that take one integer pk, without a reverse() per call: the
    list reversed three URLs per row, an eighth of its render time."""
    before, after = _around_pk(name, get_script_prefix())
    return f"{before}{int(pk)}{after}"


@lru_cache(maxsize=64)
def _around_pk(name: str, script_prefix: str) -> tuple[str, str]:
    marker = "8642097531"  # a pk no route would make up on its own
    before, after = reverse(name, args=[int(marker)]).split(marker)
    return before, after


@register.filter
def rich_text(text: str) -> str:
    """Escape first, then turn URLs into links (opening in a new tab) and newlines into <br>."""
    html = urlize(text or "", nofollow=True, autoescape=True)
    html = html.replace('rel="nofollow"', 'target="_blank" rel="nofollow noopener noreferrer"')
    return mark_safe(html.replace("\n", "<br>"))


@register.simple_tag
def conversation_row(c, open_conversation=None, filter_query: str = "") -> str:
    """One row of the conversation list.

    Built here rather than in the template: the Django template engine took ~1.2 ms a row on a slow
    machine, two thirds of the list's render time, and format_html does the same work (every value
    escaped) in a fraction of it. The list and the live updates (inbox.js) rely on the ids,
    `data-conversation` and `data-role` attributes.
    """
    query = f"?{filter_query}" if filter_query else ""
    page_url = pk_url(c.pk, "inbox:conversation") + query
    active = getattr(open_conversation, "pk", None) == c.pk  # "" when the template has no open conversation
    at = c.last_message_at
    if c.assignee_id:
        owner = str(c.assignee)
    elif c.team_id:
        owner = str(c.team)
    else:
        owner = "Unassigned"
    return format_html(
        '<li class="conv{}{}" id="conv-{}" data-conversation="{}" role="option" aria-selected="{}">'
        '<a href="{}" hx-get="{}" hx-target="#thread" hx-swap="outerHTML" hx-push-url="{}">'
        '<span class="conv-top"><span class="conv-name">{}</span><time class="conv-time" datetime="{}">{}</time></span>'
        '<span class="conv-preview">{}</span>'
        '<span class="conv-meta"><span class="chan chan-{}" title="{}">{}</span>{}'
        '<span class="conv-owner" data-role="assignee">{}</span>{}{}</span>'
        "</a></li>",
        " unread" if c.unread_count else "", " active" if active else "", c.pk, c.pk, "true" if active else "false",
        page_url, pk_url(c.pk, "inbox:thread"), page_url,
        str(c.contact), dateformat.format(timezone.localtime(at), "c") if at else "", list_time(at),
        c.last_message_preview or "No messages yet",
        c.channel.kind, str(c.channel), c.channel.get_kind_display(),
        format_html('<span class="pill pill-{}">{}</span>', c.status, c.get_status_display()) if c.status != "open" else "",
        owner,
        format_html_join("", '<span class="dot" style="--label: {}" title="{}"></span>', ((label.color, str(label)) for label in c.labels.all())),
        format_html('<span class="badge" aria-label="{} unread">{}</span>', c.unread_count, c.unread_count) if c.unread_count else "",
    )


@register.filter
def day_label(value: datetime.datetime) -> str:
    day = timezone.localtime(value).date()
    today = timezone.localdate()
    if day == today:
        return "Today"
    if day == today - datetime.timedelta(days=1):
        return "Yesterday"
    return day.strftime("%a %-d %b %Y") if day.year != today.year else day.strftime("%a %-d %b")


@register.filter
def day_key(value: datetime.datetime) -> str:
    return timezone.localtime(value).date().isoformat()


@register.filter
def list_time(value: datetime.datetime | None) -> str:
    """Today: 14:05; this year: 3 Nov; older: 3 Nov 2024."""
    if not value:
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    if local.date() == today:
        return local.strftime("%H:%M")
    if local.year == today.year:
        return local.strftime("%-d %b")
    return local.strftime("%-d %b %Y")


@register.filter
def phone_display(number: str) -> str:
    return phones.display(number) if number else ""


TICKS = {
    Message.Status.QUEUED: ("clock", "◷", "Queued"),
    Message.Status.SENDING: ("clock", "◷", "Sending"),
    Message.Status.SENT: ("sent", "✓", "Sent"),
    Message.Status.DELIVERED: ("delivered", "✓✓", "Delivered"),
    Message.Status.READ: ("read", "✓✓", "Read"),
    Message.Status.FAILED: ("failed", "!", "Failed"),
}


@register.inclusion_tag("inbox/_tick.html")
def tick(message: Message) -> dict:
    css, glyph, label = TICKS.get(message.status, ("", "", ""))
    return {"css": css, "glyph": glyph, "label": label, "message": message}


def _map_url(latitude, longitude) -> str:
    return f"https://www.google.com/maps/search/?api=1&query={quote(f'{latitude},{longitude}')}"


def _money(amount, currency: str) -> str:
    try:
        value = float(amount)
    except (TypeError, ValueError):
        return f"{amount} {currency}".strip()
    symbol = "₹" if currency == "INR" else f"{currency} "
    return f"{symbol}{value:,.2f}".replace(".00", "")


def _contacts_card(items) -> list[dict]:
    cards = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        name = item.get("name") or {}
        org = item.get("org") or {}
        cards.append(
            {
                "name": name.get("formatted_name") or " ".join(filter(None, [name.get("first_name"), name.get("last_name")])) or "Contact",
                "org": ", ".join(filter(None, [org.get("title"), org.get("company")])),
                "phones": [p.get("phone") or p.get("wa_id") for p in item.get("phones") or [] if isinstance(p, dict)],
                "emails": [e.get("email") for e in item.get("emails") or [] if isinstance(e, dict) and e.get("email")],
                "urls": [u.get("url") for u in item.get("urls") or [] if isinstance(u, dict) and u.get("url")],
            }
        )
    return cards


def _form_answers(raw) -> list[tuple[str, str]]:
    try:
        data = json.loads(raw) if isinstance(raw, str) else (raw or {})
    except ValueError:
        return [("Answer", str(raw))]
    if not isinstance(data, dict):
        return [("Answer", str(data))]
    return [(key.replace("_", " ").capitalize(), str(value)) for key, value in data.items() if key != "flow_token"]


@register.simple_tag
def describe(message: Message) -> dict:
    """Everything a bubble needs to show this message, whatever its type.

    `content` is the provider's object (a WhatsApp Cloud message, or an RCS entity); `body` is the text
    ingest extracted. Unknown shapes fall back to the body and a readable placeholder.
    """
    content = message.content if isinstance(message.content, dict) else {}
    kind = message.type or "text"
    info = {"kind": "text", "text": message.body, "extras": []}
    context = content.get("context") if isinstance(content.get("context"), dict) else {}
    if context.get("forwarded") or context.get("frequently_forwarded"):
        info["forwarded"] = "Forwarded many times" if context.get("frequently_forwarded") else "Forwarded"
    product = context.get("referred_product")
    if isinstance(product, dict):
        info["product"] = product.get("product_retailer_id") or "a product"
    referral = content.get("referral")
    if isinstance(referral, dict):
        info["referral"] = {
            "headline": referral.get("headline") or "an ad",
            "body": referral.get("body") or "",
            "url": referral.get("source_url") or "",
            "type": referral.get("source_type") or "ad",
        }

    if message.type == "activity":
        info["kind"] = "activity"
    elif kind in ("image", "video", "audio", "document", "sticker") or content.get("userFile"):
        media = content.get(kind) if isinstance(content.get(kind), dict) else {}
        info.update(kind="media", text=message.body or media.get("caption", ""), voice=bool(media.get("voice")))
    elif kind == "location" or isinstance(content.get("location"), dict):
        location = content.get("location") or {}
        lat, lng = location.get("latitude"), location.get("longitude")
        info.update(
            kind="location",
            name=location.get("name") or "",
            address=location.get("address") or "",
            coordinates=f"{lat}, {lng}" if lat is not None else "",
            map_url=_map_url(lat, lng) if lat is not None and lng is not None else "",
        )
    elif kind == "contacts":
        info.update(kind="contacts", cards=_contacts_card(content.get("contacts")))
    elif kind == "button":
        button = content.get("button") or {}
        info.update(kind="tap", text=button.get("text") or message.body, detail="Tapped a template button")
    elif kind == "interactive" and message.direction == Message.Direction.INBOUND:
        interactive = content.get("interactive") or {}
        sub = interactive.get("type")
        reply = interactive.get(sub) if isinstance(interactive.get(sub), dict) else {}
        if sub == "button_reply":
            info.update(kind="tap", text=reply.get("title") or message.body, detail="Tapped a button")
        elif sub == "list_reply":
            info.update(kind="tap", text=reply.get("title") or message.body, detail=reply.get("description") or "Chose from a list")
        elif sub == "nfm_reply":
            info.update(kind="form", text=reply.get("body") or "Form submitted", answers=_form_answers(reply.get("response_json")))
        elif sub == "call_permission_reply":
            accepted = reply.get("response") == "accept"
            until = reply.get("expiration_timestamp")
            text = "Allowed WhatsApp calls" if accepted else "Declined WhatsApp calls"
            if accepted and until:
                try:
                    moment = timezone.localtime(datetime.datetime.fromtimestamp(int(until), tz=datetime.timezone.utc))
                    text += f" until {moment:%-d %b %H:%M}"
                except (TypeError, ValueError, OverflowError):
                    pass
            info.update(kind="tap", text=text, detail="Call permission")
        else:
            info.update(kind="tap", text=message.body or "Interacted with a message", detail=sub or "interactive")
    elif isinstance(content.get("suggestionResponse"), dict):
        suggestion = content["suggestionResponse"]
        action = "Tapped an action" if suggestion.get("type") == "ACTION" else "Tapped a suggested reply"
        info.update(kind="tap", text=suggestion.get("plainText") or suggestion.get("text") or message.body, detail=action)
    elif kind == "order":
        order = content.get("order") or {}
        items, total, currency = [], 0.0, ""
        for item in order.get("product_items") or []:
            if not isinstance(item, dict):
                continue
            currency = item.get("currency") or currency
            quantity = item.get("quantity") or 1
            try:
                total += float(item.get("item_price") or 0) * float(quantity)
            except (TypeError, ValueError):
                pass
            items.append({"sku": item.get("product_retailer_id"), "quantity": quantity, "price": _money(item.get("item_price"), currency)})
        info.update(kind="order", items=items, total=_money(total, currency), text=order.get("text") or "")
    elif kind == "system":
        system = content.get("system") or {}
        info.update(kind="system", text=system.get("body") or message.body or "System message")
    elif kind == "reaction":
        reaction = content.get("reaction") or {}
        info.update(kind="reaction", text=reaction.get("emoji") or "")
    elif kind == "template":
        template_obj = content.get("template") or {}
        info.update(kind="text", template=template_obj.get("name") or "template")
    elif kind == "interactive":  # one we sent: show its buttons / list
        interactive = content.get("interactive") or {}
        action = interactive.get("action") or {}
        buttons = [b.get("reply", {}).get("title") for b in action.get("buttons") or [] if isinstance(b, dict)]
        rows = [r.get("title") for s in action.get("sections") or [] for r in (s.get("rows") or []) if isinstance(r, dict)]
        info.update(kind="text", text=message.body or (interactive.get("body") or {}).get("text", ""), choices=[c for c in buttons + rows if c])
    elif kind != "text":
        errors = content.get("errors") or []
        reason = errors[0].get("title") if errors and isinstance(errors[0], dict) else ""
        inner = content.get("unsupported") if isinstance(content.get("unsupported"), dict) else {}
        label = inner.get("type") or kind
        info.update(kind="unsupported", label=label, reason=reason)
    return info
