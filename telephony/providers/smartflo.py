"""Tata Smartflo API client (https://api-smartflo.tatateleservices.com) and its webhook shapes.

The only module that knows Smartflo's JSON, both ways: requests we make (auth, numbers, users, call
records) and what Smartflo sends us (Status URL hangup webhooks, call record rows), read into
`CallEvent`s. No database access, no Django models.

Auth: the portal's API token as a bearer (pasted with or without "Bearer "; a masked token copied
from the portal's table is refused before any request), or `POST /v1/auth/login` with the panel's
email and password — that token is cached by the caller (`on_token`), refreshed before it expires
and once on a 401. Requests of one account are serialised (in this process), and a 429 is honoured:
wait `Retry-After` (or back off) and try again, a few times, before giving up with RateLimited.

Failures raise SmartfloError subclasses; `retryable` says whether trying later can help.

Long because: one module per vendor API is the house rule, and this one alone knows all of Smartflo's
JSON (auth, numbers, users, click-to-call and call controls, call records, live calls, the Status URL
webhook). Splitting it by endpoint would spread that knowledge over several files again.
"""

import datetime
import functools
import json
import re
import threading
import time
import zoneinfo
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import parse_qsl

import requests

from core import phones

DEFAULT_BASE_URL = "https://api-smartflo.tatateleservices.com"
DEFAULT_TIMEOUT = (5, 30)
IST = zoneinfo.ZoneInfo("Asia/Kolkata")
RECORDS_PAGE_LIMIT = 200  # Smartflo's maximum page size for /v1/call/records
RATE_LIMIT_RETRIES = 3
MAX_RETRY_AFTER = 30.0
TOKEN_REFRESH_MARGIN = datetime.timedelta(minutes=5)
MASK_CHARACTERS = ("*", "•", "…", "xxxx", "XXXX")


# ================================================================ errors


