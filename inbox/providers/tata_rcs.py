"""Tata omni RCS API client (https://api.omni.tatatelebusiness.com): POST /rcs/messages.

The only module that knows the RCS send JSON. HTTP and Tata's JSON only: no database access, no
Django models; every request has a timeout (the WhatsApp client's transport: one keep-alive session
per thread). Messages are described by the small frozen records below and turned into the reference's
`{to, content, source}` body by `message_payload()`, after `check()` has enforced every limit, so a
message that breaks one never leaves the building.

The reference's 21 examples are plain text, rich card and carousel, each bare, with suggested replies,
or with one of five suggested actions (open URL, dialer, show location, share location, create
calendar event); tests/fixtures/rcs_send/ holds them and tests pin our output to them.

Errors raise `RcsError` (a `TataError`, so the outbound pipeline handles it like a WhatsApp one);
`retryable` is True for timeouts, connection errors, 408/425/429 and 5xx. The reference's refusals have
their own classes with a message an agent can act on: `RcsInvalidRequest` (400 `{title, code}`),
`RcsUnauthorized` (401), `RcsBotLimitExceeded` (403 "Bot conversation limit is exceeded").
`RcsContentError` is a limit broken before any request (nothing was sent).

Inbound RCS (user messages, suggestion taps, delivered/read, typing) is parsed in the last section
of this file into inbox.providers.payloads records, which inbox.ingest applies.

Long because: it is the one place that knows RCS JSON both ways: records → JSON (`content_json`), the
stored JSON → records again (`message_from_content`, for bubbles and taps), inbound payloads → typed
records, and errors; splitting it would put RCS JSON in two modules.
"""

import dataclasses
import datetime
import math
import re
from urllib.parse import urlsplit

import requests

from core import phones
from inbox.providers import payloads, tata_whatsapp
from inbox.providers.payloads import AttachmentSpec, InboundMessage, NothingToApply, StatusUpdate, Typing, Unprocessable
from inbox.providers.tata_whatsapp import RETRYABLE_STATUS, TataError

RCS_API_BASE_URL = "https://api.omni.tatatelebusiness.com"
SEND_PATH = "/rcs/messages"
SOURCE = "sampark"

# ---------------------------------------------------------------- limits
# From the reference ("Important Note" under Send Message):
MAX_CARD_SUGGESTIONS = 4  # "A rich card can include up to 4 buttons"
MIN_CAROUSEL_CARDS = 2  # "A carousel must include minimum 2 cards…
MAX_CAROUSEL_CARDS = 10  # …and maximum 10 cards"
# "Each card in the carousel can have a maximum of 4 buttons": MAX_CARD_SUGGESTIONS again.
# Not in the reference; Google RBM's documented limits, which the RCS platform under Tata applies:
MAX_TEXT = 3072  # characters of a text message
MAX_TEXT_SUGGESTIONS = 11  # suggestion chips under a text message
MAX_SUGGESTION_TEXT = 25  # characters of a chip's label
MAX_POSTBACK = 2048  # characters of a chip's postback data
MAX_CARD_TITLE = 200
MAX_CARD_DESCRIPTION = 2000
MAX_URL = 2048

MEDIA_HEIGHTS = ("SHORT", "MEDIUM", "TALL")
CARD_ORIENTATIONS = ("VERTICAL", "HORIZONTAL")
CARD_WIDTHS = ("SMALL_WIDTH", "MEDIUM_WIDTH")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


# ---------------------------------------------------------------- errors


class RcsError(TataError):
    """A failed RCS call."""


class RcsContentError(RcsError):
    """The message breaks a limit; raised before any request, so nothing was sent."""

    def __init__(self, message: str):
        super().__init__(message, retryable=False, code="rcs_content")


class RcsInvalidRequest(RcsError):
    """400: Tata refused the request itself ({title, code}, e.g. "Invalid Phone number")."""


class RcsUnauthorized(RcsError):
    """401: the access token is wrong, expired, or sent in a form Tata does not accept."""


class RcsBotLimitExceeded(RcsError):
    """403 "Bot conversation limit is exceeded": the RCS bot may start no more conversations for now."""


