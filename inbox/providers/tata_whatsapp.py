"""Tata omni WhatsApp API client (https://wb.omni.tatatelebusiness.com).

HTTP and Tata's JSON only: no database access, no Django models. Every request has a timeout.
Functions take `authorization`, the whole Authorization header value (`authorization()` builds it from
the token in the channel's chosen form; `Channel.authorization` is that value for a channel).
Failures raise TataError; `retryable` tells a task whether trying again later can help
(timeouts, connection errors, 429 and 5xx) or not (400, 401, 404, 424 — the request itself is wrong).

Long because: this is the one module that knows Tata's WhatsApp JSON, both
ways. Sending is at the top; what the webhook posts (messages, statuses, errors, contacts' names,
system changes) is parsed at the bottom into inbox.providers.payloads records, with what a bubble
shows for each message object.
"""

import hashlib
import hmac
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlsplit

import requests
from django.utils import timezone

from core import phones, safe_http
from core.links import http_url
from core.untrusted import NotJSON, loads_json
from inbox.providers.payloads import (
    AttachmentSpec,
    InboundMessage,
    NothingToApply,
    StatusUpdate,
    Unprocessable,
    as_dict,
    as_list,
    from_unix,
    integer,
    location_text,
    media_label,
    provider_id,
    text,
)

DEFAULT_TIMEOUT = (5, 20)  # (connect, read) seconds
MEDIA_TIMEOUT = (5, 60)  # connect, each read
MEDIA_TOTAL_TIMEOUT = 600  # a whole download (media files can be up to 100 MB)
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
# Meta codes inside a 424 that clear by themselves: app/number throughput (4, 80007, 130429),
# pair rate to one user (131056), service temporarily unavailable (131016).
META_THROTTLING_CODES = {4, 80007, 130429, 131016, 131056}


class TataError(Exception):
    """A failed Tata call. `message` is the provider's human text when it gave one."""

    def __init__(self, message: str, *, retryable: bool, status_code: int | None = None, code: str = ""):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status_code = status_code
        self.code = code


AUTH_PLAIN = "plain"  # `Authorization: <token>`, as the omni reference shows it
AUTH_BEARER = "bearer"  # `Authorization: Bearer <token>`, as public integrations send it


def authorization(access_token: str, scheme: str = AUTH_PLAIN) -> str:
    """The Authorization header value for Tata's JWT in the channel's chosen form (a token pasted with
    its `Bearer ` prefix is not prefixed twice, nor sent with it in the plain form)."""
    token = (access_token or "").strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    return f"Bearer {token}" if scheme == AUTH_BEARER else token


def error_body(response: requests.Response) -> dict:
    """An error answer's JSON object, or {} when it is not one."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def error_from_response(response: requests.Response) -> TataError:
    """Tata answers errors as {error, message, meta: {message, code}} or {status, error_code, description}."""
    data = error_body(response)
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    parts = [p for p in (data.get("message") or data.get("description"), meta.get("message")) if p]
    message = " — ".join(str(p) for p in parts) or f"HTTP {response.status_code} from Tata"
    code = str(data.get("error_code") or data.get("error") or meta.get("code") or response.status_code)
    error = TataError(
        message,
        retryable=response.status_code in RETRYABLE_STATUS or response.status_code >= 500,
        status_code=response.status_code,
        code=code,
    )
    # A 424 wraps Meta's error: its throttling codes mean "later", not "never".
    error.meta_code = meta.get("code")
    if error.meta_code in META_THROTTLING_CODES:
        error.retryable = True
    return error


_local = threading.local()


def _session() -> requests.Session:
    """One keep-alive session per thread: a send reuses its TLS connection instead of opening one."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def _request(method: str, url: str, *, timeout=DEFAULT_TIMEOUT, errors=None, **kwargs) -> requests.Response:
    """Every call to Tata: a timeout, typed errors (`errors` reads an error answer; WhatsApp's by default)."""
    try:
        response = _session().request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout as exc:
        raise TataError(f"Tata did not answer in time ({exc.__class__.__name__})", retryable=True) from exc
    except requests.RequestException as exc:
        raise TataError(f"Could not reach Tata: {exc.__class__.__name__}", retryable=True) from exc
    if response.status_code >= 400:
        raise (errors or error_from_response)(response)
    return response


# ---------------------------------------------------------------- media download (inbound media)


