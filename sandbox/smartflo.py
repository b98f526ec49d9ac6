"""The pretend Smartflo: its API under /sandbox/api/smartflo/v1/… (auth, numbers, users, call
records, Smartflo-shaped errors and 429s) and the calls a person rings from the sandbox phone page,
whose hangup webhooks go to the connection's real Status URL as a GET query string, as configured in
Smartflo's portal. Sampark's own client (telephony.providers.smartflo) talks to it unchanged when a
connection's base URL is `<this server>/sandbox/api/smartflo`.

Long because: it is the one stand-in for Smartflo's REST API (auth, numbers, users, call records,
click-to-call, live calls, call operations), the other side of telephony/providers/smartflo.py.
"""

import datetime
import hmac
import io
import logging
import math
import secrets
import struct
import threading
import time
import wave
from collections import defaultdict, deque
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core import signing
from django.utils import timezone

from core import phones
from sandbox import smartflo_stream
from sandbox.models import SandboxCall
from telephony.models import AgentLine, TelephonyConnection

logger = logging.getLogger(__name__)

SMARTFLO_PATH = "/sandbox/api/smartflo"
SANDBOX_DIDS = ["+918069001000", "+918069001001"]
LOGIN_MAX_AGE = 3600
RECORDING_LINK_MAX_AGE = 24 * 3600
IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))


class SmartfloSandboxError(Exception):
    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(body.get("message", str(status)))
        self.status, self.body, self.headers = status, body, headers or {}


def sandbox_connections():
    return TelephonyConnection.objects.filter(provider="tata_smartflo", base_url__contains=SMARTFLO_PATH).order_by("name")


# ---------------------------------------------------------------- auth and rate limit


def connection_for(header: str | None) -> TelephonyConnection:
    token = (header or "").strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    if not token:
        raise SmartfloSandboxError(401, {"success": False, "message": "Unauthenticated."})
    try:
        pk = signing.loads(token, salt="sandbox-smartflo-login", max_age=LOGIN_MAX_AGE)
        connection = sandbox_connections().filter(pk=pk).first()
        if connection:
            return connection
    except signing.BadSignature:
        pass
    for connection in sandbox_connections():
        if connection.auth_token and hmac.compare_digest(connection.auth_token.encode(), token.encode()):
            return connection
    raise SmartfloSandboxError(401, {"success": False, "message": "Token has expired or is invalid."})


def login(email: str, password: str) -> dict:
    for connection in sandbox_connections():
        if connection.email and connection.email.lower() == (email or "").lower() and connection.password \
                and hmac.compare_digest(connection.password.encode(), (password or "").encode()):
            token = signing.dumps(str(connection.pk), salt="sandbox-smartflo-login")
            return {"access_token": token, "token_type": "bearer", "expires_in": LOGIN_MAX_AGE}
    raise SmartfloSandboxError(401, {"success": False, "message": "Invalid email or password."})


_hits: dict[str, deque] = defaultdict(deque)
_hits_lock = threading.Lock()


def rate_limit(key: str) -> None:
    """At most SANDBOX_SMARTFLO_RATE requests a second per account, like Smartflo's burst limit."""
    limit = settings.SANDBOX_SMARTFLO_RATE
    now = time.monotonic()
    with _hits_lock:
        hits = _hits[key]
        while hits and now - hits[0] > 1.0:
            hits.popleft()
        if len(hits) >= limit:
            raise SmartfloSandboxError(429, {"success": False, "message": "Too many requests."}, {"Retry-After": "1"})
        hits.append(now)


# ---------------------------------------------------------------- the API's answers


def numbers(connection: TelephonyConnection) -> list[dict]:
    dids = connection.phone_numbers or SANDBOX_DIDS
    return [{"id": index + 1, "did": phones.provider_digits(did), "name": f"Sandbox line {index + 1}", "destination": "ivr||1"}
            for index, did in enumerate(dids)]


def users() -> list[dict]:
    return [
        {"id": line.pk, "name": str(line.user), "email": line.user.email, "agent_id": line.agent_id, "extension": line.extension,
         "follow_me_number": phones.provider_digits(line.mobile or line.user.phone) if (line.mobile or line.user.phone) else "",
         "agent": {"id": line.agent_id, "extension": line.extension}}
        for line in AgentLine.objects.select_related("user").order_by("pk")
    ]


def _parse_ist(value: str, name: str) -> datetime.datetime:
    try:
        return datetime.datetime.strptime(value or "", "%Y-%m-%d %H:%M:%S").replace(tzinfo=IST)
    except ValueError:
        raise SmartfloSandboxError(422, {"success": False, "message": f"{name} must be YYYY-MM-DD HH:MM:SS"}) from None


