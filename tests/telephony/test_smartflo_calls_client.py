"""Part 2's Smartflo requests (click-to-call both kinds, live calls, hang up, the four call operations,
users) pinned with `responses`: the exact bodies of the reference, and every error class."""

import json

import pytest
import responses

from telephony.providers import smartflo

BASE = "https://smartflo.test"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.real-token"


def client():
    return smartflo.SmartfloClient(base_url=BASE, token=TOKEN, sleep=lambda seconds: None)


def body(index=0):
    return json.loads(responses.calls[index].request.body)


@responses.activate
def test_click_to_call_agent_first_body():
    responses.post(f"{BASE}/v1/click_to_call", json={"success": True, "message": "Originate successfully queued", "ref_id": "r-1"})
    answer = client().click_to_call(agent_number="+91 98450 00001", destination_number="+919812345678",
                                    caller_id="+918069001000", custom_identifier="sampark-42", call_timeout=30)
    assert body() == {"agent_number": "919845000001", "destination_number": "919812345678", "async": 1,
                      "caller_id": "918069001000", "call_timeout": 30, "custom_identifier": "sampark-42"}
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert answer["ref_id"] == "r-1" and answer["raw"]["message"] == "Originate successfully queued"


@responses.activate
def test_click_to_call_without_optional_fields_sends_only_the_required_ones():
    responses.post(f"{BASE}/v1/click_to_call", json={"success": True, "ref_id": "r-2"})
    client().click_to_call(agent_number="05000001", destination_number="+919812345678")
    assert body() == {"agent_number": "05000001", "destination_number": "919812345678", "async": 1}


@responses.activate
def test_click_to_call_support_customer_first_body_carries_the_api_key_not_the_token():
    responses.post(f"{BASE}/v1/click_to_call_support", json={"success": True, "ref_id": "r-3"})
    client().click_to_call_support(api_key="k-123", customer_number="+919812345678", caller_id="+918069001000",
                                   custom_identifier="c-1", customer_ring_timeout=60)
    assert body() == {"customer_number": "919812345678", "api_key": "k-123", "async": 1, "caller_id": "918069001000",
                      "customer_ring_timeout": 30, "custom_identifier": "c-1"}
    assert "Authorization" not in responses.calls[0].request.headers


@pytest.mark.parametrize(("status", "answer", "error"), [
    (200, {"success": False, "message": "Agent is busy on another call"}, smartflo.AgentBusy),
    (400, {"success": False, "message": "Invalid destination number"}, smartflo.InvalidNumber),
    (200, {"success": False, "message": "Insufficient balance, please recharge"}, smartflo.NoBalance),
    (422, {"message": "Agent not logged in"}, smartflo.CallRefused),
    (429, {"message": "Too many requests"}, smartflo.RateLimited),
    (401, {"message": "Token expired"}, smartflo.AuthFailed),
    (403, {"message": "No permission"}, smartflo.NoPermission),
    (503, {"message": "down"}, smartflo.ServerError),
])
@responses.activate
def test_click_to_call_error_classes(status, answer, error):
    responses.post(f"{BASE}/v1/click_to_call", json=answer, status=status)
    with pytest.raises(error) as raised:
        client().click_to_call(agent_number="05000001", destination_number="+919812345678")
    assert raised.value.message


@responses.activate
def test_click_to_call_that_is_not_json_is_a_bad_response():
    responses.post(f"{BASE}/v1/click_to_call", body="<html>oops</html>")
    with pytest.raises(smartflo.BadResponse):
        client().click_to_call(agent_number="05000001", destination_number="+919812345678")


@responses.activate
def test_live_calls_are_read_into_our_terms_unknown_fields_kept():
    responses.get(f"{BASE}/v1/live_calls", json={"data": [
        {"call_id": "1627373566.350603", "state": "Answered", "queue_state": "", "customer_number": "9812345678",
         "agent_name": "Rahul", "agent_number": "05000001", "call_time": "2026-12-02 12:00:00", "direction": "outbound",
         "custom_identifier": "sampark-42", "extra": "kept"},
        {"call_id": "2.2", "state": "Ringing", "customer_number": "+919800000002", "created_at": "2026-12-02 12:01:00"},
    ]})
    rows = client().live_calls(agent_number="05000001")
    assert responses.calls[0].request.params == {"agent_number": "05000001"}
    first, second = rows
    assert (first.call_id, first.state, first.customer_number, first.agent_number, first.custom_identifier) == (
        "1627373566.350603", "in_progress", "+919812345678", "05000001", "sampark-42")
    assert first.started_at.isoformat() == "2026-12-02T12:00:00+05:30" and first.raw["extra"] == "kept"
    assert (second.state, second.direction) == ("ringing", "inbound")


