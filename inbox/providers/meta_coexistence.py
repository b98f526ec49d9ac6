"""Meta's WhatsApp coexistence webhooks (a number onboarded to the API while the business keeps the
WhatsApp Business app on its phone), read into typed records. The provider's JSON only; never our models.

Three fields (Meta's webhook reference: `history`, `smb_message_echoes`, `smb_app_state_sync`):

- `history`: `value.history[]` chunks, each `{metadata: {phase 0–2, chunk_order, progress 0–100},
  threads: [{id: customer wa_id, messages: [Meta message objects + history_context.status]}]}`, or
  `{errors: [{code: 2593109, …}]}` when the business declined to share its history. Media messages
  come as `type: media_placeholder`; for the last 14 days a later `history` webhook carries
  `value.messages[]` with the same ids and the media object (id, mime_type, caption).
- `smb_message_echoes`: `value.message_echoes[]`, Meta message objects with `from` (the business) and
  `to` (the customer): what the owner typed on the phone.
- `smb_app_state_sync`: `value.state_sync[]` `{type: contact, contact: {full_name, first_name,
  phone_number}, action: add|remove, metadata: {timestamp}}`.

They come in Meta's envelope (`entry[].changes[] = {field, value}`) or in Tata's, where Tata posts the
`value` itself with `businessPhoneNumber` and its event `id` beside it (as for every WhatsApp webhook;
Tata's reference does not show coexistence payloads, so a top-level `field`, if Tata adds one, is read
too). In Tata's envelope a media follow-up looks like any inbound message: `media_follow_up_ids`
names the candidates, and the caller decides by what it has stored.
"""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field

HISTORY, ECHOES, STATE_SYNC = "history", "smb_message_echoes", "smb_app_state_sync"
FIELD_BY_KEY = {"history": HISTORY, "message_echoes": ECHOES, "state_sync": STATE_SYNC}
MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
# history_context.status → our outbound status (inbound history messages are simply received).
HISTORY_STATUS = {"PENDING": "sent", "SENT": "sent", "DELIVERED": "delivered", "READ": "read", "PLAYED": "read", "ERROR": "failed"}


@dataclass(frozen=True)
class HistoryMessage:
    customer: str  # the thread's wa_id (digits)
    outbound: bool  # sent by the business (from = the business's number)
    provider_id: str
    timestamp: datetime.datetime
    status: str  # our status name
    message: dict  # Meta's message object as received


@dataclass
class HistoryChunk:
    phase: int | None
    chunk_order: int | None
    progress: int | None
    threads: list  # raw thread objects; read with messages()
    declined: str = ""  # the reason, when the business declined to share its history
    business_digits: str = ""

    def messages(self) -> Iterator[HistoryMessage]:
        """Lazily: a chunk may hold thousands of messages."""
        for thread in self.threads:
            thread = _dict(thread)
            customer = digits(thread.get("id"))
            for item in _list(thread.get("messages")):
                record = _history_message(item, customer, self.business_digits)
                if record is not None:
                    yield record

    def customers(self) -> set[str]:
        """The threads' customers (a thread without an id: its messages' other side)."""
        found = set()
        for thread in self.threads:
            thread = _dict(thread)
            if digits(thread.get("id")):
                found.add(digits(thread.get("id")))
            else:
                found.update(m.customer for m in (_history_message(i, "", self.business_digits) for i in _list(thread.get("messages"))) if m)
        return found

    def count(self) -> int:
        return sum(len(_list(_dict(thread).get("messages"))) for thread in self.threads)


@dataclass(frozen=True)
class Echo:
    customer: str  # `to`, digits
    provider_id: str
    timestamp: datetime.datetime
    message: dict


@dataclass(frozen=True)
class ContactSync:
    phone: str  # digits
    action: str  # "add" (added or edited) or "remove"
    full_name: str
    first_name: str
    at: datetime.datetime | None


@dataclass
class Coexistence:
    """What a payload holds. `rest` is the payload without its coexistence parts (None when nothing is
    left) for the ordinary WhatsApp path; `media` are history media follow-ups (Meta's envelope)."""

    history: list[HistoryChunk] = field(default_factory=list)
    echoes: list[Echo] = field(default_factory=list)
    contacts: list[ContactSync] = field(default_factory=list)
    media: list[dict] = field(default_factory=list)
    rest: dict | None = None

    @property
    def found(self) -> bool:
        return bool(self.history or self.echoes or self.contacts or self.media)


def read(payload: dict, business_number: str) -> Coexistence:
    """Split a stored webhook payload into coexistence records and the rest."""
    business = digits(business_number)
    found = Coexistence()
    if isinstance(payload.get("entry"), list):
        kept_entries = []
        for entry in payload["entry"]:
            entry = _dict(entry)
            kept = [change for change in _list(entry.get("changes")) if not _take(found, _dict(change).get("field"), _dict(_dict(change).get("value")), business)]
            if kept:
                kept_entries.append({**entry, "changes": kept})
        found.rest = {**payload, "entry": kept_entries} if kept_entries else None
    elif not _take(found, payload.get("field"), payload, business):
        found.rest = payload
    return found


def media_follow_up_ids(payload: dict) -> list[str]:
    """Ids of media messages in an ordinary (Tata-envelope) messages payload: a history media follow-up
    reads like a live message, so the caller checks these against its stored media placeholders."""
    if "entry" in payload:
        return []
    return [_text(m.get("id")) for m in map(_dict, _list(payload.get("messages"))) if _text(m.get("type")) in MEDIA_TYPES and _text(m.get("id"))]