def get_media_url(base_url: str, authorization: str, media_id: str) -> dict:
    """GET /whatsapp-cloud/media/download/{mediaId} → {"url": <short-lived link>, "mime_type": ...}."""
    response = _request(
        "GET",
        f"{base_url.rstrip('/')}/whatsapp-cloud/media/download/{requests.utils.quote(str(media_id), safe='')}",
        headers={"Authorization": authorization, "Accept": "application/json"},
    )
    try:
        data = response.json()
    except ValueError as exc:
        raise TataError("Tata's media download answer was not JSON", retryable=True) from exc
    if not isinstance(data, dict) or not data.get("url"):
        raise TataError("Tata's media download answer has no url", retryable=False, status_code=response.status_code)
    return data


def check_authorization(base_url: str, authorization: str) -> bool:
    """Does Tata accept this Authorization value? A read-only call from the reference (the media link
    of an id that does not exist): 401 means refused; 424/404 (no such media) means authenticated.
    Network trouble and 5xx raise TataError (nothing can be concluded)."""
    try:
        get_media_url(base_url, authorization, "0")
    except TataError as exc:
        if exc.status_code == 401:
            return False
        if exc.retryable or exc.status_code is None:
            raise
    return True


def download_media(url: str, *, base_url: str, authorization: str, max_bytes: int) -> tuple[bytes, str]:
    """Fetch the file behind a media link → (content, content_type).

    The link Tata returns is a pre-signed S3 URL: it must be fetched *without* our Authorization header
    (S3 refuses a request carrying two kinds of auth). A link on Tata's own host gets the header.
    Links come from payloads (an RCS fileUri, a WhatsApp media url), so they go through the safe
    fetcher: http(s) only, public addresses only, every redirect checked. The channel's own API host is
    the one origin an admin vouched for (the sandbox on 127.0.0.1 in development).
    """
    headers = {}
    if _same_host(url, base_url):
        headers["Authorization"] = authorization
    try:
        fetched = safe_http.fetch(
            url, headers=headers, max_bytes=max_bytes, connect_timeout=MEDIA_TIMEOUT[0], read_timeout=MEDIA_TIMEOUT[1],
            total_timeout=MEDIA_TOTAL_TIMEOUT, trusted_origins=(base_url,),
        )
    except safe_http.FetchError as exc:
        raise TataError(exc.message, retryable=exc.retryable, status_code=exc.status_code) from exc
    return fetched.content, fetched.content_type


def _same_host(url: str, base_url: str) -> bool:
    return urlsplit(url).netloc == urlsplit(base_url).netloc


# ---------------------------------------------------------------- sending (session and template messages)
#
# Field names follow the Tata reference ("Send Session Message" / "Send Template Message"): `to` in
# international form with the plus, `type`, the type's object, `source`, and
# `metaData.custom_callback_data`, which Tata hands back unprocessed in every status callback.

SOURCE = "sampark"


def text_content(body: str, *, preview_url: bool = False) -> dict:
    return {"type": "text", "text": {"body": body, "preview_url": bool(preview_url)}}


def media_content(kind: str, media_id: str, *, caption: str = "", filename: str = "") -> dict:
    """kind: image, video, audio or document; sent by the id `upload_media` returned."""
    media = {"id": media_id}
    if caption and kind != "audio":  # WhatsApp shows no caption under audio
        media["caption"] = caption
    if filename and kind == "document":
        media["filename"] = filename
    return {"type": kind, kind: media}


def location_content(latitude: float, longitude: float, *, name: str = "", address: str = "") -> dict:
    location = {"latitude": latitude, "longitude": longitude}
    if name:
        location["name"] = name
    if address:
        location["address"] = address
    return {"type": "location", "location": location}


def _interactive_frame(kind: str, body: str, header: str, footer: str) -> dict:
    interactive = {"type": kind, "body": {"text": body}}
    if header:
        interactive["header"] = {"type": "text", "text": header}
    if footer:
        interactive["footer"] = {"text": footer}
    return interactive


def buttons_content(body: str, buttons: list[tuple[str, str]], *, header: str = "", footer: str = "") -> dict:
    """Reply buttons: [(id, title), …], at most 3."""
    interactive = _interactive_frame("button", body, header, footer)
    interactive["action"] = {
        "buttons": [{"type": "reply", "reply": {"id": button_id, "title": title}} for button_id, title in buttons]
    }
    return {"type": "interactive", "interactive": interactive}