@responses.activate
def test_live_calls_bare_list_and_no_params():
    responses.get(f"{BASE}/v1/live_calls", json=[])
    assert client().live_calls() == []
    assert responses.calls[0].request.params == {}


@responses.activate
def test_hangup_body():
    responses.post(f"{BASE}/v1/call/hangup", json={"success": True, "message": "Call hangup successfully"})
    client().hangup("1627373566.350603")
    assert body() == {"call_id": "1627373566.350603"}


@responses.activate
def test_hangup_of_a_call_that_ended_meanwhile_is_refused():
    responses.post(f"{BASE}/v1/call/hangup", json={"success": False, "message": "Call not found"})
    with pytest.raises(smartflo.CallRefused, match="Call not found"):
        client().hangup("1.1")


@pytest.mark.parametrize(("method", "kind"), [("monitor", "1"), ("whisper", "2"), ("barge", "3")])
@responses.activate
def test_monitor_whisper_barge_bodies(method, kind):
    responses.post(f"{BASE}/v1/call/options", json={"success": True, "message": "ok"})
    getattr(client(), method)("1627373566.350603", "05000009")
    assert body() == {"type": kind, "call_id": "1627373566.350603", "agent_id": "05000009"}


@pytest.mark.parametrize("intercom", ["9196XXX9832".replace("XXX", "123"), "0602XXX70085".replace("XXX", "123"), "80124"])
@responses.activate
def test_transfer_bodies_of_the_reference(intercom):
    responses.post(f"{BASE}/v1/call/options", json={"success": True})
    client().transfer("175XXXX218.8118", intercom)
    assert body() == {"type": "4", "call_id": "175XXXX218.8118", "intercom": intercom}


def test_operations_without_their_target_are_refused_before_any_request():
    with responses.RequestsMock():
        with pytest.raises(smartflo.BadRequest):
            client().barge("1.1", "")
        with pytest.raises(smartflo.BadRequest):
            client().transfer("1.1", "")


@responses.activate
def test_call_operation_refused_and_rate_limited():
    responses.post(f"{BASE}/v1/call/options", json={"success": False, "message": "Agent is busy"})
    with pytest.raises(smartflo.AgentBusy):
        client().monitor("1.1", "05000009")
    responses.replace(responses.POST, f"{BASE}/v1/call/options", json={"message": "slow down"}, status=429, headers={"Retry-After": "1"})
    with pytest.raises(smartflo.RateLimited):
        client().barge("1.1", "05000009")
    assert len(responses.calls) == 1 + 1 + smartflo.RATE_LIMIT_RETRIES


@responses.activate
def test_agents_read_nested_and_flat_user_rows():
    responses.get(f"{BASE}/v1/users", json={"data": [
        {"id": 11, "name": "Rahul Sharma", "email": "rahul@example.com", "follow_me_number": "919845000001",
         "agent": {"id": "05000001", "extension": "06047530001"}},
        {"name": "Ananya", "agent_id": "05000002", "extension": "601", "mobile": "09845000002"},
    ]})
    first, second = client().agents()
    assert (first.agent_id, first.name, first.email, first.mobile, first.extension) == (
        "05000001", "Rahul Sharma", "rahul@example.com", "+919845000001", "06047530001")
    assert (second.agent_id, second.extension, second.mobile) == ("05000002", "601", "+919845000002")


@pytest.mark.parametrize(("status", "answer", "error"), [
    (200, {"success": False, "message": "Invalid customer number"}, smartflo.InvalidNumber),
    (200, {"success": False, "message": "Insufficient balance"}, smartflo.NoBalance),
    (401, {"success": False, "message": "Invalid api_key"}, smartflo.AuthFailed),
    (422, {"message": "customer_number is required"}, smartflo.CallRefused),
    (429, {"message": "Too many requests"}, smartflo.RateLimited),
    (502, {"message": "bad gateway"}, smartflo.ServerError),
])
@responses.activate
def test_click_to_call_support_error_classes(status, answer, error):
    responses.post(f"{BASE}/v1/click_to_call_support", json=answer, status=status)
    with pytest.raises(error) as raised:
        client().click_to_call_support(api_key="k-123", customer_number="+919812345678")
    assert raised.value.message
