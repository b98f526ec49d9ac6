"""Click-to-call: the button where it belongs, the Call row from the click moving live to its end
(live-calls data, then the hangup webhook), every browser told, refusals in words."""

import json
from urllib.parse import urlencode

import pytest
import responses

from contacts.models import Contact
from telephony import live
from telephony.models import AgentLine, Call, CallAction
from tests.factories import ContactFactory
from tests.telephony.factories import CallFactory, ConnectionFactory

C2C = "https://smartflo.test/v1/click_to_call"
LIVE = "https://smartflo.test/v1/live_calls"


@pytest.fixture
def connection(sales_team):
    return ConnectionFactory(team=sales_team, is_default=True, phone_numbers=["+918069000000", "+918069000001"])


@pytest.fixture
def line(agent):
    return AgentLine.objects.create(user=agent, agent_id="05000001")


@responses.activate
def test_click_creates_the_call_with_our_identifier_then_asks_smartflo(client, connection, agent, line, published):
    responses.post(C2C, json={"success": True, "ref_id": "ref-9"})
    client.force_login(agent)
    response = client.post("/telephony/click-to-call/", {"number": "098123 45678", "caller_id": "+918069000001"},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["ok"]
    call = Call.objects.get()
    sent = json.loads(responses.calls[0].request.body)
    assert sent == {"agent_number": "05000001", "destination_number": "919812345678", "async": 1, "caller_id": "918069000001",
                    "custom_identifier": call.custom_identifier}
    assert call.custom_identifier.startswith("sampark-") and call.ref_id == "ref-9"
    assert (call.status, call.direction, call.agent, call.customer_number, call.did_number) == (
        "requested", "outbound", agent, "+919812345678", "+918069000001")
    assert call.contact == Contact.objects.get(phones__number="+919812345678")
    action = CallAction.objects.get()
    assert (action.kind, action.by, action.ok) == ("click_to_call", agent, True)
    assert any(event == "call.updated" and f"user.{agent.pk}" in groups for event, _, groups in published)


@responses.activate
def test_call_moves_requested_ringing_in_progress_then_ends_by_the_hangup_webhook(client, connection, agent, line, published):
    responses.post(C2C, json={"success": True, "ref_id": "ref-9"})
    call = live.click_to_call(agent, "+919812345678")
    identifier = call.custom_identifier
    responses.get(LIVE, json={"data": [{"call_id": "1700.55", "state": "Ringing", "customer_number": "919812345678",
                                        "agent_number": "05000001", "custom_identifier": identifier, "direction": "outbound"}]})
    live.poll(connection)
    call.refresh_from_db()
    assert (call.status, call.provider_call_id) == ("ringing", "1700.55")
    responses.replace(responses.GET, LIVE, json={"data": [{"call_id": "1700.55", "state": "Answered", "customer_number": "919812345678",
                                                           "call_time": "2026-12-02 12:00:00", "custom_identifier": identifier}]})
    live.poll(connection)
    call.refresh_from_db()
    assert call.status == "in_progress"
    hangup = {"call_id": "1700.55", "custom_identifier": identifier, "direction": "clicktocall", "call_status": "answered",
              "billsec": "42", "duration": "50", "customer_number": "919812345678", "answered_agent_number": "05000001"}
    client.get(f"/telephony/status/{connection.status_token}/?{urlencode(hangup)}")
    call.refresh_from_db()
    assert (call.status, call.talk_time) == ("answered", 42)
    assert Call.objects.count() == 1
    statuses = [payload["status"] for event, payload, _ in published if event == "call.updated" and payload["call"] == call.pk]
    assert statuses[:1] == ["requested"] and "ringing" in statuses and "in_progress" in statuses and statuses[-1] == "answered"
    assert any(event == "calls.live" and groups == {"staff"} for event, _, groups in published)


@responses.activate
def test_hangup_webhook_alone_finds_the_click_to_call_row_by_identifier(client, connection, agent, line):
    responses.post(C2C, json={"success": True})
    call = live.click_to_call(agent, "+919812345678")
    hangup = {"uuid": "u-1", "custom_identifier": call.custom_identifier, "call_status": "missed", "customer_number": "919812345678"}
    client.get(f"/telephony/status/{connection.status_token}/?{urlencode(hangup)}")
    call.refresh_from_db()
    assert (call.status, call.provider_uuid, Call.objects.count()) == ("no_answer", "u-1", 1)


@pytest.mark.parametrize(("answer", "status", "words"), [
    ({"success": False, "message": "Agent is busy"}, 200, "Your phone is busy"),
    ({"success": False, "message": "Invalid destination number"}, 400, "not valid"),
    ({"success": False, "message": "Insufficient balance"}, 200, "no balance left"),
    ({"message": "Too many requests"}, 429, "too many requests"),
])
@responses.activate
def test_refusals_in_words_on_the_popover_and_the_call_failed(client, connection, agent, line, answer, status, words):
    responses.post(C2C, json=answer, status=status)
    client.force_login(agent)
    response = client.post("/telephony/click-to-call/", {"number": "+919812345678"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 422 and words in response.json()["message"]
    call = Call.objects.get()
    assert call.status == "failed" and words in call.hangup_description
    assert not CallAction.objects.get().ok


def test_agent_without_a_line_is_told_whom_to_ask(client, connection, agent, admin_user):
    client.force_login(agent)
    response = client.post("/telephony/click-to-call/", {"number": "+919812345678"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 422 and f"Ask {admin_user}" in response.json()["message"]
    assert not Call.objects.exists()
    contact = ContactFactory(team=agent.teams.first()) if hasattr(Contact, "team") else ContactFactory()
    contact.phones.create(number="+919800000001", is_primary=True)
    page = client.get(contact.get_absolute_url()).content.decode()
    assert "no phone line on Smartflo" in page and "Call now" not in page


def test_invalid_number_and_foreign_caller_id_are_refused_before_smartflo(client, connection, agent, line):
    client.force_login(agent)
    with responses.RequestsMock():
        assert client.post("/telephony/click-to-call/", {"number": "12"}, HTTP_ACCEPT="application/json").status_code == 422
        r = client.post("/telephony/click-to-call/", {"number": "+919812345678", "caller_id": "+911111111111"}, HTTP_ACCEPT="application/json")
        assert r.status_code == 422 and "caller id" in r.json()["message"]


def test_button_on_contact_missed_call_and_calls_page_with_the_connections_numbers(client, connection, admin_user):
    AgentLine.objects.create(user=admin_user, extension="601")
    contact = ContactFactory()
    contact.phones.create(number="+919800000001", is_primary=True)
    client.force_login(admin_user)
    page = client.get(contact.get_absolute_url()).content.decode()
    assert 'action="/telephony/click-to-call/"' in page and '<option value="+918069000001">' in page
    CallFactory(connection=connection, customer_number="+919800000002", status="missed")
    assert "/telephony/click-to-call/" in client.get("/telephony/calls/").content.decode()


def test_no_button_without_a_smartflo_connection(client, admin_user):
    ConnectionFactory(provider="twilio", is_default=True)
    AgentLine.objects.create(user=admin_user, extension="601")
    contact = ContactFactory()
    contact.phones.create(number="+919800000001", is_primary=True)
    client.force_login(admin_user)
    assert "click-to-call" not in client.get(contact.get_absolute_url()).content.decode()


def test_form_post_without_javascript_flashes_and_goes_back(client, connection, agent):
    client.force_login(agent)
    response = client.post("/telephony/click-to-call/", {"number": "+919812345678", "next": "/contacts/"})
    assert response.status_code == 302 and response["Location"] == "/contacts/"
    assert client.post("/telephony/click-to-call/", {"number": "1", "next": "//evil.test/"})["Location"] == "/telephony/calls/"