def list_content(body: str, button: str, sections: list[dict], *, header: str = "", footer: str = "") -> dict:
    """A list message: sections [{"title", "rows": [{"id", "title", "description"?}]}], at most 10 rows."""
    interactive = _interactive_frame("list", body, header, footer)
    interactive["action"] = {"button": button, "sections": sections}
    return {"type": "interactive", "interactive": interactive}


def template_content(name: str, language: str, components: list[dict]) -> dict:
    return {"type": "template", "template": {"name": name, "language": {"code": language}, "components": components}}


def template_header_parameters(content: dict) -> list[dict]:
    """The parameters of a template message's header (what template_content holds), the objects themselves."""
    components = (content.get("template") or {}).get("components") or []
    return [parameter for component in components if component.get("type") == "header" for parameter in component.get("parameters") or []]


def message_payload(to: str, content: dict, *, callback_data: str, reply_to_provider_id: str = "") -> dict:
    """The whole request body of POST /whatsapp-cloud/messages. `to` is E.164 (+919812345678)."""
    payload = {"to": to, **content, "source": SOURCE, "metaData": {"custom_callback_data": callback_data}}
    if reply_to_provider_id:
        # Meta's quoting: the wamid of the message being answered.
        payload["context"] = {"message_id": reply_to_provider_id}
    return payload


def may_have_been_accepted(error: TataError) -> bool:
    """True when Tata may have taken the message although we saw a failure: the request went out and
    the answer was lost (read timeout, broken connection mid-response, gateway timeout)."""
    cause = error.__cause__
    if isinstance(cause, requests.ConnectTimeout):
        return False
    if isinstance(cause, (requests.ReadTimeout, requests.exceptions.ChunkedEncodingError)):
        return True
    if isinstance(cause, requests.ConnectionError):
        # Refused or unreachable before anything was sent; a reset mid-answer is ambiguous.
        return "reset" in str(cause).lower() or "aborted" in str(cause).lower()
    return error.status_code == 504


def _json(response: requests.Response, what: str) -> dict:
    try:
        data = response.json()
    except ValueError as exc:
        raise TataError(f"Tata's answer to {what} was not JSON", retryable=False, status_code=response.status_code) from exc
    if not isinstance(data, (dict, list)):
        raise TataError(f"Tata's answer to {what} was not an object", retryable=False, status_code=response.status_code)
    return data


def _headers(authorization: str) -> dict:
    return {"Authorization": authorization, "Accept": "application/json"}


def _url(base_url: str, path: str) -> str:
    return f"{base_url.rstrip('/')}{path}"


def send_message(base_url: str, authorization: str, payload: dict) -> str:
    """POST /whatsapp-cloud/messages → Tata's id for the request (not the wamid; that comes in callbacks)."""
    response = _request("POST", _url(base_url, "/whatsapp-cloud/messages"), headers=_headers(authorization), json=payload)
    data = _json(response, "the send")
    if not isinstance(data, dict) or not data.get("id"):
        raise TataError("Tata accepted the send but returned no id", retryable=False, status_code=response.status_code)
    return str(data["id"])


# ---------------------------------------------------------------- media upload (outbound media)


def upload_media(base_url: str, authorization: str, *, file_name: str, content: bytes, mime_type: str) -> str:
    """POST /whatsapp-cloud/media (multipart `file`) → a media id to send by (kept by Tata for 30 days)."""
    return _upload(base_url, authorization, "/whatsapp-cloud/media", file_name, content, mime_type)


def upload_media_handle(base_url: str, authorization: str, *, file_name: str, content: bytes, mime_type: str) -> str:
    """POST /whatsapp-cloud/media/handle → a media handle, the example a media template is created with."""
    return _upload(base_url, authorization, "/whatsapp-cloud/media/handle", file_name, content, mime_type)


def _upload(base_url, authorization, path, file_name, content, mime_type) -> str:
    response = _request(
        "POST",
        _url(base_url, path),
        timeout=MEDIA_TIMEOUT,
        headers=_headers(authorization),
        files={"file": (file_name, content, mime_type)},
    )
    data = _json(response, "the media upload")
    if not isinstance(data, dict) or not data.get("id"):
        raise TataError("Tata stored the media but returned no id", retryable=False, status_code=response.status_code)
    return str(data["id"])


