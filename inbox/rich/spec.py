"""The builder's description of a rich RCS message, and its translation into tata_rcs records.

The composer (static/js/rcs-composer.js) posts, and a snippet stores, a small JSON document:

    {"kind": "text" | "card" | "carousel",
     "text": "…", "suggestions": [S, …],                     # kind "text"
     "cards": [{"title", "description", "media_url", "media_height", "suggestions": [S, …]}, …]}

    S = {"type": "reply" | "url" | "dial" | "location" | "share_location" | "calendar", "text": label,
         "url" | "phone" | "latitude", "longitude", "label" | "title", "start", "end", "description"}

It comes from a browser, so every field is read defensively (`SpecError` names what is wrong); the
limits are tata_rcs's, checked by `tata_rcs.check` with its own messages.

Postback data is ours, never typed by the agent: `s<n>` for the n-th chip under a text, `c<k>s<n>` for
the n-th chip of card k (1-based). Every chip of a message has its own, so an inbound tap's postback
names exactly one chip of the message it answers (inbox.rich.display.tapped_chip).
"""

import datetime
import re

from django.utils import timezone

from core.errors import ApplicationError
from inbox.providers import tata_rcs

KINDS = ("text", "card", "carousel")
SUGGESTION_TYPES = ("reply", "url", "dial", "location", "share_location", "calendar")
MAX_SPEC_CARDS = 20  # far beyond the carousel limit: larger documents are refused unread


class SpecError(ApplicationError):
    def __init__(self, message: str):
        super().__init__(message, code="rcs_content")


def to_message(spec) -> tata_rcs.RcsMessage:
    """The builder's spec → a tata_rcs message, limits checked (SpecError naming the first problem)."""
    if not isinstance(spec, dict):
        raise SpecError("The rich message could not be read; build it again.")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise SpecError("Choose a kind of rich message: text with suggestions, a card or a carousel.")
    if kind == "text":
        message = tata_rcs.Text(_str(spec.get("text")).strip(), _suggestions(spec.get("suggestions"), prefix=""))
    else:
        cards = spec.get("cards")
        if not isinstance(cards, list) or not cards or len(cards) > MAX_SPEC_CARDS:
            raise SpecError("Add at least one card." if not cards else "Too many cards.")
        built = tuple(_card(card, number) for number, card in enumerate(cards, 1))
        message = tata_rcs.RichCard(built[0]) if kind == "card" else tata_rcs.Carousel(built)
        if kind == "card" and len(built) > 1:
            raise SpecError("A rich card is one card; choose Carousel for more.")
    try:
        tata_rcs.check(message)
    except tata_rcs.RcsContentError as exc:
        raise SpecError(exc.message) from None
    return message


def summary(spec: dict, message: tata_rcs.RcsMessage) -> str:
    """The line the conversation list and the bubble's search text show."""
    if isinstance(message, tata_rcs.Text):
        return message.text
    cards = message.cards if isinstance(message, tata_rcs.Carousel) else (message.card,)
    first = cards[0].title or cards[0].description or "a card"
    return f"Carousel ({len(cards)} cards): {first}" if isinstance(message, tata_rcs.Carousel) else f"Card: {first}"


def _card(value, number: int) -> tata_rcs.Card:
    if not isinstance(value, dict):
        raise SpecError(f"Card {number} could not be read.")
    media_url = _str(value.get("media_url")).strip()
    height = _str(value.get("media_height")) or "MEDIUM"
    return tata_rcs.Card(
        title=_str(value.get("title")).strip(),
        description=_str(value.get("description")).strip(),
        media=tata_rcs.Media(media_url, height) if media_url else None,
        suggestions=_suggestions(value.get("suggestions"), prefix=f"c{number}"),
    )


def _suggestions(items, *, prefix: str) -> tuple[tata_rcs.Suggestion, ...]:
    if items in (None, ""):
        return ()
    if not isinstance(items, list) or len(items) > 2 * tata_rcs.MAX_TEXT_SUGGESTIONS:
        raise SpecError("The suggestions could not be read.")
    return tuple(_suggestion(item, f"{prefix}s{number}") for number, item in enumerate(items, 1))


def _suggestion(item, postback: str) -> tata_rcs.Suggestion:
    if not isinstance(item, dict) or item.get("type") not in SUGGESTION_TYPES:
        raise SpecError("A suggestion is a reply, a link, a call, a place, a location request or a calendar event.")
    kind, text = item["type"], _str(item.get("text")).strip()
    if kind == "reply":
        return tata_rcs.Reply(text, postback)
    if kind == "url":
        return tata_rcs.OpenUrl(text, postback, _str(item.get("url")).strip())
    if kind == "dial":
        return tata_rcs.Dial(text, postback, re.sub(r"[\s()-]", "", _str(item.get("phone"))))
    if kind == "location":
        return tata_rcs.ShowLocation(text, postback, _float(item.get("latitude"), text), _float(item.get("longitude"), text), _str(item.get("label")).strip())
    if kind == "share_location":
        return tata_rcs.ShareLocation(text, postback)
    return tata_rcs.CalendarEvent(
        text, postback, _str(item.get("title")).strip(), _moment(item.get("start"), text, "start"), _moment(item.get("end"), text, "end"),
        _str(item.get("description")).strip(),
    )


def _str(value) -> str:
    return value if isinstance(value, str) else ""


def _float(value, label: str) -> float:
    try:
        return float(_str(value).strip() or value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        raise SpecError(f"Suggestion “{label}”: latitude and longitude must be numbers, e.g. 19.0760 and 72.8777.") from None


def _moment(value, label: str, which: str) -> datetime.datetime:
    """A datetime-local value ("2026-12-02T10:30", the agent's time zone) or an ISO time with offset."""
    try:
        moment = datetime.datetime.fromisoformat(_str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise SpecError(f"Suggestion “{label}”: give the event's {which} date and time.") from None
    return moment if moment.tzinfo else timezone.make_aware(moment)