class SmartfloError(Exception):
    """A failed Smartflo call; `message` is for a person."""

    retryable = False

    def __init__(self, message: str, *, status_code: int | None = None, code: str = "", retryable: bool | None = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        if retryable is not None:
            self.retryable = retryable


class MaskedToken(SmartfloError):
    """The pasted token is the masked copy from the portal's table (contains ****)."""


class AuthFailed(SmartfloError):
    """401: the token is wrong or expired, or the email/password do not log in."""


class NoPermission(SmartfloError):
    """403: the token works but may not use this API."""


class NotFound(SmartfloError):
    pass


class BadRequest(SmartfloError):
    """400/422: the request itself is wrong; trying again will not help."""


class RateLimited(SmartfloError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class CallRefused(BadRequest):
    """Smartflo would not place or act on a call (`success: false`, or a 4xx naming why)."""


class AgentBusy(CallRefused):
    pass


class InvalidNumber(CallRefused):
    pass


class NoBalance(CallRefused):
    pass


# Words in Smartflo's refusals → the error class a person is told about (first match wins).
REFUSALS = (
    (("busy", "on another call", "on call"), AgentBusy),
    (("balance", "credit", "recharge", "insufficient", "low fund"), NoBalance),
    (("invalid", "not valid", "incorrect", "wrong number", "destination", "not a valid"), InvalidNumber),
)


def call_refusal(message: str, status_code: int | None = None) -> CallRefused:
    text = (message or "").lower()
    for words, error in REFUSALS:
        if any(word in text for word in words):
            return error(message, status_code=status_code)
    return CallRefused(message or "Smartflo refused the call.", status_code=status_code)


class ServerError(SmartfloError):
    retryable = True


class Unreachable(SmartfloError):
    """Timeout or connection error."""

    retryable = True


class BadResponse(SmartfloError):
    """Smartflo answered 2xx with something that is not the JSON we expect."""

    retryable = True


def _error_text(data) -> str:
    if isinstance(data, dict):
        for key in ("message", "error", "detail", "description", "msg"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return value["message"]
    return ""


def error_from_response(response: requests.Response) -> SmartfloError:
    try:
        data = response.json()
    except ValueError:
        data = {}
    text = _error_text(data)
    status = response.status_code
    code = str(data.get("code") or data.get("error_code") or status) if isinstance(data, dict) else str(status)
    if status == 401:
        return AuthFailed(text or "Smartflo refused the token (401): it is wrong or has expired.", status_code=status, code=code)
    if status == 403:
        return NoPermission(text or "The token may not use this Smartflo API (403).", status_code=status, code=code)
    if status == 404:
        return NotFound(text or "Smartflo has no such resource (404).", status_code=status, code=code)
    if status == 429:
        return RateLimited(
            text or "Smartflo's rate limit was hit (429).", status_code=status, code=code, retry_after=_retry_after(response)
        )
    if status >= 500 or status in (408, 425):
        return ServerError(text or f"Smartflo failed (HTTP {status}).", status_code=status, code=code)
    return BadRequest(text or f"Smartflo refused the request (HTTP {status}).", status_code=status, code=code)


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, min(float(response.headers.get("Retry-After", "")), MAX_RETRY_AFTER))
    except ValueError:
        return None


# ================================================================ tokens


def clean_token(pasted: str) -> str:
    """The token as pasted: with or without "Bearer ", surrounding blanks dropped. A masked copy raises."""
    token = (pasted or "").strip().strip('"').strip()
    for prefix in ("bearer ", "bearer="):
        if token.lower().startswith(prefix):
            token = token[len(prefix) :].strip()
    if any(mark in token for mark in MASK_CHARACTERS):
        raise MaskedToken(
            "This is the masked token from the portal's token list (it contains ****), which never works. "
            "Generate a token in Settings › API Connect › API Tokens and copy it right away."
        )
    if not token:
        raise AuthFailed("Paste the Authorization Token.")
    return token


def looks_masked(pasted: str) -> bool:
    return any(mark in (pasted or "") for mark in MASK_CHARACTERS)


# ================================================================ the client


_account_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _account_lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _account_locks.setdefault(key, threading.Lock())


_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


@dataclass
class LoginToken:
    access_token: str
    expires_at: datetime.datetime


class SmartfloClient:
    """One Smartflo account. `token`: the portal's API token; or `email`/`password` for the login API
    (`cached` is a LoginToken from an earlier login; `on_token` is told of every new one)."""

    def __init__(
        self,
        *,
        base_url: str = "",
        token: str = "",
        email: str = "",
        password: str = "",
        cached: LoginToken | None = None,
        on_token: Callable[[LoginToken], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        account_key: str = "",
    ):
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.token = clean_token(token) if token else ""
        self.email, self.password = email, password
        self.cached, self.on_token, self.sleep = cached, on_token, sleep
        if not self.token and not (email and password):
            raise AuthFailed("No Authorization Token and no panel email and password: nothing to sign in with.")
        self.lock = _account_lock(account_key or self.base_url + "|" + (email or self.token[-12:]))

    # ---------------------------------------------------------------- auth

    def login(self) -> LoginToken:
        """POST /v1/auth/login {email, password} → {access_token, expires_in}."""
        response = self._send("POST", "/v1/auth/login", json={"email": self.email, "password": self.password}, auth=False)
        data = _json(response)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token:
            raise BadResponse("Smartflo's login answer has no access_token.", status_code=response.status_code)
        try:
            lifetime = int(data.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600
        self.cached = LoginToken(str(token), _now() + datetime.timedelta(seconds=lifetime))
        if self.on_token:
            self.on_token(self.cached)
        return self.cached

    def _bearer(self, *, renew: bool = False) -> str:
        if self.token:
            return self.token
        if renew or self.cached is None or self.cached.expires_at - TOKEN_REFRESH_MARGIN <= _now():
            self.login()
        return self.cached.access_token

    # ---------------------------------------------------------------- API calls

    def my_numbers(self) -> list[dict]:
        """GET /v1/my_number → the account's DIDs: [{"id", "number" (E.164 where it parses), "name", "raw"}]."""
        rows = _rows(_json(self.request("GET", "/v1/my_number")))
        numbers = []
        for row in rows:
            if not isinstance(row, dict):
                continue
            raw = str(row.get("did") or row.get("number") or row.get("did_number") or row.get("alias") or "")
            numbers.append({
                "id": str(row.get("id") or ""),
                "number": phones.try_e164(raw) or raw,
                "name": str(row.get("name") or row.get("alias") or ""),
                "raw": row,
            })
        return numbers

    def users(self) -> list[dict]:
        """GET /v1/users → agents as Smartflo lists them (kept as given)."""
        return [row for row in _rows(_json(self.request("GET", "/v1/users"))) if isinstance(row, dict)]

    def agents(self) -> list["AgentUser"]:
        """GET /v1/users, read: each agent's id (for call operations), name, email, mobile, extension."""
        return [agent_user(row) for row in self.users()]

    def call_records(self, from_date: datetime.datetime, to_date: datetime.datetime, *, page: int = 1,
                     limit: int = RECORDS_PAGE_LIMIT, **filters) -> tuple[int | None, list[dict]]:
        """GET /v1/call/records: one page of CDRs → (Smartflo's total count or None, rows as given).
        Dates are sent in IST as `YYYY-MM-DD HH:MM:SS`; `limit` is capped at 200."""
        params = {
            "from_date": ist_text(from_date),
            "to_date": ist_text(to_date),
            "page": page,
            "limit": max(1, min(int(limit), RECORDS_PAGE_LIMIT)),
            **{key: value for key, value in filters.items() if value not in (None, "")},
        }
        data = _json(self.request("GET", "/v1/call/records", params=params))
        if not isinstance(data, dict):
            raise BadResponse("Smartflo's call records answer is not an object.")
        rows = data.get("results")
        if rows is None:
            rows = data.get("data")
        if not isinstance(rows, list):
            raise BadResponse("Smartflo's call records answer has no results list.")
        try:
            count = int(data["count"]) if data.get("count") is not None else None
        except (TypeError, ValueError):
            count = None
        return count, [row for row in rows if isinstance(row, dict)]

    # ---------------------------------------------------------------- calls (part 2)

    def click_to_call(self, *, agent_number: str, destination_number: str, caller_id: str = "",
                      custom_identifier: str = "", call_timeout: int | None = None) -> dict:
        """POST /v1/click_to_call (agent first: the agent's phone rings, then the customer's) →
        {"ref_id", "raw"}. Numbers go as Smartflo wants them: digits with the country code."""
        body = {"agent_number": _digits(agent_number), "destination_number": _digits(destination_number), "async": 1}
        if caller_id:
            body["caller_id"] = _digits(caller_id)
        if call_timeout:
            body["call_timeout"] = int(call_timeout)
        if custom_identifier:
            body["custom_identifier"] = custom_identifier
        data = self._call_answer("POST", "/v1/click_to_call", json=body)
        return {"ref_id": str(data.get("ref_id") or ""), "raw": data}

    def click_to_call_support(self, *, api_key: str, customer_number: str, caller_id: str = "",
                              custom_identifier: str = "", customer_ring_timeout: int | None = None) -> dict:
        """POST /v1/click_to_call_support (customer first, with the Click to Call Support API key) →
        {"ref_id", "raw"}. The key is bound to its DIDs and destination in the portal."""
        body = {"customer_number": _digits(customer_number), "api_key": api_key, "async": 1}
        if caller_id:
            body["caller_id"] = _digits(caller_id)
        if customer_ring_timeout:
            body["customer_ring_timeout"] = max(10, min(int(customer_ring_timeout), 30))
        if custom_identifier:
            body["custom_identifier"] = custom_identifier
        data = self._call_answer("POST", "/v1/click_to_call_support", json=body, auth=False)
        return {"ref_id": str(data.get("ref_id") or ""), "raw": data}

    def live_calls(self, agent_number: str = "") -> list["LiveCall"]:
        """GET /v1/live_calls (optionally one agent's) → the calls on the account right now."""
        params = {"agent_number": agent_number} if agent_number else None
        return [live_call(row) for row in _rows(_json(self.request("GET", "/v1/live_calls", params=params))) if isinstance(row, dict)]

    def hangup(self, call_id: str) -> dict:
        """POST /v1/call/hangup {call_id} (the live call_id, not a click-to-call ref_id)."""
        return self._call_answer("POST", "/v1/call/hangup", json={"call_id": call_id})

    def monitor(self, call_id: str, agent_id: str) -> dict:
        """Listen in, unheard (type 1), as `agent_id` (the supervisor's own Smartflo agent id)."""
        return self.call_operation(OPERATION_MONITOR, call_id, agent_id=agent_id)

    def whisper(self, call_id: str, agent_id: str) -> dict:
        """Speak to the agent only (type 2)."""
        return self.call_operation(OPERATION_WHISPER, call_id, agent_id=agent_id)

    def barge(self, call_id: str, agent_id: str) -> dict:
        """Join the call, heard by both (type 3)."""
        return self.call_operation(OPERATION_BARGE, call_id, agent_id=agent_id)

    def transfer(self, call_id: str, intercom: str) -> dict:
        """Transfer (type 4) to an agent's 10-digit mobile, an extension or a department intercom."""
        return self.call_operation(OPERATION_TRANSFER, call_id, intercom=intercom)

    def call_operation(self, operation: str, call_id: str, *, agent_id: str = "", intercom: str = "") -> dict:
        """POST /v1/call/options with the reference's bodies: {"type": "1".."4", "call_id", "agent_id"
        (monitor, whisper, barge) | "intercom" (transfer)}."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown call operation {operation!r}")
        body = {"type": operation, "call_id": call_id}
        if operation == OPERATION_TRANSFER:
            if not intercom:
                raise BadRequest("Say where to transfer the call.")
            body["intercom"] = intercom
        else:
            if not agent_id:
                raise BadRequest("A Smartflo agent id is needed to monitor, whisper or barge.")
            body["agent_id"] = agent_id
        return self._call_answer("POST", "/v1/call/options", json=body)

    def _call_answer(self, method: str, path: str, *, auth: bool = True, **kwargs) -> dict:
        """A request of the calls APIs. Smartflo refuses in a 200 with `success: false` or in a 4xx
        with a message: either raises the CallRefused subclass its words name (busy, balance, number)."""
        try:
            response = self.request(method, path, **kwargs) if auth else self._send(method, path, auth=False, **kwargs)
        except BadRequest as exc:
            raise call_refusal(exc.message, exc.status_code) from exc
        data = _json(response)
        if not isinstance(data, dict):
            raise BadResponse("Smartflo's answer is not an object.", status_code=response.status_code)
        success = data.get("success", data.get("status", True))
        if success is False or str(success).lower() in ("false", "0", "error", "failed"):
            raise call_refusal(_error_text(data), response.status_code)
        return data

    # ---------------------------------------------------------------- plumbing

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """An authenticated request; a login token is renewed once on 401."""
        try:
            return self._send(method, path, bearer=self._bearer(), **kwargs)
        except AuthFailed:
            if self.token:
                raise
            return self._send(method, path, bearer=self._bearer(renew=True), **kwargs)

    def _send(self, method: str, path: str, *, bearer: str = "", auth: bool = True, **kwargs) -> requests.Response:
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        if auth:
            headers["Authorization"] = f"Bearer {bearer}"
        attempt = 0
        while True:
            with self.lock:  # one request at a time per account: Smartflo's burst limit is per account
                response = self._once(method, self.base_url + path, headers=headers, **kwargs)
            if response.status_code < 400:
                return response
            error = error_from_response(response)
            if isinstance(error, RateLimited) and attempt < RATE_LIMIT_RETRIES:
                attempt += 1
                self.sleep(error.retry_after if error.retry_after is not None else min(2.0**attempt, MAX_RETRY_AFTER))
                continue
            raise error

    @staticmethod
    def _once(method: str, url: str, **kwargs) -> requests.Response:
        try:
            return _session().request(method, url, timeout=DEFAULT_TIMEOUT, **kwargs)
        except requests.Timeout as exc:
            raise Unreachable(f"Smartflo did not answer in time ({exc.__class__.__name__}).") from exc
        except requests.RequestException as exc:
            raise Unreachable(f"Could not reach Smartflo ({exc.__class__.__name__}).") from exc


OPERATION_MONITOR, OPERATION_WHISPER, OPERATION_BARGE, OPERATION_TRANSFER = "1", "2", "3", "4"
OPERATIONS = {OPERATION_MONITOR: "Monitor", OPERATION_WHISPER: "Whisper", OPERATION_BARGE: "Barge", OPERATION_TRANSFER: "Transfer"}


def _digits(number: str) -> str:
    return "".join(c for c in (number or "") if c.isdigit())


def _json(response: requests.Response):
    try:
        return response.json()
    except ValueError as exc:
        raise BadResponse("Smartflo's answer is not JSON.", status_code=response.status_code) from exc


def _rows(data) -> list:
    """Lists come bare, or as {data: [...]}, {results: [...]} or {data: {data: [...]}}."""
    for _ in range(3):
        if isinstance(data, list):
            return data
        if not isinstance(data, dict):
            return []
        data = data.get("results", data.get("data", data.get("users", data.get("numbers"))))
    return data if isinstance(data, list) else []


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def ist_text(moment: datetime.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(IST).strftime("%Y-%m-%d %H:%M:%S")


# ================================================================ what Smartflo sends: webhooks and CDR rows


MAX_DEPTH = 8


def webhook_variables(body: bytes, content_type: str = "", query: str = "") -> dict[str, str]:
    """A Status URL delivery → its variables, flat, names without a leading `$`, values as text.

    GET query strings, POST forms and POST JSON are all read; fields may sit at the top level or inside
    a `data` / `event` envelope (the envelope's fields win over the top level's). Raises ValueError for
    a body that claims to be JSON and is not (or is not an object).
    """
    variables: dict[str, str] = {}
    if query:
        variables.update(_flat_pairs(parse_qsl(query, keep_blank_values=True)))
    text = body.decode("utf-8", errors="replace") if body else ""
    stripped = text.strip()
    if "json" in (content_type or "").lower() or stripped.startswith("{"):
        if stripped:
            try:
                payload = json.loads(stripped)
            except (ValueError, RecursionError) as exc:
                raise ValueError(f"The body is not JSON: {exc.__class__.__name__}") from exc
            if not isinstance(payload, dict):
                raise ValueError(f"The body is JSON but not an object ({type(payload).__name__}).")
            variables.update(_flatten(payload))
    elif stripped:
        variables.update(_flat_pairs(parse_qsl(stripped, keep_blank_values=True)))
    return variables


def _name(key) -> str:
    if type(key) is str and len(key) <= 64:
        return _short_name(key)
    return str(key).strip().lstrip("$").strip().lower()


@functools.lru_cache(maxsize=4096)
def _short_name(key: str) -> str:
    # Every delivery and call record repeats the same few dozen names: normalised once per process.
    return key.strip().lstrip("$").strip().lower()


def _text(value) -> str:
    if type(value) is str and len(value) <= 2000 and value.isascii():
        return value  # the common case, already storable as it is
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)[:2000]
    # Lone surrogates (valid JSON escapes, invalid text) would break the database's text columns.
    return str(value).encode("utf-8", errors="replace").decode("utf-8")[:2000]


def _flat_pairs(pairs) -> dict[str, str]:
    return {_name(k): _text(v) for k, v in pairs if _name(k)}


def _flatten(payload: dict) -> dict[str, str]:
    flat = {_name(k): _text(v) for k, v in payload.items() if not isinstance(v, dict) and _name(k)}
    for envelope in ("data", "event", "payload", "call"):
        inner = next((v for k, v in payload.items() if _name(k) == envelope and isinstance(v, dict)), None)
        if inner is not None:
            for key, value in _flatten_depth(inner, 1).items():
                flat[key] = value
    return flat


def _flatten_depth(payload: dict, depth: int) -> dict[str, str]:
    if depth > MAX_DEPTH:
        return {}
    flat = {_name(k): _text(v) for k, v in payload.items() if not isinstance(v, dict) and _name(k)}
    for key, value in payload.items():
        if isinstance(value, dict) and _name(key) in ("data", "event", "payload", "call"):
            flat.update(_flatten_depth(value, depth + 1))
    return flat


@dataclass
class CallEvent:
    """What a hangup webhook or a call record says about one call, in our terms. Empty = not said."""

    call_id: str = ""
    uuid: str = ""
    ref_id: str = ""
    custom_identifier: str = ""
    direction: str = ""  # inbound / outbound
    status: str = ""  # answered / missed / no_answer / busy / failed / ringing / in_progress
    customer_number: str = ""  # E.164 when it parses, else as given
    did_number: str = ""
    agent_number: str = ""
    agent_name: str = ""
    started_at: datetime.datetime | None = None
    answered_at: datetime.datetime | None = None
    ended_at: datetime.datetime | None = None
    duration: int | None = None
    talk_time: int | None = None
    hangup_cause: str = ""
    hangup_cause_code: int | None = None
    hangup_description: str = ""
    recording_url: str = ""
    raw: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.call_id or self.uuid


def _first(values: dict, *names: str) -> str:
    for name in names:
        value = values.get(name)
        if value not in (None, "") and str(value).strip().lower() not in ("null", "none", "undefined"):
            return str(value).strip()
    return ""


def _int(value: str) -> int | None:
    if not value:
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        if ":" in value:  # "00:01:05"
            try:
                parts = [int(p) for p in value.split(":")]
            except ValueError:
                return None
            number = 0
            for part in parts:
                number = number * 60 + part
            return number
        return None
    return number if 0 <= number < 10**7 else None


def parse_time(value: str, date: str = "") -> datetime.datetime | None:
    """Smartflo times: `YYYY-MM-DD HH:MM:SS` in IST, ISO with an offset, Unix seconds or ms, or a
    separate date and time (call records)."""
    value = (value or "").strip()
    if date and value and len(value) <= 8 and ":" in value:
        value = f"{date.strip()} {value}"
    if not value:
        return None
    if value.isdigit():
        seconds = int(value)
        if seconds > 10**11:
            seconds //= 1000
        if seconds < 10**8:
            return None
        return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    for candidate in (value.replace("Z", "+00:00"), value.replace("/", "-")):
        try:
            moment = datetime.datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=IST)
    for fmt in ("%d-%m-%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.datetime.strptime(value, fmt).replace(tzinfo=IST)
        except ValueError:
            continue
    return None


DIRECTIONS = {
    "inbound": "inbound", "incoming": "inbound", "in": "inbound", "1": "inbound",
    "outbound": "outbound", "outgoing": "outbound", "out": "outbound", "clicktocall": "outbound",
    "click_to_call": "outbound", "click to call": "outbound", "c2c": "outbound", "2": "outbound", "dialer": "outbound",
}
STATUS_WORDS = {
    "answered": "answered", "answer": "answered", "completed": "answered", "connected": "answered", "success": "answered",
    "missed": "missed", "noanswer": "no_answer", "no_answer": "no_answer", "no answer": "no_answer",
    "not answered": "no_answer", "unanswered": "no_answer", "cancel": "missed", "cancelled": "missed",
    "busy": "busy", "user_busy": "busy", "failed": "failed", "failure": "failed", "congestion": "failed",
    "chanunavail": "failed", "rejected": "busy", "ringing": "ringing", "in_progress": "in_progress",
    "in progress": "in_progress", "live": "in_progress",
}


def _outcome(status_text: str, direction: str, talk_time: int | None, cause_code: int | None) -> str:
    word = STATUS_WORDS.get(status_text.strip().lower(), "")
    if talk_time:
        return "answered"
    if word in ("no_answer", "missed"):
        return "missed" if direction == "inbound" else "no_answer"
    if word:
        return word
    if not status_text and cause_code is None:
        return ""
    if cause_code == 17 or cause_code == 21:
        return "busy"
    if cause_code in (16, 18, 19, 31, None):
        return "missed" if direction == "inbound" else "no_answer"
    return "failed"


_INDIAN_MOBILE = re.compile(r"^(?:\+?91|0)?([6-9]\d{9})$")


def _phone(raw: str) -> str:
    """E.164 where it parses, else as given."""
    if not raw:
        return ""
    return e164(raw) or raw[:16]


def e164(raw: str) -> str | None:
    """`phones.try_e164`, except that Indian mobile numbers (most of a call log: `91` + ten digits
    starting 6–9, in any of its usual forms) skip the full parse, which dominated a backfill's cost."""
    mobile = _INDIAN_MOBILE.match(raw)
    if mobile:
        return "+91" + mobile.group(1)
    return phones.try_e164(raw)


def call_event(values: dict) -> CallEvent:
    """Webhook variables (see webhook_variables) or a call-record row → CallEvent."""
    from telephony import q850  # the cause names table; pure data

    values = {_name(k): _text(v) for k, v in values.items() if not isinstance(v, dict)}
    raw_direction = _first(values, "direction", "call_direction", "call_type")
    direction = DIRECTIONS.get(raw_direction.lower(), "")
    if not direction and _first(values, "custom_identifier", "ref_id"):
        direction = "outbound"
    if direction == "outbound":
        customer = _first(values, "customer_number", "customer_no_with_prefix", "call_to_number", "destination_number",
                          "destination", "client_number", "customer_no")
        did = _first(values, "did_number", "caller_id", "caller_id_number", "did")
    else:
        customer = _first(values, "customer_number", "customer_no_with_prefix", "caller_id_number", "client_number",
                          "source", "caller_number", "from", "customer_no")
        did = _first(values, "did_number", "call_to_number", "did", "destination", "to")
    cause = _first(values, "hangup_cause", "hangup_reason")
    code = _int(_first(values, "hangup_cause_code", "hangup_code", "q850_cause"))
    if code is None and cause:
        code = q850.code_for(cause)
    talk_time = _int(_first(values, "billsec", "answered_seconds", "talk_time", "answer_duration", "answered_duration"))
    date = _first(values, "date", "call_date")
    started = parse_time(_first(values, "start_stamp", "start_time", "call_start_time", "time"), date)
    answered = parse_time(_first(values, "answer_stamp", "answer_time", "answered_at"), date)
    ended = parse_time(_first(values, "end_stamp", "end_time", "call_end_time"), date)
    duration = _int(_first(values, "duration", "call_duration", "total_duration"))
    if duration is None and started and ended:
        duration = max(0, int((ended - started).total_seconds()))
    return CallEvent(
        call_id=_first(values, "call_id", "callid"),
        uuid=_first(values, "uuid", "call_uuid"),
        ref_id=_first(values, "ref_id"),
        custom_identifier=_first(values, "custom_identifier"),
        direction=direction,
        status=_outcome(_first(values, "call_status", "status", "call_state"), direction or "inbound", talk_time, code),
        customer_number=_phone(customer),
        did_number=_phone(did),
        agent_number=_first(values, "answered_agent_number", "agent_number", "answered_agent", "agent_id")[:32],
        agent_name=_first(values, "answered_agent_name", "agent_name")[:100],
        started_at=started,
        answered_at=answered,
        ended_at=ended,
        duration=duration,
        talk_time=talk_time,
        hangup_cause=cause[:64],
        hangup_cause_code=code if code is not None and 0 < code < 1000 else None,
        hangup_description=_first(values, "hangup_cause_description", "description", "reason")[:200],
        recording_url=_recording_url(_first(values, "recording_url", "recording", "recording_link")),
        raw=values,
    )


def _recording_url(value: str) -> str:
    return value if value.lower().startswith(("https://", "http://")) and len(value) <= 2000 else ""


# ================================================================ live calls and users


LIVE_STATES = {
    "ringing": "ringing", "ring": "ringing", "dialing": "ringing", "initiated": "ringing", "queued": "ringing",
    "agent_ringing": "ringing", "customer_ringing": "ringing", "waiting": "ringing",
    "answered": "in_progress", "connected": "in_progress", "bridged": "in_progress", "talking": "in_progress",
    "in_progress": "in_progress", "in progress": "in_progress", "active": "in_progress", "live": "in_progress",
    "on_call": "in_progress", "oncall": "in_progress", "hold": "in_progress", "on hold": "in_progress",
}


@dataclass
class LiveCall:
    """One row of /v1/live_calls in our terms."""

    call_id: str
    state: str  # ringing / in_progress
    state_text: str  # as Smartflo said it (e.g. "Answered", "Ringing")
    direction: str
    customer_number: str
    did_number: str
    agent_number: str
    agent_name: str
    started_at: datetime.datetime | None
    custom_identifier: str = ""
    ref_id: str = ""
    raw: dict = field(default_factory=dict)


def live_call(row: dict) -> LiveCall:
    values = {_name(k): _text(v) for k, v in row.items() if not isinstance(v, dict)}
    state_text = _first(values, "state", "call_state", "status", "queue_state")
    direction = DIRECTIONS.get(_first(values, "direction", "call_direction", "call_type").lower(), "")
    if not direction and _first(values, "custom_identifier", "ref_id"):
        direction = "outbound"
    return LiveCall(
        call_id=_first(values, "call_id", "callid", "uuid"),
        state=LIVE_STATES.get(state_text.lower(), "in_progress" if state_text else "ringing"),
        state_text=state_text[:40],
        direction=direction or "inbound",
        customer_number=_phone(_first(values, "customer_number", "client_number", "destination_number", "caller_id_number")),
        did_number=_phone(_first(values, "did_number", "did", "caller_id")),
        agent_number=_first(values, "agent_number", "answered_agent_number", "agent_id")[:32],
        agent_name=_first(values, "agent_name", "answered_agent_name")[:100],
        started_at=parse_time(_first(values, "call_time", "created_at", "start_stamp", "start_time")),
        custom_identifier=_first(values, "custom_identifier")[:128],
        ref_id=_first(values, "ref_id")[:128],
        raw=values,
    )


@dataclass
class AgentUser:
    """One row of /v1/users: who the agent is on Smartflo (`agent_id` is what call operations take)."""

    agent_id: str
    name: str
    email: str
    mobile: str  # E.164 where it parses
    extension: str
    raw: dict = field(default_factory=dict)


def agent_user(row: dict) -> AgentUser:
    """Rows seen flat (`agent_id`, `extension`) or with an `agent` object (`data[i].agent.id`)."""
    agent = row.get("agent") if isinstance(row.get("agent"), dict) else {}
    values = {_name(k): _text(v) for k, v in row.items() if not isinstance(v, dict)}
    inner = {_name(k): _text(v) for k, v in agent.items() if not isinstance(v, dict)}
    mobile = _first(values, "follow_me_number", "mobile", "number", "phone", "mobile_number") or _first(inner, "follow_me_number", "number")
    return AgentUser(
        agent_id=(_first(inner, "id", "agent_id") or _first(values, "agent_id"))[:32],
        name=(_first(values, "name", "full_name") or _first(inner, "name"))[:150],
        email=(_first(values, "email", "email_id") or _first(inner, "email"))[:254],
        mobile=_phone(mobile) if mobile else "",
        extension=(_first(inner, "extension", "intercom") or _first(values, "extension", "intercom", "sip_extension"))[:32],
        raw={**values, **{f"agent.{k}": v for k, v in inner.items()}},
    )
