"""Tata omni WhatsApp API client (https://wb.omni.tatatelebusiness.com).

HTTP and Tata's JSON only: no database access, no Django models. Every request has a timeout.
Functions take `authorization`, the whole Authorization header value (`authorization()` builds it from
the token in the channel's chosen form; `Channel.authorization` is that value for a channel).
Failures raise TataError; `retryable` tells a task whether trying again later can help
(timeouts, connection errors, 429 and 5xx) or not (400, 401, 404, 424 — the request itself is wrong).
"""

import hashlib
import hmac
import threading
from urllib.parse import urlsplit

import requests

from core import safe_http

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
