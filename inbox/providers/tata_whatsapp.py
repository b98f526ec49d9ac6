"""Tata omni WhatsApp API client (https://wb.omni.tatatelebusiness.com).

HTTP and Tata's JSON only: no database access, no Django models. Every request has a timeout.
Failures raise TataError; `retryable` tells a task whether trying again later can help
(timeouts, connection errors, 429 and 5xx) or not (400, 401, 404, 424 — the request itself is wrong).
"""

import requests

DEFAULT_TIMEOUT = (5, 20)  # (connect, read) seconds
MEDIA_TIMEOUT = (5, 60)  # media files can be up to 100 MB
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


class TataError(Exception):
    """A failed Tata call. `message` is the provider's human text when it gave one."""

    def __init__(self, message: str, *, retryable: bool, status_code: int | None = None, code: str = ""):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status_code = status_code
        self.code = code


def auth_header(access_token: str) -> str:
    """Tata's portal hands out a JWT; it travels as a bearer token (a value already prefixed is kept)."""
    token = (access_token or "").strip()
    return token if token.lower().startswith("bearer ") else f"Bearer {token}"


def error_from_response(response: requests.Response) -> TataError:
    """Tata answers errors as {error, message, meta: {message, code}} or {status, error_code, description}."""
    try:
        data = response.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    parts = [p for p in (data.get("message") or data.get("description"), meta.get("message")) if p]
    message = " — ".join(str(p) for p in parts) or f"HTTP {response.status_code} from Tata"
    code = str(data.get("error_code") or data.get("error") or meta.get("code") or response.status_code)
    return TataError(
        message,
        retryable=response.status_code in RETRYABLE_STATUS or response.status_code >= 500,
        status_code=response.status_code,
        code=code,
    )


def _request(method: str, url: str, *, timeout=DEFAULT_TIMEOUT, **kwargs) -> requests.Response:
    try:
        response = requests.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout as exc:
        raise TataError(f"Tata did not answer in time ({exc.__class__.__name__})", retryable=True) from exc
    except requests.RequestException as exc:
        raise TataError(f"Could not reach Tata: {exc.__class__.__name__}", retryable=True) from exc
    if response.status_code >= 400:
        raise error_from_response(response)
    return response


# ---------------------------------------------------------------- media download (inbound media)


def get_media_url(base_url: str, access_token: str, media_id: str) -> dict:
    """GET /whatsapp-cloud/media/download/{mediaId} → {"url": <short-lived link>, "mime_type": ...}."""
    response = _request(
        "GET",
        f"{base_url.rstrip('/')}/whatsapp-cloud/media/download/{requests.utils.quote(str(media_id), safe='')}",
        headers={"Authorization": auth_header(access_token), "Accept": "application/json"},
    )
    try:
        data = response.json()
    except ValueError as exc:
        raise TataError("Tata's media download answer was not JSON", retryable=True) from exc
    if not isinstance(data, dict) or not data.get("url"):
        raise TataError("Tata's media download answer has no url", retryable=False, status_code=response.status_code)
    return data


def download_media(url: str, *, base_url: str, access_token: str, max_bytes: int) -> tuple[bytes, str]:
    """Fetch the file behind a media link → (content, content_type).

    The link Tata returns is a pre-signed S3 URL: it must be fetched *without* our Authorization header
    (S3 refuses a request carrying two kinds of auth). A link on Tata's own host gets the header.
    """
    headers = {}
    if _same_host(url, base_url):
        headers["Authorization"] = auth_header(access_token)
    response = _request("GET", url, timeout=MEDIA_TIMEOUT, headers=headers, stream=True)
    chunks, total = [], 0
    try:
        for chunk in response.iter_content(chunk_size=64 * 1024):
            total += len(chunk)
            if total > max_bytes:
                raise TataError(f"The file is larger than {max_bytes // (1024 * 1024)} MB", retryable=False)
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise TataError(f"The download broke off: {exc.__class__.__name__}", retryable=True) from exc
    finally:
        response.close()
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    return b"".join(chunks), content_type


def _same_host(url: str, base_url: str) -> bool:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc == urlsplit(base_url).netloc