BOT_LIMIT_TEXT = (
    "Tata says this RCS bot has reached its conversation limit (“Bot conversation limit is exceeded”): "
    "nothing more can go out on this number until the limit resets or your Tata account manager raises it."
)


def error_from_response(response: requests.Response) -> RcsError:
    """The reference's error bodies: 400 {title, code}; 401 {status, error_code, description};
    403 {message, error, statusCode}. Anything else keeps Tata's words when it gave some."""
    data = tata_whatsapp.error_body(response)
    status = response.status_code
    said = str(data.get("title") or data.get("message") or data.get("description") or "").strip()
    if status == 400:
        return RcsInvalidRequest(
            f"Tata refused the RCS message: {said or 'Bad Request'}.", retryable=False, status_code=400, code=str(data.get("code") or 400)
        )
    if status == 401:
        return RcsUnauthorized(
            f"Tata did not accept this number's RCS access token ({said or 'Unauthorized'}). "
            "An admin should check the token and its Authorization form on the channel (Test connection).",
            retryable=False, status_code=401, code=str(data.get("error_code") or 401),
        )
    if status == 403 and "conversation limit" in said.lower():
        return RcsBotLimitExceeded(BOT_LIMIT_TEXT, retryable=False, status_code=403, code="bot_limit")
    retryable = status in RETRYABLE_STATUS or status >= 500
    return RcsError(said or f"HTTP {status} from Tata RCS", retryable=retryable, status_code=status, code=str(data.get("error") or status))


# ---------------------------------------------------------------- what a message is made of


@dataclasses.dataclass(frozen=True)
class Reply:
    """A suggested reply: tapping it sends `text` back, with `postback` for machines."""

    text: str
    postback: str


@dataclasses.dataclass(frozen=True)
class OpenUrl:
    text: str
    postback: str
    url: str


@dataclasses.dataclass(frozen=True)
class Dial:
    text: str
    postback: str
    phone_number: str  # E.164


@dataclasses.dataclass(frozen=True)
class ShowLocation:
    text: str
    postback: str
    latitude: float
    longitude: float
    label: str = ""


@dataclasses.dataclass(frozen=True)
class ShareLocation:
    """Asks the customer to share their location."""

    text: str
    postback: str


@dataclasses.dataclass(frozen=True)
class CalendarEvent:
    text: str
    postback: str
    title: str
    start: datetime.datetime
    end: datetime.datetime
    description: str = ""


Suggestion = Reply | OpenUrl | Dial | ShowLocation | ShareLocation | CalendarEvent


@dataclasses.dataclass(frozen=True)
class Media:
    url: str  # a public https link to the image or video
    height: str = "MEDIUM"  # SHORT, MEDIUM or TALL
    thumbnail_url: str = ""


@dataclasses.dataclass(frozen=True)
class Card:
    title: str = ""
    description: str = ""
    media: Media | None = None
    suggestions: tuple[Suggestion, ...] = ()


@dataclasses.dataclass(frozen=True)
class Text:
    text: str
    suggestions: tuple[Suggestion, ...] = ()


@dataclasses.dataclass(frozen=True)
class RichCard:
    card: Card
    orientation: str = "VERTICAL"


@dataclasses.dataclass(frozen=True)
class Carousel:
    cards: tuple[Card, ...]
    width: str = "MEDIUM_WIDTH"


RcsMessage = Text | RichCard | Carousel


# ---------------------------------------------------------------- limits, checked before any request