def delete_media(base_url: str, authorization: str, media_id: str) -> None:
    """DELETE /whatsapp-cloud/media/{mediaId}."""
    _request(
        "DELETE",
        _url(base_url, f"/whatsapp-cloud/media/{requests.utils.quote(str(media_id), safe='')}"),
        headers=_headers(authorization),
    )


# ---------------------------------------------------------------- templates


def create_template(base_url: str, authorization: str, definition: dict) -> str:
    """POST /templates {name, language, category, components[, message_send_ttl_seconds]} → template id."""
    response = _request("POST", _url(base_url, "/templates"), headers=_headers(authorization), json=definition)
    data = _json(response, "the template creation")
    if not isinstance(data, dict) or not data.get("id"):
        raise TataError("Tata accepted the template but returned no id", retryable=False, status_code=response.status_code)
    return str(data["id"])


def list_templates(base_url: str, authorization: str) -> list[dict]:
    """GET /templates → the business's templates, following `paging.cursors.after`.

    The Tata reference documents creating templates but not listing them; this is the same path read
    with GET, answered like Meta's template list ({data: [...], paging}) or as a bare list.
    """
    templates, after, pages = [], None, 0
    while True:
        params = {"after": after} if after else None
        response = _request("GET", _url(base_url, "/templates"), headers=_headers(authorization), params=params)
        data = _json(response, "the template list")
        items = data if isinstance(data, list) else data.get("data") or data.get("templates") or []
        templates += [item for item in items if isinstance(item, dict)]
        paging = data.get("paging") if isinstance(data, dict) else None
        after = ((paging or {}).get("cursors") or {}).get("after") if (paging or {}).get("next") else None
        pages += 1
        if not after or not items or pages >= 50:
            return templates


def template_insights(base_url: str, authorization: str, template_ids: list[str], start, end, *, granularity="DAILY") -> list[dict]:
    """GET /templates/insights → data points [{template_id, start, end, sent, delivered, read}].

    `start`/`end` are dates (sent as YYYY-MM-DD). Tata's two examples nest the points differently
    (data: {data_points} and data: [{data_points}]); both are read.
    """
    response = _request(
        "GET",
        _url(base_url, "/templates/insights"),
        headers=_headers(authorization),
        params={
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "granularity": granularity,
            "templateIDs": ",".join(str(t) for t in template_ids),
        },
    )
    return _data_points(_json(response, "the template insights"))


def template_insights_by_name(base_url: str, authorization: str, name: str, language: str, start, end) -> list[dict]:
    """GET /templates/insights-by-name?name&language&startDate&endDate&granularity=DAILY."""
    response = _request(
        "GET",
        _url(base_url, "/templates/insights-by-name"),
        headers=_headers(authorization),
        params={"name": name, "language": language, "startDate": start.isoformat(), "endDate": end.isoformat(), "granularity": "DAILY"},
    )
    return _data_points(_json(response, "the template insights"))


def _data_points(data) -> list[dict]:
    blocks = data.get("data") if isinstance(data, dict) else data
    if isinstance(blocks, dict):
        blocks = [blocks]
    points = []
    for block in blocks or []:
        if isinstance(block, dict):
            points += [p for p in block.get("data_points") or [] if isinstance(p, dict)]
    return points


def enable_template_insights(base_url: str, authorization: str) -> None:
    """POST /templates/insights/optin: switches template insights on for the business (once)."""
    _request("POST", _url(base_url, "/templates/insights/optin"), headers=_headers(authorization))


# ---------------------------------------------------------------- opt-in / opt-out


def set_opt_status(base_url: str, authorization: str, numbers: list[str], *, opt_in: bool, auto_optin_in_days: int | None = None) -> None:
    """POST /business/optin_optout {recipient_numbers, type: optin|optout[, auto_optin_in_days]}.

    An opt-out with auto_optin_in_days lapses by itself after that many days.
    """
    body = {"recipient_numbers": list(numbers), "type": "optin" if opt_in else "optout"}
    if not opt_in and auto_optin_in_days:
        body["auto_optin_in_days"] = int(auto_optin_in_days)
    _request("POST", _url(base_url, "/business/optin_optout"), headers=_headers(authorization), json=body)


# ---------------------------------------------------------------- webhook signatures

SIGNATURE_HEADER = "x-hub-signature-256"


