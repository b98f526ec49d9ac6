"""The sandbox plays Smartflo's click-to-call-support (authenticated by the API key in the body) and
the customer phone of a streamed call: ringing, answer (the stream starts), keypad, hang up."""

from urllib.parse import parse_qs, urlparse

import pytest

from sandbox import smartflo as sandbox_smartflo
from sandbox import smartflo_stream
from sandbox.models import SandboxCall
from tests.telephony.factories import ConnectionFactory

API = "/sandbox/api/smartflo/v1"


@pytest.fixture
def sandbox_connection(db):
    sandbox_smartflo._hits.clear()
    return ConnectionFactory(base_url="http://testserver/sandbox/api/smartflo", auth_token="sandbox-token", api_key="support-key",
                             phone_numbers=["+918069001000"])


def support(client, body):
    return client.post(f"{API}/click_to_call_support", body, content_type="application/json")


@pytest.mark.parametrize(("body", "status"), [
    ({"api_key": "wrong", "customer_number": "919812345678"}, 401),
    ({"customer_number": "919812345678"}, 401),
    ({"api_key": "support-key", "customer_number": "12"}, 400),
    ({"api_key": "support-key", "customer_number": "919812345678", "caller_id": "911111111111"}, 400),
])
def test_click_to_call_support_refusals_in_smartflos_shape(client, sandbox_connection, body, status):
    answer = support(client, body)
    assert answer.status_code == status and answer.json()["success"] is False
    assert support(client, ["not", "an", "object"]).status_code == 422


def test_a_streamed_call_rings_the_customer_phone_with_a_keypad_and_hangs_up_to_the_status_url(
    client, admin_user, sandbox_connection, monkeypatch
):
    sent, started = [], []
    monkeypatch.setattr(sandbox_smartflo, "send_later", sent.append)
    monkeypatch.setattr(smartflo_stream, "start", lambda call, base_url: started.append((call.pk, base_url)))
    answer = support(client, {"api_key": "support-key", "customer_number": "919812345678", "custom_identifier": "sampark-auto-1"})
    assert answer.status_code == 200 and answer.json()["ref_id"]
    call = SandboxCall.objects.get()
    assert (call.leg, call.customer_number, call.did_number, call.custom_identifier) == ("stream_ringing", "+919812345678", "+918069001000", "sampark-auto-1")
    client.force_login(admin_user)
    page = client.get(f"/sandbox/calls/{call.pk}/customer/")
    assert b"Ringing: +918069001000 is calling" in page.content
    client.post(f"/sandbox/calls/{call.pk}/customer/", {"action": "answer"})
    call.refresh_from_db()
    assert call.leg == "streaming" and call.state == "answered" and started == [(call.pk, "http://testserver/")]
    page = client.get(f"/sandbox/calls/{call.pk}/customer/")
    assert page.content.count(b'name="digit"') == 12
    client.post(f"/sandbox/calls/{call.pk}/customer/", {"action": "hangup"})
    call.refresh_from_db()
    assert call.state == "ended" and call.status == "answered" and call.is_streamed
    hangup = parse_qs(urlparse(sent[0]).query)
    assert hangup["custom_identifier"] == ["sampark-auto-1"] and hangup["call_status"] == ["answered"]
    assert b"Call ended: answered" in client.get(f"/sandbox/calls/{call.pk}/customer/").content


def test_the_outbound_voice_url_is_asked_on_this_server(sandbox_connection, settings):
    settings.PUBLIC_BASE_URL = "https://crm.example.in"
    url = smartflo_stream.outbound_voice_url(sandbox_connection, "http://127.0.0.1:8123/")
    assert url == f"http://127.0.0.1:8123/telephony/voice/{sandbox_connection.status_token}/1/"
