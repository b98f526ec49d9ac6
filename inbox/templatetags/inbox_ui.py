"""How the inbox list shows things: rows, times, phone numbers, URLs by pk. Presentation only; no
queries beyond what the rows already hold. Message bubbles are in `bubbles`."""

import datetime
import re
from functools import lru_cache

from django import template
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core import phones

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


@register.simple_tag
def conversation_row(c, open_conversation=None, filter_query: str = "", search_query: str = "") -> str:
    """One row of the conversation list (a conversation from selectors.with_row_details).

    Built here rather than in the template: the Django template engine took ~1.2 ms a row on a slow
    machine, two thirds of the list's render time, and format_html does the same work (every value
    escaped) in a fraction of it. The list and the live updates (inbox.js) rely on the ids,
    `data-conversation` and `data-role` attributes. The checkbox belongs to the action bar's form
    (#bulk-form). Search results (with_search_snippets) show the message text that matched.
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
    hit = getattr(c, "search_hit", "")
    name = str(c.contact)
    return format_html(
        '<li class="conv{}{}" id="conv-{}" data-conversation="{}" role="option" aria-selected="{}">'
        '<input type="checkbox" class="conv-check" name="ids" value="{}" form="bulk-form" aria-label="Select {}">'
        '<a href="{}" hx-get="{}" hx-target="#thread" hx-swap="outerHTML" hx-push-url="{}">'
        '<span class="conv-top"><span class="conv-name">{}</span><time class="conv-time" datetime="{}">{}</time></span>'
        '<span class="conv-preview{}">{}</span>'
        '<span class="conv-meta"><span class="chan chan-{}" title="{}">{}</span>{}'
        '<span class="conv-owner" data-role="assignee">{}</span>{}{}</span>'
        "</a></li>",
        " unread" if c.unread_count else "", " active" if active else "", c.pk, c.pk, "true" if active else "false",
        c.pk, name,
        page_url, pk_url(c.pk, "inbox:thread"), page_url,
        name, timezone.localtime(at).isoformat() if at else "", list_time(at),
        " conv-hit" if hit else "", search_snippet(hit, search_query) if hit else (c.last_message_preview or "No messages yet"),
        c.channel.kind, str(c.channel), c.channel.get_kind_display(),
        format_html('<span class="pill pill-{}">{}</span>', c.status, c.get_status_display()) if c.status != "open" else "",
        owner,
        format_html_join("", '<span class="dot" style="--label: {}" title="{}"></span>', ((label.color, str(label)) for label in c.row_labels)),
        format_html('<span class="badge" aria-label="{} unread">{}</span>', c.unread_count, c.unread_count) if c.unread_count else "",
    )


def search_snippet(text: str, query: str, *, before: int = 30, after: int = 80) -> str:
    """The part of a message around the first place it holds `query` (any case), the match marked."""
    text = " ".join(text.split())
    found = re.search(re.escape(" ".join(query.split())), text, re.IGNORECASE) if query.strip() else None
    if found is None:
        return text[: before + after] + ("…" if len(text) > before + after else "")
    start, end = max(0, found.start() - before), min(len(text), found.end() + after)
    return format_html(
        "{}{}<mark>{}</mark>{}{}",
        "…" if start else "", text[start : found.start()], found.group(), text[found.end() : end], "…" if end < len(text) else "",
    )


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
