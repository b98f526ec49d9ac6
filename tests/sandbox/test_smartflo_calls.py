"""The sandbox plays Smartflo's click-to-call (agent phone, then customer phone), live calls, call
operations (visible on the sandbox call) and hang up, in Smartflo's shapes; the hangup webhook goes
to the Status URL with our custom_identifier."""

from urllib.parse import parse_qs, urlparse

import pytest

from sandbox import smartflo as sandbox_smartflo
from sandbox.models import SandboxCall
from telephony.models import AgentLine
from tests.telephony.factories import ConnectionFactory

AUTH = {"HTTP_AUTHORIZATION": "Bearer sandbox-token"}
API = "/sandbox/api/smartflo/v1"


@pytest.fixture
def sandbox_connection(agent, supervisor):
    AgentLine.objects.create(user=agent, agent_id="05000001", mobile="+919845000001")
    AgentLine.objects.create(user=supervisor, agent_id="05000009", extension="609")
    sandbox_smartflo._hits.clear()
    return ConnectionFactory(base_url="http://testserver/sandbox/api/smartflo", auth_token="sandbox-token",
                             phone_numbers=["+918069001000"])


@pytest.fixture
def webhooks(monkeypatch):
    sent = []
    monkeypatch.setattr(sandbox_smartflo, "send_later", sent.append)
    return sent


def post(client, path, body):
    return client.post(f"{API}{path}", body, content_type="application/json", **AUTH).json()


def test_click_to_call_rings_agent_then_customer_and_the_webhook_carries_our_identifier(client, logged_in, admin_user, sandbox_connection, webhooks):
    answer = post(client, "/click_to_call", {"agent_number": "05000001", "destination_number": "919812345678", "async": 1,
                                             "caller_id": "918069001000", "custom_identifier": "sampark-abc"})
    assert answer["success"] is True and answer["ref_id"]
    call = SandboxCall.objects.get()
    live = client.get(f"{API}/live_calls", **AUTH).json()["data"]
    assert [(r["call_id"], r["state"], r["custom_identifier"], r["customer_number"]) for r in live] == [
        (call.call_id, "Ringing", "sampark-abc", "919812345678")]
    browser = logged_in(admin_user)
    assert "Ringing: Sampark click-to-call" in browser.get(f"/sandbox/calls/{call.pk}/agent/").content.decode()
    assert "Waiting" in browser.get(f"/sandbox/calls/{call.pk}/customer/").content.decode()
    browser.post(f"/sandbox/calls/{call.pk}/agent/", {"action": "answer"})
    browser.post(f"/sandbox/calls/{call.pk}/customer/", {"action": "answer"})
    assert client.get(f"{API}/live_calls", **AUTH).json()["data"][0]["state"] == "Answered"
    browser.post(f"/sandbox/calls/{call.pk}/customer/", {"action": "hangup"})
    call.refresh_from_db()
    assert (call.state, call.status) == ("ended", "answered")
    sent = parse_qs(urlparse(webhooks[0]).query)
    assert sent["custom_identifier"] == ["sampark-abc"] and sent["call_status"] == ["answered"]
    assert sent["customer_number"] == ["919812345678"] and sent["direction"] == ["outbound"]
    assert client.get(f"{API}/live_calls", **AUTH).json()["data"] == []


def test_click_to_call_refusals_in_smartflos_shapes(client, sandbox_connection):
    bad = client.post(f"{API}/click_to_call", {"agent_number": "05000001", "destination_number": "12"}, content_type="application/json", **AUTH)
    assert bad.status_code == 400 and bad.json() == {"success": False, "message": "Invalid destination number"}
    post(client, "/click_to_call", {"agent_number": "05000001", "destination_number": "919812345678"})
    busy = post(client, "/click_to_call", {"agent_number": "05000001", "destination_number": "919812345679"})
    assert busy == {"success": False, "message": "Agent is busy on another call"}


def test_operations_visibly_change_the_sandbox_call(client, logged_in, admin_user, sandbox_connection, webhooks):
    post(client, "/click_to_call", {"agent_number": "05000001", "destination_number": "919812345678"})
    call = SandboxCall.objects.get()
    assert post(client, "/call/options", {"type": "3", "call_id": call.call_id, "agent_id": "05000009"})["success"] is False  # not answered yet
    call.leg, call.state = "talking", "answered"
    call.save()
    assert post(client, "/call/options", {"type": "3", "call_id": call.call_id, "agent_id": "05000009"})["success"] is True
    assert post(client, "/call/options", {"type": "4", "call_id": call.call_id, "intercom": "609"})["success"] is True
    call.refresh_from_db()
    assert [op["type"] for op in call.operations] == ["barge", "transfer"] and call.agent_number == "05000009"
    page = logged_in(admin_user).get(f"/sandbox/calls/{call.pk}/customer/").content.decode()
    assert "barged in" in page and "Transferred to 609" in page
    assert client.post(f"{API}/call/options", {"type": "9", "call_id": call.call_id}, content_type="application/json", **AUTH).status_code == 422
    assert post(client, "/call/hangup", {"call_id": call.call_id})["success"] is True
    assert post(client, "/call/hangup", {"call_id": call.call_id}) == {"success": False, "message": "Call not found or already ended"}
    assert len(webhooks) == 1


def test_users_come_in_smartflos_nested_shape(client, sandbox_connection):
    rows = client.get(f"{API}/users", **AUTH).json()["data"]
    assert {"agent": {"id": "05000001", "extension": ""}, "follow_me_number": "919845000001"}.items() <= rows[0].items() or \
        any(r["agent"]["id"] == "05000001" and r["follow_me_number"] == "919845000001" for r in rows)