def sign(body: bytes, partner_token: str) -> str:
    """The x-hub-signature-256 value Tata sends: sha256=<hex HMAC-SHA256 of the raw body, partner token>."""
    return "sha256=" + hmac.new(partner_token.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, partner_token: str, header_value: str | None) -> bool:
    """Constant-time check of the header against the raw bytes (before any JSON parsing)."""
    if not header_value or not partner_token:
        return False
    # As bytes: compare_digest refuses str with non-ASCII characters, and a header may carry any.
    return hmac.compare_digest(sign(body, partner_token).encode(), header_value.strip().lower().encode("utf-8", "replace"))


# ================================================================ inbound: webhook payloads → our records
# Everything below reads what Tata posts to our webhook (Meta's Cloud API objects) and is the only code
# that does: inbox.ingest applies the records, inbox.display shows them.


def parse_webhook(payload: dict) -> list:
    """A WhatsApp webhook body → records (InboundMessage, StatusUpdate, NothingToApply), in payload order:
    messages, then statuses, then calls. A malformed item raises Unprocessable (the event is kept)."""
    records: list = []
    for value in _whatsapp_values(payload):
        records += _parse_value(value)
    return records


def _whatsapp_values(payload: dict) -> list[dict]:
    """Tata posts Meta's `value` object directly; Meta's own envelope (entry[].changes[].value) is read too."""
    if isinstance(payload.get("entry"), list):
        values = []
        for entry in payload["entry"]:
            for change in as_list(as_dict(entry).get("changes")):
                if isinstance(change, dict) and isinstance(change.get("value"), dict):
                    values.append(change["value"])
        return values
    return [payload]


def _parse_value(value: dict) -> list:
    records: list = []
    names = {}
    for contact in as_list(value.get("contacts")):
        if isinstance(contact, dict) and text(contact.get("wa_id")):
            names[text(contact["wa_id"])] = text(as_dict(contact.get("profile")).get("name")).strip()
    top_errors = as_list(value.get("errors"))
    for message in as_list(value.get("messages")):
        records.append(_parse_inbound(message, names, top_errors))
    for status in as_list(value.get("statuses")):
        records.append(_parse_status(status))
    records += [NothingToApply("WhatsApp calling events are kept but not handled yet")] * len(as_list(value.get("calls")))
    if not records and top_errors:
        records.append(NothingToApply(f"Provider reported errors without a message: {error_text(top_errors[0])}"))
    return records


def _parse_inbound(data, names: dict, top_errors: list) -> InboundMessage:
    if not isinstance(data, dict) or not provider_id(data.get("id"), "message id") or not text(data.get("from")):
        raise Unprocessable("A WhatsApp message without an id or a sender.")
    sender = phones.try_e164(text(data["from"]))
    if sender is None:
        raise Unprocessable(f"The sender “{text(data['from'])[:40]}” is not a phone number.")
    parsed = parse_wa_message(data, top_errors=top_errors)
    parsed.sender, parsed.sender_name = sender, names.get(text(data["from"]), "")
    return parsed


def _parse_status(data) -> StatusUpdate | NothingToApply:
    if not isinstance(data, dict) or not provider_id(data.get("id"), "status's message id") or not text(data.get("status")):
        raise Unprocessable("A status without an id or a status.")
    message_id = provider_id(data["id"])
    recipient = phones.try_e164(text(data.get("recipient_id")))
    if data.get("type") == "call" or message_id.startswith("wacid."):
        return NothingToApply("WhatsApp call statuses are kept but not handled yet", recipient or "")
    status = {"played": "read"}.get(text(data["status"]).lower(), text(data["status"]).lower())
    if status not in ("sent", "delivered", "read", "failed"):
        return NothingToApply(f"Status “{text(data['status'])[:40]}” has no meaning for a message's ticks", recipient or "")
    errors = as_list(data.get("errors"))
    return StatusUpdate(
        provider_id=message_id,
        callback_data=text(data.get("custom_callback_data")) or text(data.get("biz_opaque_callback_data")),
        status=status,
        at=from_unix(data.get("timestamp")),
        error_code=text(as_dict(errors[0]).get("code"))[:32] if errors else "",
        error_message=error_text(errors[0]) if errors else "",
        recipient=text(data.get("recipient_id")),
        details={k: data[k] for k in ("conversation", "pricing") if k in data},
    )


MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})  # = Message.MEDIA_TYPES