def _take(found: Coexistence, field_name, value: dict, business: str) -> bool:
    """Records from one `value`; False when it is not a coexistence value."""
    kind = field_name if field_name in (HISTORY, ECHOES, STATE_SYNC) else next((FIELD_BY_KEY[k] for k in FIELD_BY_KEY if k in value), None)
    if kind is None:
        return False
    if kind == HISTORY:
        for chunk in _list(value.get("history")):
            found.history.append(_chunk(_dict(chunk), business))
        found.media += [m for m in map(_dict, _list(value.get("messages"))) if _text(m.get("id"))]
    elif kind == ECHOES:
        for item in map(_dict, _list(value.get("message_echoes"))):
            if _text(item.get("id")) and digits(item.get("to")):
                found.echoes.append(Echo(digits(item.get("to")), _text(item["id"]), _from_unix(item.get("timestamp")), item))
    else:
        for item in map(_dict, _list(value.get("state_sync"))):
            contact = _dict(item.get("contact"))
            if _text(item.get("type") or "contact") == "contact" and digits(contact.get("phone_number")):
                found.contacts.append(
                    ContactSync(
                        phone=digits(contact.get("phone_number")),
                        action=_text(item.get("action")).lower() or "add",
                        full_name=_text(contact.get("full_name")).strip(),
                        first_name=_text(contact.get("first_name")).strip(),
                        at=_from_unix(_dict(item.get("metadata")).get("timestamp"), default=None),
                    )
                )
    return True


def _chunk(chunk: dict, business: str) -> HistoryChunk:
    metadata = _dict(chunk.get("metadata"))
    errors = _list(chunk.get("errors"))
    declined = ""
    if errors:
        error = _dict(errors[0])
        declined = _text(_dict(error.get("error_data")).get("details")) or _text(error.get("message")) or _text(error.get("title")) or "History sharing was declined"
    return HistoryChunk(
        phase=_int(metadata.get("phase")),
        chunk_order=_int(metadata.get("chunk_order")),
        progress=_int(metadata.get("progress")),
        threads=_list(chunk.get("threads")),
        declined=declined,
        business_digits=business,
    )


def _history_message(item, customer: str, business: str) -> HistoryMessage | None:
    item = _dict(item)
    provider_id, sender = _text(item.get("id")), digits(item.get("from"))
    if not provider_id or not (customer or sender):
        return None
    # Without the thread's customer (a thread with no id) only the business's number tells the sides apart.
    outbound = bool(sender) and (sender == business or bool(customer) and sender != customer and bool(digits(item.get("to"))))
    customer = customer or (digits(item.get("to")) if outbound else sender)
    status = "received" if not outbound else HISTORY_STATUS.get(_text(_dict(item.get("history_context")).get("status")).upper(), "sent")
    return HistoryMessage(customer, outbound, provider_id, _from_unix(item.get("timestamp")), status, item)


# Typed reads: a field of the wrong type reads as absent (everything here came from outside).


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value) -> str:
    if isinstance(value, str):
        return value[:255]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def digits(value) -> str:
    return "".join(ch for ch in _text(value) if ch.isdigit())


def _int(value) -> int | None:
    try:
        return int(_text(value))
    except ValueError:
        return None


def _from_unix(value, default="now"):
    try:
        return datetime.datetime.fromtimestamp(int(_text(value)), tz=datetime.UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.datetime.now(datetime.UTC) if default == "now" else default


def _message_items(payload: dict) -> list[dict]:
    values = [_dict(_dict(c).get("value")) for e in _list(payload.get("entry")) for c in _list(_dict(e).get("changes"))] if "entry" in payload else [payload]
    return [m for v in values for m in map(_dict, _list(v.get("messages")))]


def inbound_texts(payload: dict, business_number: str) -> list[tuple[str, str, datetime.datetime, str]]:
    """(sender digits, message id, time, text) of the customers' text messages in an ordinary payload."""
    business = digits(business_number)
    found = []
    for item in _message_items(payload):
        sender = digits(item.get("from"))
        body = _dict(item.get("text")).get("body")
        if _text(item.get("type")) == "text" and sender and sender != business and isinstance(body, str) and _text(item.get("id")):
            found.append((sender, _text(item["id"]), _from_unix(item.get("timestamp")), body))
    return found


def sent_by_business(payload: dict, business_number: str) -> list[str]:
    """Ids of messages in an ordinary (Tata-envelope) payload whose sender is the business itself: only
    history media follow-ups of the business's own messages look like that."""
    business = digits(business_number)
    return [_text(m.get("id")) for m in _message_items(payload) if "entry" not in payload and business and digits(m.get("from")) == business and _text(m.get("id"))]


def split_messages(payload: dict, ids: set[str]) -> tuple[list[dict], dict | None]:
    """Take the messages with these ids out of a Tata-envelope payload: (them, what is left or None)."""
    items = _list(payload.get("messages"))
    taken = [m for m in map(_dict, items) if _text(m.get("id")) in ids]
    left = [m for m in items if _text(_dict(m).get("id")) not in ids]
    rest = {**payload, "messages": left} if left else {k: v for k, v in payload.items() if k != "messages"}
    has_work = left or any(rest.get(k) for k in ("statuses", "calls", "errors"))
    return taken, rest if has_work else None