def check(message: RcsMessage) -> None:
    """Raise RcsContentError naming the first limit the message breaks."""
    if isinstance(message, Text):
        if not message.text.strip():
            raise RcsContentError("An RCS text message needs some text.")
        if len(message.text) > MAX_TEXT:
            raise RcsContentError(f"RCS text messages are at most {MAX_TEXT} characters; this one has {len(message.text)}.")
        if len(message.suggestions) > MAX_TEXT_SUGGESTIONS:
            raise RcsContentError(f"A text message can carry at most {MAX_TEXT_SUGGESTIONS} suggestions; this one has {len(message.suggestions)}.")
        _check_suggestions(message.suggestions, "the message")
    elif isinstance(message, RichCard):
        if message.orientation not in CARD_ORIENTATIONS:
            raise RcsContentError(f"Card orientation is one of {', '.join(CARD_ORIENTATIONS)}, not “{message.orientation}”.")
        _check_card(message.card, "The rich card")
    elif isinstance(message, Carousel):
        count = len(message.cards)
        if not MIN_CAROUSEL_CARDS <= count <= MAX_CAROUSEL_CARDS:
            raise RcsContentError(
                f"A carousel must include minimum {MIN_CAROUSEL_CARDS} cards and maximum {MAX_CAROUSEL_CARDS} cards; this one has {count}."
            )
        if message.width not in CARD_WIDTHS:
            raise RcsContentError(f"Carousel card width is one of {', '.join(CARD_WIDTHS)}, not “{message.width}”.")
        for number, card in enumerate(message.cards, 1):
            _check_card(card, f"Card {number} of the carousel")
    else:
        raise RcsContentError(f"Not an RCS message: {type(message).__name__}.")


def _check_card(card: Card, name: str) -> None:
    if not (card.title.strip() or card.description.strip() or card.media):
        raise RcsContentError(f"{name} needs a title, a description or media.")
    if len(card.title) > MAX_CARD_TITLE:
        raise RcsContentError(f"{name}: the title is at most {MAX_CARD_TITLE} characters; it has {len(card.title)}.")
    if len(card.description) > MAX_CARD_DESCRIPTION:
        raise RcsContentError(f"{name}: the description is at most {MAX_CARD_DESCRIPTION} characters; it has {len(card.description)}.")
    if card.media is not None:
        _check_url(card.media.url, f"{name}: the media link")
        if card.media.thumbnail_url:
            _check_url(card.media.thumbnail_url, f"{name}: the thumbnail link")
        if card.media.height not in MEDIA_HEIGHTS:
            raise RcsContentError(f"{name}: media height is one of {', '.join(MEDIA_HEIGHTS)}, not “{card.media.height}”.")
    if len(card.suggestions) > MAX_CARD_SUGGESTIONS:
        raise RcsContentError(f"{name} can include up to {MAX_CARD_SUGGESTIONS} buttons; it has {len(card.suggestions)}.")
    _check_suggestions(card.suggestions, name.lower())