def parse_wa_message(data: dict, *, top_errors: list | None = None) -> InboundMessage:
    """Meta's message object → InboundMessage. Unknown types are kept with a readable placeholder."""
    kind = text(data.get("type")).strip() or "unknown"
    obj = as_dict(data.get(kind))
    parsed = InboundMessage(
        provider_id=provider_id(data.get("id"), "message id"),
        type=kind,
        body="",
        content=data,
        timestamp=from_unix(data.get("timestamp")),
        reply_to_provider_id=provider_id(as_dict(data.get("context")).get("id"), "quoted message id"),
    )
    errors = as_list(data.get("errors")) or as_list(top_errors)
    if errors:
        parsed.error_code = text(as_dict(errors[0]).get("code"))[:32]
        parsed.error_message = error_text(errors[0])
    _read_kind(parsed, kind, obj, data)
    parsed.display = display(kind, data, parsed.body, inbound=True)
    return parsed


def _read_kind(parsed: InboundMessage, kind: str, obj: dict, data: dict) -> None:
    if kind == "text":
        parsed.body = text(obj.get("body"))
    elif kind in MEDIA_TYPES:
        caption = text(obj.get("caption")).strip()
        parsed.body = caption or media_label(kind, obj)
        parsed.preview = media_label(kind, obj) + (f" {caption}" if caption else "")
        media_id = text(obj.get("id"))
        parsed.attachment = AttachmentSpec(
            kind=kind, provider_media_id=media_id, source_url=text(obj.get("url")) if not media_id else "",
            mime_type=text(obj.get("mime_type")), sha256=text(obj.get("sha256")), file_name=text(obj.get("filename")),
        )
    elif kind == "location":
        parsed.body = location_text(obj.get("latitude"), obj.get("longitude"), obj.get("name"), obj.get("address"))
    elif kind == "contacts":
        people = [as_dict(as_dict(c).get("name")) for c in as_list(data.get("contacts"))]
        names = [(text(name.get("formatted_name")) or text(name.get("first_name"))).strip() for name in people]
        parsed.body = "👤 " + (", ".join(n for n in names if n) or "Shared contact")
    elif kind == "interactive":
        parsed.body = _interactive_text(obj)
    elif kind == "button":
        parsed.body = text(obj.get("text")) or text(obj.get("payload"))
    elif kind == "reaction":
        emoji = text(obj.get("emoji"))
        parsed.reaction_emoji = emoji
        parsed.reply_to_provider_id = provider_id(obj.get("message_id"), "reacted-to message id")
        parsed.body = emoji or "Removed a reaction"
        parsed.preview = f"Reacted {emoji}" if emoji else ""
        parsed.counts_as_unread = bool(emoji)
    elif kind == "order":
        parsed.body = order_text(obj)
    elif kind == "system":
        parsed.body = text(obj.get("body")) or "The customer's WhatsApp account changed."
        parsed.counts_as_unread = False
        if obj.get("type") == "user_changed_number":
            parsed.new_number = phones.try_e164(text(obj.get("wa_id")) or text(obj.get("new_wa_id"))) or ""
    elif kind == "unsupported":
        what = text(obj.get("type")) or "this kind of message"
        detail = parsed.error_message or "WhatsApp does not pass it on to businesses."
        parsed.body = f"Unsupported message ({what}). {detail} Ask the customer to send it another way."
    else:
        parsed.body = f"A “{kind}” message, which Sampark cannot show yet (kept as received)."


def _interactive_text(obj: dict) -> str:
    kind = text(obj.get("type"))
    reply = as_dict(obj.get(kind))
    if kind in ("button_reply", "list_reply"):
        return text(reply.get("title")) or text(reply.get("id"))
    if kind == "nfm_reply":
        shown = [f"{k.replace('_', ' ')}: {v}" for k, v in _form_json(reply.get("response_json")).items() if k != "flow_token"]
        return "📝 Form submitted" + (" — " + "; ".join(shown) if shown else "")
    if kind == "call_permission_reply":
        if reply.get("response") == "accept":
            until = integer(reply.get("expiration_timestamp"))
            when = f" until {timezone.localtime(from_unix(until)):%d %b %Y, %H:%M}" if until else ""
            return f"✅ Allowed WhatsApp calls{when}"
        return "🚫 Declined WhatsApp calls"
    return f"Interactive reply ({kind or 'unknown'})"


