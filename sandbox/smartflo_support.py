"""The pretend Smartflo's click-to-call-support: the customer's phone rings (the sandbox customer
phone page) and, answered, the call streams to the Outbound Voice URL's WebSocket
(sandbox.smartflo_stream) — what Smartflo does for a Click to Call Support API key whose destination
is a Voice Streaming endpoint."""

import hmac
import secrets

from django.utils import timezone

from core import phones
from sandbox import smartflo_stream
from sandbox.models import SandboxCall
from sandbox.smartflo import SANDBOX_DIDS, SmartfloSandboxError, hang_up, new_ids, rate_limit, sandbox_connections
from telephony.models import TelephonyConnection


def connection_for_api_key(api_key) -> TelephonyConnection:
    """Click to Call Support authenticates with the API key in the body (no bearer token)."""
    for connection in sandbox_connections():
        if isinstance(api_key, str) and connection.api_key and hmac.compare_digest(connection.api_key.encode(), api_key.encode()):
            return connection
    raise SmartfloSandboxError(401, {"success": False, "message": "Invalid api_key"})


def click_to_call_support(body) -> dict:
    """POST /v1/click_to_call_support: the customer's phone rings (the sandbox customer phone page);
    answered, the call streams to the Outbound Voice URL's WebSocket (the key's destination)."""
    if not isinstance(body, dict):
        raise SmartfloSandboxError(422, {"success": False, "message": "customer_number and api_key are required"})
    connection = connection_for_api_key(body.get("api_key"))
    rate_limit(str(connection.pk))
    digits = "".join(c for c in str(body.get("customer_number") or "") if c.isdigit())
    customer = phones.try_e164("+" + digits) if 10 <= len(digits) <= 13 else None
    if customer is None:
        raise SmartfloSandboxError(400, {"success": False, "message": "Invalid customer number"})
    dids = connection.phone_numbers or SANDBOX_DIDS
    caller_id = phones.try_e164("+" + str(body.get("caller_id"))) if body.get("caller_id") else dids[0]
    if caller_id not in dids:
        raise SmartfloSandboxError(400, {"success": False, "message": "Invalid caller_id: not a number of this API key"})
    call_id, uuid = new_ids()
    ref_id = secrets.token_hex(8)
    SandboxCall.objects.create(
        connection=connection, call_id=call_id, uuid=uuid, direction="outbound", customer_number=customer, did_number=caller_id,
        agent_name="Voice streaming", started_at=timezone.now(), custom_identifier=str(body.get("custom_identifier") or "")[:128],
        ref_id=ref_id, leg="stream_ringing",
    )
    return {"success": True, "message": "Originate successfully queued", "ref_id": ref_id}


def stream_action(call: SandboxCall, action: str, digit: str, base_url: str, status_url: str, recording_url) -> SandboxCall:
    """The customer phone of a streamed call: answer (the stream starts), reject, a key, hang up."""
    if call.state == SandboxCall.State.ENDED:
        return call
    if action == "hangup":
        return hang_up(call, status_url, recording_url)
    if call.leg == "stream_ringing" and action == "reject":
        return hang_up(call, status_url, recording_url, status="busy")
    if call.leg == "stream_ringing" and action == "answer":
        call.leg, call.state, call.answered_at = "streaming", SandboxCall.State.ANSWERED, timezone.now()
        call.save(update_fields=["leg", "state", "answered_at"])
        smartflo_stream.start(call, base_url)
    elif call.leg == "streaming" and action == "key":
        smartflo_stream.press(call.pk, digit)
    return call
