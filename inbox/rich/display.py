"""What a bubble shows for rich RCS messages: a sent card or carousel as the phone shows it, and an
inbound suggestion tap with the chip (and card) it came from, linked to that chip.

Read through tata_rcs.message_from_content (the only reader of RCS JSON); rendered with format_html
like the rest of templatetags/bubbles.py, which calls `rich_body` and `tap_body` from two hooks.
"""

import dataclasses
import re
from urllib.parse import urlsplit

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from inbox.models import Message
from inbox.providers import tata_rcs

OUR_MEDIA = re.compile(r"/rcs-cards/(?P<token>[A-Za-z0-9_-]{8,64})/?$")
ICONS = {
    tata_rcs.Reply: "",
    tata_rcs.OpenUrl: "🔗",
    tata_rcs.Dial: "📞",
    tata_rcs.ShowLocation: "📍",
    tata_rcs.ShareLocation: "📌",
    tata_rcs.CalendarEvent: "📅",
}


def cards_of(message: tata_rcs.RcsMessage | None) -> tuple[tata_rcs.Card, ...]:
    if isinstance(message, tata_rcs.Carousel):
        return message.cards
    if isinstance(message, tata_rcs.RichCard):
        return (message.card,)
    return ()


def rich_body(message: Message) -> SafeString:
    """The inside of an outbound rich bubble (text and chips, or cards with media, title, text, chips)."""
    rcs = tata_rcs.message_from_content(message.content)
    if rcs is None:
        return format_html('<div class="text">{}</div>', message.body)
    if isinstance(rcs, tata_rcs.Text):
        return format_html('<div class="rcs-rich"><div class="text">{}</div>{}</div>', rcs.text, _chips(message, rcs.suggestions))
    cards = cards_of(rcs)
    carousel = isinstance(rcs, tata_rcs.Carousel)
    return format_html(
        '<div class="rcs-rich"><div class="rcs-cards{}" aria-label="{}">{}</div></div>',
        " rcs-carousel" if carousel else "", f"Carousel of {len(cards)} cards" if carousel else "Rich card",
        mark_safe("".join(_card(message, card, number) for number, card in enumerate(cards, 1))),
    )


def _card(message: Message, card: tata_rcs.Card, number: int) -> str:
    return format_html(
        '<div class="rcs-card" id="msg-{}-card-{}" data-card="{}">{}{}{}{}</div>',
        message.pk, number, number, _media(card.media),
        format_html('<strong class="rcs-card-title">{}</strong>', card.title) if card.title else "",
        format_html('<p class="rcs-card-text">{}</p>', card.description) if card.description else "",
        _chips(message, card.suggestions),
    )


def _media(media: tata_rcs.Media | None) -> str:
    """Our own uploads show as images; another site's link is named, not loaded (the page's CSP keeps
    images to our origin, and a customer's sent link should not be fetched by every agent's browser)."""
    if media is None:
        return ""
    found = OUR_MEDIA.search(urlsplit(media.url).path)
    if found:
        local = reverse("rich_media:media_file", args=[found["token"]])
        return format_html('<div class="rcs-media rcs-media-{}"><img src="{}" alt="" loading="lazy"></div>', media.height.lower(), local)
    parts = urlsplit(media.url)
    return format_html('<div class="rcs-media rcs-media-link"><span title="{}">🖼 {}{}</span></div>', media.url, parts.netloc, parts.path[-40:])


def _chips(message: Message, suggestions) -> str:
    if not suggestions:
        return ""
    return format_html(
        '<div class="rcs-chips">{}</div>',
        format_html_join(
            "", '<span class="rcs-chip" id="msg-{}-chip-{}" data-postback="{}" title="{}">{}{}</span>',
            ((message.pk, s.postback, s.postback, action_detail(s), format_html("{} ", ICONS[type(s)]) if ICONS[type(s)] else "", s.text) for s in suggestions),
        ),
    )


def action_detail(suggestion) -> str:
    """What tapping the chip does, in words (its tooltip)."""
    if isinstance(suggestion, tata_rcs.OpenUrl):
        return f"Opens {suggestion.url}"
    if isinstance(suggestion, tata_rcs.Dial):
        return f"Calls {suggestion.phone_number}"
    if isinstance(suggestion, tata_rcs.ShowLocation):
        return f"Shows {suggestion.label or 'a place'} ({suggestion.latitude}, {suggestion.longitude})"
    if isinstance(suggestion, tata_rcs.ShareLocation):
        return "Asks for the customer's location"
    if isinstance(suggestion, tata_rcs.CalendarEvent):
        return f"Adds “{suggestion.title}” to the calendar"
    return "Sends this reply"


# ---------------------------------------------------------------- inbound taps


@dataclasses.dataclass(frozen=True)
class Tap:
    label: str
    message: Message  # the rich message whose chip it was
    card_number: int | None
    card_title: str
    postback: str


def tapped_chip(tap: Message) -> Tap | None:
    """The chip an inbound suggestion response tapped: in the message Tata names (`orgMsgId`, ingest's
    reply_to), found by its postback data (each chip of our messages has its own, see inbox.rich.spec)."""
    response = tap.content.get("entity", tap.content) if isinstance(tap.content, dict) else {}
    suggestion = response.get("suggestionResponse") if isinstance(response, dict) else None
    if not isinstance(suggestion, dict) or not isinstance(suggestion.get("postBack"), dict):
        return None
    postback = suggestion["postBack"].get("data")
    target = tap.reply_to
    if not isinstance(postback, str) or target is None or target.direction != Message.Direction.OUTBOUND:
        return None
    rcs = tata_rcs.message_from_content(target.content)
    if isinstance(rcs, tata_rcs.Text):
        found = [(None, None, s) for s in rcs.suggestions if s.postback == postback]
    else:
        found = [(number, card, s) for number, card in enumerate(cards_of(rcs), 1) for s in card.suggestions if s.postback == postback]
    if not found:
        return None
    number, card, chip = found[0]
    return Tap(chip.text, target, number, card.title if card else "", postback)


def tap_body(message: Message, fallback: SafeString) -> SafeString:
    """An inbound tap: "Tapped “Book now” on card 2 (“Goa”)", linked to that chip in the thread."""
    tap = tapped_chip(message)
    if tap is None:
        response = message.content.get("entity", message.content) if isinstance(message.content, dict) else {}
        suggestion = response.get("suggestionResponse") if isinstance(response, dict) else None
        if not isinstance(suggestion, dict):
            return fallback
        action = "Tapped an action" if suggestion.get("type") == "ACTION" else "Tapped a suggested reply"
        return format_html('<div class="tap"><span class="tap-choice">{}</span> <span class="muted">{}</span></div>', message.body, action)
    where = format_html(" on card {}{}", tap.card_number, format_html(" (“{}”)", tap.card_title) if tap.card_title else "") if tap.card_number else ""
    return format_html(
        '<div class="tap rcs-tap"><span class="tap-choice">{}</span> <a class="muted" href="#msg-{}-chip-{}" data-tapped-chip="msg-{}-chip-{}">Tapped{}</a></div>',
        tap.label, tap.message.pk, tap.postback, tap.message.pk, tap.postback, where,
    )