def _form_json(raw) -> dict:
    try:
        answers = loads_json(text(raw) or "{}")
    except NotJSON:
        return {}
    return answers if isinstance(answers, dict) else {}


@dataclass
class Order:
    """An order message's lines and total: the one computation the list preview and the bubble share."""

    items: list[dict]  # {"sku", "quantity", "price": Decimal | None, "currency"}
    count: int
    total: Decimal | None  # None when a price is unreadable or the lines mix currencies
    currency: str
    note: str


def read_order(obj: dict) -> Order:
    """A line without a quantity counts once (it was ordered; Meta always sends one anyway)."""
    items, readable = [], True
    for item in as_list(obj.get("product_items")):
        if isinstance(item, dict):
            price = _decimal(item.get("item_price"))
            readable = readable and price is not None
            quantity = integer(item.get("quantity")) if text(item.get("quantity")) else 1
            items.append({"sku": text(item.get("product_retailer_id")), "quantity": quantity, "price": price,
                          "currency": text(item.get("currency"))})
    currencies = {item["currency"] for item in items if item["currency"]}
    total = None
    if readable and len(currencies) <= 1:
        try:
            total = sum((item["price"] * item["quantity"] for item in items), Decimal(0)).quantize(Decimal("0.01"))
        except InvalidOperation:  # too many digits to show to the cent
            total = None
    return Order(items, sum(item["quantity"] for item in items), total, next(iter(currencies), ""), text(obj.get("text")))


def _decimal(value) -> Decimal | None:
    try:
        amount = Decimal(text(value) or 0)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def money(amount: Decimal, currency: str) -> str:
    symbol = "₹" if currency == "INR" else (f"{currency} " if currency else "")
    try:
        amount = amount.quantize(Decimal("0.01"))
    except InvalidOperation:
        pass
    return f"{symbol}{amount:,}"


def order_text(obj: dict) -> str:
    order = read_order(obj)
    amount = f", {money(order.total, order.currency)}" if order.total is not None else ""
    note = f" — {order.note}" if order.note else ""
    return f"🛒 Order: {order.count} item{'s' if order.count != 1 else ''}{amount}{note}"


def error_text(error) -> str:
    if not isinstance(error, dict):
        return text(error) or "Unknown error"
    details = text(as_dict(error.get("error_data")).get("details"))
    return details or text(error.get("message")) or text(error.get("title")) or text(error.get("code")) or "Unknown error"


# ---------------------------------------------------------------- what a bubble shows (inbox.display)


def display(kind: str, content: dict, body: str, *, inbound: bool) -> dict:
    """What a bubble shows for a WhatsApp message object (one we received or one we sent): a `kind`
    (text, media, location, contacts, tap, form, order, system, reaction, unsupported) and its fields.
    Computed at ingest for received messages and stored (Message.display)."""
    kind = kind or "text"
    shown = {"kind": "text", "text": body, **_context_tags(content)}
    obj = as_dict(content.get(kind))
    if kind in MEDIA_TYPES:
        shown.update(kind="media", text=body or text(obj.get("caption")), voice=bool(obj.get("voice")))
    elif kind == "location" or isinstance(content.get("location"), dict):
        shown.update(location_display(as_dict(content.get("location"))))
    elif kind == "contacts":
        shown.update(kind="contacts", cards=_contact_cards(content.get("contacts")))
    elif kind == "button":
        shown.update(kind="tap", text=text(obj.get("text")) or body, detail="Tapped a template button")
    elif kind == "interactive" and inbound:
        shown.update(_interactive_display(obj, body))
    elif kind == "order":
        shown.update(_order_display(obj))
    elif kind == "system":
        shown.update(kind="system", text=text(obj.get("body")) or body or "System message")
    elif kind == "reaction":
        shown.update(kind="reaction", text=text(obj.get("emoji")))
    elif kind == "template":
        shown.update(kind="text", template=text(obj.get("name")) or "template")
    elif kind == "interactive":  # one we sent: show its buttons / list
        action = as_dict(obj.get("action"))
        buttons = [text(as_dict(as_dict(b).get("reply")).get("title")) for b in as_list(action.get("buttons"))]
        rows = [text(as_dict(r).get("title")) for s in as_list(action.get("sections")) for r in as_list(as_dict(s).get("rows"))]
        shown.update(text=body or text(as_dict(obj.get("body")).get("text")), choices=[c for c in buttons + rows if c])
    elif kind != "text":
        errors = as_list(content.get("errors"))
        reason = text(as_dict(errors[0]).get("title")) if errors else ""
        shown.update(kind="unsupported", label=text(as_dict(content.get("unsupported")).get("type")) or kind, reason=reason)
    return shown