def call_records(connection: TelephonyConnection, params, recording_url) -> dict:
    start, end = _parse_ist(params.get("from_date"), "from_date"), _parse_ist(params.get("to_date"), "to_date")
    try:
        page, limit = int(params.get("page") or 1), int(params.get("limit") or 20)
    except ValueError:
        raise SmartfloSandboxError(422, {"success": False, "message": "page and limit must be numbers"}) from None
    if limit > 200 or limit < 1 or page < 1:
        raise SmartfloSandboxError(422, {"success": False, "message": "limit must be between 1 and 200"})
    calls = SandboxCall.objects.filter(connection=connection, state=SandboxCall.State.ENDED, started_at__gte=start, started_at__lte=end)
    if params.get("direction"):
        calls = calls.filter(direction=params["direction"])
    count = calls.count()
    # The page's ids first, from the listing index alone (skipping `offset` entries reads no rows), then its rows.
    ids = list(calls.order_by("started_at", "pk").values_list("pk", flat=True)[(page - 1) * limit : page * limit])
    rows = SandboxCall.objects.filter(pk__in=ids).order_by("started_at", "pk") if ids else []
    return {"count": count, "results": [record(call, recording_url) for call in rows]}


def _ist(moment):
    return moment.astimezone(IST).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def record(call: SandboxCall, recording_url) -> dict:
    talk = int((call.ended_at - call.answered_at).total_seconds()) if call.answered_at and call.ended_at else 0
    start_stamp = _ist(call.started_at)
    return {
        "id": call.pk, "call_id": call.call_id, "uuid": call.uuid, "direction": call.direction, "status": call.status,
        "date": start_stamp[:10], "time": start_stamp[11:],
        "start_stamp": start_stamp, "end_stamp": _ist(call.ended_at),
        "call_duration": int((call.ended_at - call.started_at).total_seconds()) if call.ended_at else 0,
        "answered_seconds": talk, "client_number": phones.provider_digits(call.customer_number),
        "did_number": phones.provider_digits(call.did_number), "agent_number": call.agent_number, "agent_name": call.agent_name,
        "recording_url": recording_url(call) if call.has_recording else "",
        "hangup_cause": "NORMAL_CLEARING" if call.status == "answered" else "ORIGINATOR_CANCEL",
        "description": "Call answered" if call.status == "answered" else "Missed call", "circle": "Karnataka",
    }


def hangup_variables(call: SandboxCall, recording_url) -> dict:
    """The hangup webhook, with the variable names of Smartflo's portal (sent as a GET query string)."""
    talk = int((call.ended_at - call.answered_at).total_seconds()) if call.answered_at else 0
    return {
        "uuid": call.uuid, "call_id": call.call_id, "direction": call.direction, "call_status": call.status,
        "customer_number": phones.provider_digits(call.customer_number), "did_number": phones.provider_digits(call.did_number),
        "custom_identifier": call.custom_identifier, "ref_id": call.ref_id,
        "caller_id_number": phones.provider_digits(call.customer_number), "call_to_number": phones.provider_digits(call.did_number),
        "answered_agent_number": call.agent_number, "answered_agent_name": call.agent_name,
        "start_stamp": _ist(call.started_at), "answer_stamp": _ist(call.answered_at), "end_stamp": _ist(call.ended_at),
        "duration": int((call.ended_at - call.started_at).total_seconds()), "billsec": talk,
        "hangup_cause": "NORMAL_CLEARING" if call.status == "answered" else "ORIGINATOR_CANCEL",
        "hangup_cause_code": "16" if call.status == "answered" else "",
        "recording_url": recording_url(call) if call.has_recording else "",
    }


# ---------------------------------------------------------------- the phone page's calls


def new_ids() -> tuple[str, str]:
    return f"{int(time.time())}.{secrets.randbelow(10**6)}", secrets.token_hex(16)


def ring(connection: TelephonyConnection, customer: str, did: str) -> SandboxCall:
    call_id, uuid = new_ids()
    return SandboxCall.objects.create(connection=connection, call_id=call_id, uuid=uuid, customer_number=customer,
                                      did_number=did, started_at=timezone.now())


def answer(call: SandboxCall, line: AgentLine | None) -> SandboxCall:
    if call.state != SandboxCall.State.RINGING:
        return call
    call.state, call.answered_at = SandboxCall.State.ANSWERED, timezone.now()
    if line is not None:
        call.agent_number, call.agent_name = line.agent_id or line.extension, str(line.user)
    call.save()
    return call


def hang_up(call: SandboxCall, status_url: str, recording_url, *, status: str = "") -> SandboxCall:
    """End the call (answered if it was, else missed, or `status`) and send the hangup webhook to the Status URL."""
    if call.state == SandboxCall.State.ENDED:
        return call
    call.status = "answered" if call.state == SandboxCall.State.ANSWERED else (status or "missed")
    call.leg = "stream_ended" if call.leg in STREAM_LEGS else ""
    call.state, call.ended_at = SandboxCall.State.ENDED, timezone.now()
    call.has_recording = call.status == "answered"
    call.save()
    smartflo_stream.stop(call.pk)
    send_later(f"{status_url}?{urlencode(hangup_variables(call, recording_url))}")
    return call