def _check_suggestions(suggestions, where: str) -> None:
    postbacks = set()
    for suggestion in suggestions:
        if not isinstance(suggestion, Suggestion):
            raise RcsContentError(f"Not a suggestion: {type(suggestion).__name__}.")
        label = suggestion.text.strip()
        if not label:
            raise RcsContentError(f"Every suggestion on {where} needs a label.")
        if len(suggestion.text) > MAX_SUGGESTION_TEXT:
            raise RcsContentError(f"Suggestion “{label}” is longer than {MAX_SUGGESTION_TEXT} characters, the limit for a suggestion's label.")
        if not suggestion.postback or len(suggestion.postback) > MAX_POSTBACK:
            raise RcsContentError(f"Suggestion “{label}” needs postback data of 1 to {MAX_POSTBACK} characters.")
        if suggestion.postback in postbacks:
            raise RcsContentError(f"Two suggestions on {where} share the postback data “{suggestion.postback}”; each needs its own.")
        postbacks.add(suggestion.postback)
        if isinstance(suggestion, OpenUrl):
            _check_url(suggestion.url, f"Suggestion “{label}”")
        elif isinstance(suggestion, Dial):
            if not E164.match(suggestion.phone_number or ""):
                raise RcsContentError(f"Suggestion “{label}” dials {suggestion.phone_number!r}: use international form with the country code, e.g. +919090909090.")
        elif isinstance(suggestion, ShowLocation):
            lat, lng = suggestion.latitude, suggestion.longitude
            if not (_finite(lat) and _finite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
                raise RcsContentError(f"Suggestion “{label}”: latitude is between -90 and 90, longitude between -180 and 180.")
        elif isinstance(suggestion, CalendarEvent):
            if not suggestion.title.strip():
                raise RcsContentError(f"Suggestion “{label}” creates a calendar event: the event needs a title.")
            if suggestion.start.tzinfo is None or suggestion.end.tzinfo is None:
                raise RcsContentError(f"Suggestion “{label}”: the event's start and end need a time zone.")
            if suggestion.end <= suggestion.start:
                raise RcsContentError(f"Suggestion “{label}”: the event must end after it starts.")


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_url(url: str, name: str) -> None:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RcsContentError(f"{name} must be an http(s) link, not “{(url or '')[:60]}”.")
    if len(url) > MAX_URL:
        raise RcsContentError(f"{name} is longer than {MAX_URL} characters.")


# ---------------------------------------------------------------- JSON out


def _time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def suggestion_json(suggestion: Suggestion) -> dict:
    common = {"plainText": suggestion.text, "postBack": {"data": suggestion.postback}}
    if isinstance(suggestion, Reply):
        return {"reply": common}
    if isinstance(suggestion, OpenUrl):
        action = {"openUrl": {"url": suggestion.url}}
    elif isinstance(suggestion, Dial):
        action = {"dialerAction": {"phoneNumber": suggestion.phone_number}}
    elif isinstance(suggestion, ShowLocation):
        location = {"coordinates": {"latitude": suggestion.latitude, "longitude": suggestion.longitude}}
        if suggestion.label:
            location["label"] = suggestion.label
        action = {"showLocation": location}
    elif isinstance(suggestion, ShareLocation):
        action = {"shareLocation": {}}
    else:
        event = {"startTime": _time(suggestion.start), "endTime": _time(suggestion.end), "title": suggestion.title}
        if suggestion.description:
            event["description"] = suggestion.description
        action = {"createCalendarEvent": event}
    return {"action": {**common, **action}}


def card_json(card: Card) -> dict:
    content = {}
    if card.title:
        content["cardTitle"] = card.title
    if card.description:
        content["cardDescription"] = card.description
    if card.media is not None:
        info = {"fileUrl": card.media.url}
        if card.media.thumbnail_url:
            info["thumbnailUrl"] = card.media.thumbnail_url
        content["cardMedia"] = {"mediaHeight": card.media.height, "contentInfo": info}
    if card.suggestions:
        content["suggestions"] = [suggestion_json(s) for s in card.suggestions]
    return content


def content_json(message: RcsMessage) -> dict:
    """The `content` object of the reference's request body (limits checked first)."""
    check(message)
    if isinstance(message, Text):
        content = {"plainText": message.text}
        if message.suggestions:
            content["suggestions"] = [suggestion_json(s) for s in message.suggestions]
        return content
    if isinstance(message, RichCard):
        return {"richCardDetails": {"standalone": {"cardOrientation": message.orientation, "content": card_json(message.card)}}}
    return {"richCardDetails": {"carousel": {"cardWidth": message.width, "contents": [card_json(c) for c in message.cards]}}}


def message_payload(to: str, message: RcsMessage, *, source: str = SOURCE) -> dict:
    """The whole request body of POST /rcs/messages. `to` in international form (+919090909090)."""
    return {"to": to, "content": content_json(message), "source": source}


# ---------------------------------------------------------------- JSON back (a stored `content` → records)
# (rcs-rich) Bubbles draw a sent card from its stored content, and a tapped chip is found in the
# message it answers: both read the content we wrote above, through these records.


def message_from_content(content) -> RcsMessage | None:
    """The records `content_json` wrote this content from; None for a shape we do not know. Limits are
    not checked (a stored message is shown as it was sent)."""
    if not isinstance(content, dict):
        return None
    if isinstance(content.get("plainText"), str):
        return Text(content["plainText"], _suggestions_from(content.get("suggestions")))
    rich = content.get("richCardDetails") if isinstance(content.get("richCardDetails"), dict) else {}
    standalone, carousel = rich.get("standalone"), rich.get("carousel")
    if isinstance(standalone, dict):
        return RichCard(_card_from(standalone.get("content")), str(standalone.get("cardOrientation") or "VERTICAL"))
    if isinstance(carousel, dict) and isinstance(carousel.get("contents"), list):
        return Carousel(tuple(_card_from(c) for c in carousel["contents"]), str(carousel.get("cardWidth") or "MEDIUM_WIDTH"))
    return None


def _card_from(value) -> Card:
    value = value if isinstance(value, dict) else {}
    media = value.get("cardMedia") if isinstance(value.get("cardMedia"), dict) else None
    info = (media or {}).get("contentInfo") if isinstance((media or {}).get("contentInfo"), dict) else {}
    return Card(
        title=str(value.get("cardTitle") or ""),
        description=str(value.get("cardDescription") or ""),
        media=Media(str(info.get("fileUrl") or ""), str(media.get("mediaHeight") or "MEDIUM"), str(info.get("thumbnailUrl") or "")) if media else None,
        suggestions=_suggestions_from(value.get("suggestions")),
    )


def _suggestions_from(items) -> tuple[Suggestion, ...]:
    found = []
    for item in items if isinstance(items, list) else []:
        body = (item or {}).get("reply") or (item or {}).get("action") if isinstance(item, dict) else None
        if not isinstance(body, dict):
            continue
        text, postback = str(body.get("plainText") or ""), str((body.get("postBack") or {}).get("data") or "") if isinstance(body.get("postBack"), dict) else ""
        if "reply" in item:
            found.append(Reply(text, postback))
        elif isinstance(body.get("openUrl"), dict):
            found.append(OpenUrl(text, postback, str(body["openUrl"].get("url") or "")))
        elif isinstance(body.get("dialerAction"), dict):
            found.append(Dial(text, postback, str(body["dialerAction"].get("phoneNumber") or "")))
        elif isinstance(body.get("showLocation"), dict):
            location = body["showLocation"]
            coordinates = location.get("coordinates") if isinstance(location.get("coordinates"), dict) else {}
            found.append(ShowLocation(text, postback, _number(coordinates.get("latitude")), _number(coordinates.get("longitude")), str(location.get("label") or "")))
        elif isinstance(body.get("shareLocation"), dict):
            found.append(ShareLocation(text, postback))
        elif isinstance(body.get("createCalendarEvent"), dict):
            event = body["createCalendarEvent"]
            found.append(CalendarEvent(text, postback, str(event.get("title") or ""), _parse_time(event.get("startTime")), _parse_time(event.get("endTime")), str(event.get("description") or "")))
    return tuple(found)


def _number(value) -> float:
    return float(value) if _finite(value) else 0.0


def _parse_time(value) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.datetime.fromtimestamp(0, datetime.timezone.utc)


# ---------------------------------------------------------------- sending


def send_message(base_url: str, authorization: str, to: str, message: RcsMessage) -> str:
    """POST /rcs/messages → the provider's message id, which Tata's RCS callbacks carry as
    `entity.messageId` (the body has no field of ours that would be echoed back)."""
    return send_content(base_url, authorization, to, content_json(message))


def send_content(base_url: str, authorization: str, to: str, content: dict) -> str:
    """Send a `content` object `content_json` built earlier (the one stored on a queued message)."""
    if not E164.match(to or ""):
        raise RcsContentError(f"The recipient {to!r} is not a phone number in international form (+919090909090).")
    if not isinstance(content, dict) or not content:
        raise RcsContentError("The RCS message has no content.")
    response = tata_whatsapp._request(
        "POST", f"{base_url.rstrip('/')}{SEND_PATH}", headers=headers(authorization),
        json={"to": to, "content": content, "source": SOURCE}, errors=error_from_response,
    )
    return parse_send_answer(response)


def check_authorization(base_url: str, authorization: str) -> bool:
    """Does Tata accept this Authorization value? The RCS API has no read-only call, so this posts a
    send that cannot deliver (no recipient): 401 means the token or its form is refused; the 400
    "Invalid Phone number" (or any other answer) means it got past authentication. Network trouble and
    5xx raise RcsError (nothing can be concluded)."""
    try:
        tata_whatsapp._request(
            "POST", f"{base_url.rstrip('/')}{SEND_PATH}", headers=headers(authorization),
            json={"to": "", "content": {"plainText": "connection test"}, "source": SOURCE}, errors=error_from_response,
        )
    except RcsUnauthorized:
        return False
    except RcsError as exc:
        if exc.retryable or exc.status_code is None:
            raise
    return True


def parse_send_answer(response: requests.Response) -> str:
    """200 {"id": "cbc63f46-…"} → the id."""
    try:
        data = response.json()
    except ValueError as exc:
        raise RcsError("Tata's answer to the RCS send was not JSON", retryable=False, status_code=response.status_code) from exc
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"].strip():
        raise RcsError("Tata accepted the RCS send but returned no message id", retryable=False, status_code=response.status_code)
    return data["id"].strip()


def headers(authorization: str) -> dict:
    return {"Authorization": authorization, "Accept": "application/json"}


may_have_been_accepted = tata_whatsapp.may_have_been_accepted


# ================================================================ inbound: webhook payloads → our records
# (kept apart from the send side above; inbox.ingest applies what this returns)

STATUS_OF_EVENT = {
    "MESSAGE_DELIVERED": "delivered",
    "DELIVERED": "delivered",
    "MESSAGE_READ": "read",
    "READ": "read",
    "SEND_MESSAGE_SUCCESS": "sent",
    "SEND_MESSAGE_FAILURE": "failed",
    "TTL_EXPIRATION_REVOKED": "failed",
}
TYPING_EVENTS = {"TYPING", "IS_TYPING"}


def is_rcs_payload(payload: dict) -> bool:
    return "entityType" in payload or "entity" in payload


def user_of(payload: dict) -> str | None:
    """The customer's number of an RCS event, in E.164 (None when it has none we can read)."""
    entity = payloads.as_dict(payload.get("entity"))
    return phones.try_e164(payloads.text(payload.get("userPhoneNumber")) or payloads.text(entity.get("senderPhoneNumber")))


def _user_name(payload: dict, entity: dict) -> str:
    """The customer's name where an RCS event carries one. Tata's reference shows none (RBM user
    messages have only the number), but aggregators that know the profile forward it as
    userName/displayName; without one the contact keeps the name it has, or shows its number."""
    for value in (payload.get("userName"), payload.get("displayName"), entity.get("userName"), entity.get("displayName")):
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return ""


def parse_webhook(payload: dict) -> list:
    """An RCS webhook body → one record: InboundMessage, StatusUpdate, Typing or NothingToApply."""
    entity = payload.get("entity") if isinstance(payload.get("entity"), dict) else None
    entity_type = payloads.text(payload.get("entityType"))
    if entity is None:
        raise Unprocessable("An RCS payload without an entity.")
    user = user_of(payload)
    message_id = payloads.provider_id(entity.get("messageId"), "messageId")
    if entity_type == "USER_MESSAGE":
        if user is None or not message_id:
            raise Unprocessable("An RCS user message without a valid userPhoneNumber or messageId.")
        parsed = parse_rcs_message(payload)
        parsed.sender, parsed.sender_name = user, _user_name(payload, entity)
        return [parsed]
    event_type = payloads.text(entity.get("eventType")).upper()
    if event_type in TYPING_EVENTS:
        return [Typing(user or "")]
    status = STATUS_OF_EVENT.get(event_type)
    if status is None:
        if entity_type in ("USER_EVENT", "STATUS_EVENT", "SERVER_EVENT"):
            return [NothingToApply(f"RCS event {event_type or '(no eventType)'} has nothing to apply", user or "")]
        raise Unprocessable(f"Unknown RCS entityType “{entity_type[:40]}”.")
    if not message_id:
        raise Unprocessable(f"RCS {event_type} without a messageId.")
    return [_status(entity, event_type, status, message_id, user)]


def _status(entity: dict, event_type: str, status: str, message_id: str, user: str | None) -> StatusUpdate:
    error = payloads.as_dict(entity.get("error"))
    message_text = payloads.text(error.get("message"))
    if event_type == "TTL_EXPIRATION_REVOKED":
        message_text = "Not delivered before it expired; the message was revoked."
    code = payloads.text(error.get("errCode")) or payloads.text(error.get("code")) or ("TTL" if event_type.startswith("TTL") else "")
    return StatusUpdate(
        provider_id=message_id,
        callback_data=message_id,
        status=status,
        at=payloads.from_iso(entity.get("sendTime")),
        error_code=code[:32],
        error_message=message_text,
        recipient=user or "",
    )


def parse_rcs_message(payload: dict) -> InboundMessage:
    """A Tata/Jio (or Google RBM) RCS user message → InboundMessage. Unused keys arrive as null."""
    entity = payloads.as_dict(payload.get("entity"))
    parsed = InboundMessage(
        provider_id=payloads.provider_id(entity.get("messageId"), "messageId"),
        type="text",
        body="",
        content=payload,
        timestamp=payloads.from_iso(entity.get("sendTime")),
        reply_to_provider_id=payloads.provider_id(payloads.as_dict(payload.get("metaData")).get("orgMsgId"), "quoted message id"),
    )
    _read_entity(parsed, entity)
    parsed.display = display(payload, parsed.body) or tata_whatsapp.display(parsed.type, payload, parsed.body, inbound=True)
    return parsed


def _read_entity(parsed: InboundMessage, entity: dict) -> None:
    text = payloads.text(entity.get("text"))
    suggestion = payloads.as_dict(entity.get("suggestionResponse"))
    file = payloads.as_dict(payloads.as_dict(entity.get("userFile")).get("payload"))
    location = payloads.as_dict(entity.get("location"))
    if suggestion:
        # When both text and a suggestion are filled, the suggestion is the machine-readable intent.
        parsed.type = "suggestion"
        parsed.body = _suggestion_text(suggestion) or text or payloads.text(payloads.as_dict(suggestion.get("postBack")).get("data")) \
            or payloads.text(suggestion.get("postbackData"))
    elif location:
        parsed.type = "location"
        parsed.body = payloads.location_text(location.get("latitude"), location.get("longitude"))
    elif file:
        mime = payloads.text(file.get("mimeType"))
        kind = mime.split("/")[0] if mime.split("/")[0] in ("image", "video", "audio") else "document"
        parsed.type = kind
        label = payloads.media_label(kind, {"filename": file.get("fileName")})
        parsed.body = text.strip() or label
        parsed.preview = label
        size = file.get("fileSizeBytes")
        parsed.attachment = AttachmentSpec(
            kind=kind,
            source_url=payloads.text(file.get("fileUri")),
            mime_type=mime,
            file_name=payloads.text(file.get("fileName")),
            size=size if isinstance(size, int) and not isinstance(size, bool) and 0 <= size < 2**63 else None,
        )
    elif text:
        parsed.body = text
    else:
        parsed.type = "unsupported"
        parsed.body = "An RCS message Sampark cannot show (kept as received)."


def _suggestion_text(suggestion: dict) -> str:
    return payloads.text(suggestion.get("plainText")) or payloads.text(suggestion.get("text"))


def display(content: dict, body: str) -> dict | None:
    """What a bubble shows for an RCS user message (the stored payload, or its entity); None when the
    object is not one (a message we sent, whose bubble is plain text)."""
    entity = payloads.as_dict(content.get("entity")) or content
    if "messageId" not in entity:  # not an RCS user message (a WhatsApp object, or one we sent)
        return None
    suggestion = entity.get("suggestionResponse")
    if isinstance(suggestion, dict):
        action = "Tapped an action" if suggestion.get("type") == "ACTION" else "Tapped a suggested reply"
        return {"kind": "tap", "text": _suggestion_text(suggestion) or body, "detail": action}
    if isinstance(entity.get("location"), dict):
        return tata_whatsapp.location_display(entity["location"])
    if isinstance(entity.get("userFile"), dict):
        return {"kind": "media", "text": body, "voice": False}
    return None
