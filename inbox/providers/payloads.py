"""What the provider modules turn inbound webhook JSON into: small typed records of our own.

`tata_whatsapp.parse_webhook` and `tata_rcs.parse_webhook` read a provider's payload once and return
these; `inbox.ingest` applies them and never looks at a provider dict. No database, no Django models.

The typed reads below (`as_dict`, `text`, …) make a field of the wrong type read as absent, so the
parsers never trip over a string where an object belongs (or a list where a string does); what is
then missing is reported as `Unprocessable`, in words.
"""

import datetime
from dataclasses import dataclass, field


class Unprocessable(Exception):
    """The payload is not in a shape we understand. The event is kept (status unprocessable) for replay."""


@dataclass
class AttachmentSpec:
    kind: str
    provider_media_id: str = ""
    source_url: str = ""
    mime_type: str = ""
    sha256: str = ""
    file_name: str = ""
    size: int | None = None


@dataclass
class InboundMessage:
    """A customer's message reduced to what we store. `display` is what its bubble shows
    (inbox.display reads it; the same parser fills it for rows stored before it existed)."""

    provider_id: str
    type: str
    body: str
    content: dict
    timestamp: datetime.datetime
    sender: str = ""  # E.164
    sender_name: str = ""
    reply_to_provider_id: str = ""
    error_code: str = ""
    error_message: str = ""
    attachment: AttachmentSpec | None = None
    reaction_emoji: str | None = None  # set for reactions ("" = removed)
    preview: str = ""
    counts_as_unread: bool = True
    new_number: str = ""  # a WhatsApp `user_changed_number` system message: the customer's new number (E.164)
    display: dict = field(default_factory=dict)


@dataclass
class StatusUpdate:
    """A provider's word on one of our messages (sent, delivered, read, failed)."""

    provider_id: str
    status: str
    at: datetime.datetime
    callback_data: str = ""
    recipient: str = ""
    error_code: str = ""
    error_message: str = ""
    details: dict = field(default_factory=dict)


@dataclass
class Typing:
    """The customer is typing (RCS): shown live, never stored."""

    user: str  # E.164, "" when the payload had none we could read
    reason: str = "Typing indicator (shown live, not stored)"


@dataclass
class NothingToApply:
    """A known item with nothing to do (WhatsApp calls, a status with no meaning for ticks); the reason is kept."""

    reason: str
    sender: str = ""


# ---------------------------------------------------------------- typed reads of untrusted JSON


def as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def text(value) -> str:
    """A provider's text field: strings as they are, numbers as written; objects, lists, booleans and
    null are not text."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


PROVIDER_ID_LENGTH = 255  # Message.provider_message_id


def provider_id(value, what: str = "id") -> str:
    """A provider's message id (text or a number; "" when absent or of another type)."""
    found = text(value).strip()
    if len(found) > PROVIDER_ID_LENGTH:
        raise Unprocessable(f"The {what} is longer than {PROVIDER_ID_LENGTH} characters.")
    return found


def integer(value) -> int:
    try:
        return int(text(value) or 0)
    except ValueError:
        return 0


def from_unix(value) -> datetime.datetime:
    try:
        return datetime.datetime.fromtimestamp(int(value), tz=datetime.timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.datetime.now(tz=datetime.timezone.utc)


def from_iso(value) -> datetime.datetime:
    try:
        parsed = datetime.datetime.fromisoformat(text(value))
        # In UTC now: a time near year 1 or 9999 with an offset cannot be stored.
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)).astimezone(datetime.timezone.utc)
    except (ValueError, OverflowError):
        return datetime.datetime.now(tz=datetime.timezone.utc)


def location_text(latitude, longitude, name=None, address=None) -> str:
    place = " — ".join(text(p).strip() for p in (name, address) if text(p).strip())
    return f"📍 {place}" if place else f"📍 {text(latitude)}, {text(longitude)}"


def media_label(kind: str, obj: dict) -> str:
    if kind == "image":
        return "📷 Photo"
    if kind == "video":
        return "🎥 Video"
    if kind == "audio":
        return "🎤 Voice message" if obj.get("voice") else "🎵 Audio"
    if kind == "sticker":
        return "Sticker"
    return f"📄 {text(obj.get('filename')) or 'Document'}"