def send_later(url: str, delay: float = 0.2) -> threading.Thread:
    def run():
        time.sleep(delay)
        try:
            response = requests.get(url, timeout=(3, 10), headers={"User-Agent": "Smartflo-Sandbox/1.0"})
            if response.status_code >= 300:
                logger.warning("sandbox hangup webhook answered %s", response.status_code)
        except requests.RequestException as exc:
            logger.warning("sandbox hangup webhook failed: %s", exc.__class__.__name__)

    thread = threading.Thread(target=run, name="sandbox-smartflo-webhook", daemon=True)
    thread.start()
    return thread


def recording_token(call: SandboxCall) -> str:
    return signing.dumps(call.pk, salt="sandbox-smartflo-recording")


def call_for_recording(token: str) -> SandboxCall | None:
    try:
        return SandboxCall.objects.filter(pk=signing.loads(token, salt="sandbox-smartflo-recording", max_age=RECORDING_LINK_MAX_AGE)).first()
    except signing.BadSignature:
        return None


def recording_wav(seconds: float = 1.5) -> bytes:
    """A short two-tone WAV (8 kHz mono), standing in for the call's audio."""
    rate, frames = 8000, io.BytesIO()
    with wave.open(frames, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = (int(8000 * math.sin(2 * math.pi * (440 if n < rate * seconds / 2 else 660) * n / rate)) for n in range(int(rate * seconds)))
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return frames.getvalue()


def seed_history(connection: TelephonyConnection, *, count: int, days: int, rng) -> int:
    """Past calls for the call records API (what "Import previous calls" finds on a fresh machine)."""
    if SandboxCall.objects.filter(connection=connection).exists():
        return 0
    lines = list(AgentLine.objects.select_related("user"))
    dids = connection.phone_numbers or SANDBOX_DIDS
    now = timezone.now()
    rows = []
    for index in range(count):
        started = now - datetime.timedelta(days=rng.random() * days)
        answered = rng.random() < 0.7 and lines
        line = rng.choice(lines) if answered else None
        talk = rng.randint(20, 600) if answered else 0
        rows.append(SandboxCall(
            connection=connection, call_id=f"hist-{index}-{secrets.token_hex(4)}", uuid=secrets.token_hex(16),
            direction="inbound" if rng.random() < 0.8 else "outbound", state=SandboxCall.State.ENDED,
            status="answered" if answered else "missed", customer_number=f"+9198{rng.randrange(10**8):08d}",
            did_number=rng.choice(dids), agent_number=(line.agent_id or line.extension) if line else "",
            agent_name=str(line.user) if line else "", started_at=started,
            answered_at=started + datetime.timedelta(seconds=8) if answered else None,
            ended_at=started + datetime.timedelta(seconds=8 + talk if answered else 25), has_recording=bool(answered),
        ))
    SandboxCall.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# ---------------------------------------------------------------- click-to-call, live calls, call operations


def _line_for(number: str) -> AgentLine | None:
    """An agent number as click-to-call or a transfer names it: agent id, extension or mobile."""
    digits = "".join(c for c in number if c.isdigit())
    for line in AgentLine.objects.select_related("user"):
        mobile = phones.provider_digits(line.mobile) if line.mobile else ""
        if digits and digits in (line.agent_id, line.extension, mobile, mobile[-10:]):
            return line
    return None


def _live(connection):
    return SandboxCall.objects.filter(connection=connection).exclude(state=SandboxCall.State.ENDED)


def click_to_call(connection: TelephonyConnection, body) -> dict:
    """POST /v1/click_to_call: the agent's phone rings (the sandbox agent phone page), then the customer's."""
    if not isinstance(body, dict):
        raise SmartfloSandboxError(422, {"success": False, "message": "agent_number and destination_number are required"})
    agent_number = "".join(c for c in str(body.get("agent_number") or "") if c.isdigit())
    destination = "".join(c for c in str(body.get("destination_number") or "") if c.isdigit())
    if not agent_number:
        raise SmartfloSandboxError(422, {"success": False, "message": "agent_number is required"})
    customer = phones.try_e164("+" + destination) if 10 <= len(destination) <= 13 else None
    if customer is None:
        raise SmartfloSandboxError(400, {"success": False, "message": "Invalid destination number"})
    dids = connection.phone_numbers or SANDBOX_DIDS
    caller_id = phones.try_e164("+" + str(body.get("caller_id"))) if body.get("caller_id") else dids[0]
    if caller_id not in dids:
        raise SmartfloSandboxError(400, {"success": False, "message": "Invalid caller_id: not a number of this account"})
    if _live(connection).filter(agent_number=agent_number).exists():
        return {"success": False, "message": "Agent is busy on another call"}
    line = _line_for(agent_number)
    call_id, uuid = new_ids()
    ref_id = secrets.token_hex(8)
    SandboxCall.objects.create(
        connection=connection, call_id=call_id, uuid=uuid, direction="outbound", customer_number=customer, did_number=caller_id,
        agent_number=agent_number, agent_name=str(line.user) if line else "", started_at=timezone.now(),
        custom_identifier=str(body.get("custom_identifier") or "")[:128], ref_id=ref_id, leg="agent_ringing",
    )
    return {"success": True, "message": "Originate successfully queued", "ref_id": ref_id}


STREAM_LEGS = ("stream_ringing", "streaming", "stream_ended")  # a streamed call (sandbox/smartflo_support.py)


def live_calls(connection: TelephonyConnection, agent_number: str = "") -> dict:
    calls = _live(connection).order_by("started_at")
    if agent_number:
        calls = calls.filter(agent_number=agent_number)
    return {"success": True, "data": [{
        "call_id": call.call_id, "state": "Answered" if call.state == SandboxCall.State.ANSWERED else "Ringing",
        "queue_state": call.leg, "direction": call.direction, "customer_number": phones.provider_digits(call.customer_number),
        "did_number": phones.provider_digits(call.did_number), "agent_number": call.agent_number, "agent_name": call.agent_name,
        "call_time": _ist(call.started_at), "created_at": _ist(call.started_at), "custom_identifier": call.custom_identifier,
        "ref_id": call.ref_id,
    } for call in calls]}


OPERATION_NAMES = {"1": "monitor", "2": "whisper", "3": "barge", "4": "transfer"}


def call_operation(connection: TelephonyConnection, body) -> dict:
    """POST /v1/call/options: monitor, whisper, barge (agent_id) and transfer (intercom), visible on the phone pages."""
    if not isinstance(body, dict):
        raise SmartfloSandboxError(422, {"success": False, "message": "type and call_id are required"})
    kind = OPERATION_NAMES.get(str(body.get("type") or ""))
    if kind is None:
        raise SmartfloSandboxError(422, {"success": False, "message": "type must be 1, 2, 3 or 4"})
    call = _live(connection).filter(call_id=str(body.get("call_id") or "")).first()
    if call is None:
        return {"success": False, "message": "Call not found or already ended"}
    operation = {"type": kind, "at": timezone.now().isoformat()}
    if kind == "transfer":
        intercom = "".join(c for c in str(body.get("intercom") or "") if c.isdigit())
        if not intercom:
            raise SmartfloSandboxError(422, {"success": False, "message": "intercom is required for a transfer"})
        line = _line_for(intercom)
        operation["intercom"] = intercom
        call.agent_number = (line.agent_id or line.extension) if line else intercom
        call.agent_name = str(line.user) if line else f"Department {intercom}"
    else:
        agent_id = str(body.get("agent_id") or "")
        if not agent_id:
            raise SmartfloSandboxError(422, {"success": False, "message": "agent_id is required"})
        if call.state != SandboxCall.State.ANSWERED:
            return {"success": False, "message": "Call is not answered yet"}
        line = _line_for(agent_id)
        operation.update(agent_id=agent_id, name=str(line.user) if line else agent_id)
    call.operations = [*call.operations, operation]
    call.save()
    return {"success": True, "message": f"{kind.capitalize()} successful"}


def hangup_api(connection: TelephonyConnection, body, status_url: str, recording_url) -> dict:
    call = _live(connection).filter(call_id=str((body or {}).get("call_id") or "")).first() if isinstance(body, dict) else None
    if call is None:
        return {"success": False, "message": "Call not found or already ended"}
    hang_up(call, status_url, recording_url)
    return {"success": True, "message": "Call hangup successfully"}


def phone_action(call: SandboxCall, side: str, action: str, status_url: str, recording_url) -> SandboxCall:
    """What a person does on the sandbox agent phone or customer phone of a click-to-call."""
    if call.state == SandboxCall.State.ENDED:
        return call
    if action == "hangup":
        return hang_up(call, status_url, recording_url)
    if side == "agent" and call.leg == "agent_ringing":
        if action == "answer":
            call.leg = "customer_ringing"
            call.save(update_fields=["leg"])
        elif action == "reject":
            return hang_up(call, status_url, recording_url, status="missed")
    elif side == "customer" and call.leg == "customer_ringing":
        if action == "answer":
            call.leg, call.state, call.answered_at = "talking", SandboxCall.State.ANSWERED, timezone.now()
            call.save(update_fields=["leg", "state", "answered_at"])
        elif action == "reject":
            return hang_up(call, status_url, recording_url, status="busy")
    return call