def _context_tags(content: dict) -> dict:
    """Forwarded, asked about a product, came from an ad: the tags above a bubble."""
    tags = {}
    context = as_dict(content.get("context"))
    if context.get("forwarded") or context.get("frequently_forwarded"):
        tags["forwarded"] = "Forwarded many times" if context.get("frequently_forwarded") else "Forwarded"
    if isinstance(context.get("referred_product"), dict):
        tags["product"] = text(context["referred_product"].get("product_retailer_id")) or "a product"
    referral = content.get("referral")
    if isinstance(referral, dict):
        tags["referral"] = {
            "headline": text(referral.get("headline")) or "an ad",
            "body": text(referral.get("body")),
            "url": http_url(referral.get("source_url")),  # provider-supplied: http(s) only
            "type": text(referral.get("source_type")) or "ad",
        }
    return tags


def location_display(location: dict) -> dict:
    lat, lng = location.get("latitude"), location.get("longitude")
    return {
        "kind": "location",
        "name": text(location.get("name")),
        "address": text(location.get("address")),
        "coordinates": f"{text(lat)}, {text(lng)}" if lat is not None else "",
        "map_url": f"https://www.google.com/maps/search/?api=1&query={quote(f'{text(lat)},{text(lng)}')}"
        if lat is not None and lng is not None else "",
    }


def _contact_cards(items) -> list[dict]:
    cards = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        name, org = as_dict(item.get("name")), as_dict(item.get("org"))
        full_name = " ".join(filter(None, [text(name.get("first_name")), text(name.get("last_name"))]))
        cards.append({
            "name": text(name.get("formatted_name")) or full_name or "Contact",
            "org": ", ".join(filter(None, [text(org.get("title")), text(org.get("company"))])),
            "phones": [text(p.get("phone")) or text(p.get("wa_id")) for p in as_list(item.get("phones")) if isinstance(p, dict)],
            "emails": [text(e.get("email")) for e in as_list(item.get("emails")) if isinstance(e, dict) and text(e.get("email"))],
            "urls": [text(u.get("url")) for u in as_list(item.get("urls")) if isinstance(u, dict) and text(u.get("url"))],
        })
    return cards


def _interactive_display(interactive: dict, body: str) -> dict:
    sub = text(interactive.get("type"))
    reply = as_dict(interactive.get(sub))
    if sub == "button_reply":
        return {"kind": "tap", "text": text(reply.get("title")) or body, "detail": "Tapped a button"}
    if sub == "list_reply":
        return {"kind": "tap", "text": text(reply.get("title")) or body, "detail": text(reply.get("description")) or "Chose from a list"}
    if sub == "nfm_reply":
        answers = _form_answers(reply.get("response_json"))
        return {"kind": "form", "text": text(reply.get("body")) or "Form submitted", "answers": answers}
    if sub == "call_permission_reply":
        accepted = reply.get("response") == "accept"
        # Shown in the agent's time zone, so the bubble formats `until` when it renders.
        until = integer(reply.get("expiration_timestamp")) if accepted else 0
        return {"kind": "tap", "text": "Allowed WhatsApp calls" if accepted else "Declined WhatsApp calls",
                "detail": "Call permission", "until": until or None}
    return {"kind": "tap", "text": body or "Interacted with a message", "detail": sub or "interactive"}


def _form_answers(raw) -> list[list[str]]:
    if not isinstance(raw, str):
        data = raw or {}
    else:
        try:
            data = loads_json(raw)
        except NotJSON:
            return [["Answer", raw]]
    if not isinstance(data, dict):
        return [["Answer", str(data)]]
    return [[key.replace("_", " ").capitalize(), str(value)] for key, value in data.items() if key != "flow_token"]


def _order_display(obj: dict) -> dict:
    order = read_order(obj)
    items = [{"sku": item["sku"], "quantity": item["quantity"],
              "price": money(item["price"], item["currency"] or order.currency) if item["price"] is not None else ""} for item in order.items]
    total = money(order.total, order.currency) if order.total is not None else ""
    return {"kind": "order", "items": items, "total": total, "text": order.note}
