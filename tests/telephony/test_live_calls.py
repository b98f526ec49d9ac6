"""Live calls for supervisors: one poll per watched account, pushed to staff; monitor, whisper,
barge (as the supervisor's own agent id), transfer and hang up, each audited; screen pop."""

import json

import pytest
import responses
from django.core.cache import cache

from telephony import live
from telephony.models import AgentLine, Call, CallAction
from tests.factories import ContactFactory
from tests.telephony.factories import CallFactory, ConnectionFactory

LIVE = "https://smartflo.test/v1/live_calls"
OPTIONS = "https://smartflo.test/v1/call/options"
HANGUP = "https://smartflo.test/v1/call/hangup"
ROWS = {"data": [{"call_id": "1700.1", "state": "Answered", "customer_number": "919812345678", "agent_number": "05000001",
                  "agent_name": "Rahul", "call_time": "2026-12-02 12:00:00", "direction": "inbound"}]}


@pytest.fixture
def connection(db):
    return ConnectionFactory(is_default=True)


@pytest.fixture
def live_call(connection, agent):
    AgentLine.objects.create(user=agent, agent_id="05000001")
    return CallFactory(connection=connection, provider_call_id="1700.1", status="in_progress", agent=agent)


@responses.activate
def test_one_poll_per_interval_per_account_and_none_when_nobody_watches(connection):
    responses.get(LIVE, json=ROWS)
    assert live.poll_due() == []  # nobody watches, no pending click-to-call
    live.watch(connection)
    assert live.poll_due() == [str(connection.pk)]
    assert live.poll_due() == []  # within the interval: the gate holds, whatever the number of pages
    assert len(responses.calls) == 1
    cache.delete(f"telephony:live:gate:{connection.pk}")
    assert live.poll_due() == [str(connection.pk)]


@responses.activate
def test_a_pending_click_to_call_keeps_its_account_polled(connection, agent):
    responses.get(LIVE, json={"data": []})
    CallFactory(connection=connection, provider_call_id="", status="requested", agent=agent)
    assert live.poll_due() == [str(connection.pk)]


@responses.activate
def test_poll_creates_live_inbound_calls_and_pushes_to_staff(connection, agent, published):
    AgentLine.objects.create(user=agent, agent_id="05000001")
    responses.get(LIVE, json=ROWS)
    live.poll(connection)
    call = Call.objects.get(provider_call_id="1700.1")
    assert (call.status, call.agent, call.customer_number) == ("in_progress", agent, "+919812345678")
    assert call.contact is not None
    assert ("calls.live", {"connection": str(connection.pk), "calls": [call.pk]}, {"staff"}) in published
    assert any(event == "call.screen_pop" and groups == {f"user.{agent.pk}"} for event, _, groups in published)


@responses.activate
def test_live_page_for_supervisors_only_lists_the_snapshot(client, connection, supervisor, agent, live_call):
    responses.get(LIVE, json=ROWS)
    live.poll(connection)
    client.force_login(supervisor)
    page = client.get("/telephony/live/").content.decode()
    assert 'id="live-calls"' in page and "+919812345678" in page and 'data-since="2026-12-02T12:00:00+05:30"' in page
    assert "Barge" in page and "Transfer" in page
    assert cache.get(live.watch_key(connection.pk))  # the page marks the account watched
    assert client.get("/telephony/live/rows/").status_code == 200
    client.force_login(agent)
    assert client.get("/telephony/live/").status_code == 403
    assert client.get("/telephony/live/rows/").status_code == 403


@pytest.mark.parametrize(("kind", "body"), [
    ("monitor", {"type": "1", "call_id": "1700.1", "agent_id": "05000009"}),
    ("whisper", {"type": "2", "call_id": "1700.1", "agent_id": "05000009"}),
    ("barge", {"type": "3", "call_id": "1700.1", "agent_id": "05000009"}),
])
@responses.activate
def test_supervisor_acts_as_their_own_agent_id_and_it_is_audited(client, supervisor, live_call, kind, body):
    AgentLine.objects.create(user=supervisor, agent_id="05000009")
    responses.post(OPTIONS, json={"success": True, "message": "Operation successful"})
    client.force_login(supervisor)
    response = client.post(f"/telephony/calls/{live_call.pk}/action/", {"kind": kind}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["ok"]
    assert json.loads(responses.calls[0].request.body) == body
    action = CallAction.objects.get()
    assert (action.kind, action.by, action.target, action.ok, action.result) == (kind, supervisor, "05000009", True, "Operation successful")
    page = client.get(live_call.get_absolute_url()).content.decode()
    assert 'id="call-actions"' in page and "Operation successful" in page


@pytest.mark.parametrize("intercom", ["9196123983", "0602123700", "80124"])
@responses.activate
def test_transfer_to_mobile_extension_or_department(client, supervisor, live_call, intercom):
    responses.post(OPTIONS, json={"success": True})
    client.force_login(supervisor)
    client.post(f"/telephony/calls/{live_call.pk}/action/", {"kind": "transfer", "intercom": intercom})
    assert json.loads(responses.calls[0].request.body) == {"type": "4", "call_id": "1700.1", "intercom": intercom}
    assert CallAction.objects.get().target == intercom


@responses.activate
def test_hang_up_and_refusals_are_audited_too(client, supervisor, live_call):
    responses.post(HANGUP, json={"success": False, "message": "Call not found"})
    client.force_login(supervisor)
    response = client.post(f"/telephony/calls/{live_call.pk}/action/", {"kind": "hangup"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 422 and "Call not found" in response.json()["message"]
    assert json.loads(responses.calls[0].request.body) == {"call_id": "1700.1"}
    action = CallAction.objects.get()
    assert (action.kind, action.ok) == ("hangup", False)


def test_barge_without_own_agent_id_and_agents_cannot_act(client, supervisor, agent, live_call, teammate):
    client.force_login(supervisor)
    with responses.RequestsMock():
        response = client.post(f"/telephony/calls/{live_call.pk}/action/", {"kind": "barge"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 422 and "your own Smartflo agent id" in response.json()["message"]
    other = CallFactory(connection=live_call.connection, provider_call_id="1700.2", status="in_progress", agent=teammate)
    client.force_login(agent)
    response = client.post(f"/telephony/calls/{other.pk}/action/", {"kind": "barge"}, HTTP_ACCEPT="application/json")
    assert response.status_code in (404, 422) and not CallAction.objects.filter(kind="barge", ok=True).exists()


def test_an_ended_call_takes_no_action(client, supervisor, connection):
    call = CallFactory(connection=connection, status="answered")
    client.force_login(supervisor)
    response = client.post(f"/telephony/calls/{call.pk}/action/", {"kind": "hangup"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 422 and "not live" in response.json()["message"]


def test_screen_pop_card_known_contact_and_new_number(client, connection, agent):
    contact = ContactFactory(name="Meera Iyer")
    contact.phones.create(number="+919812345678", is_primary=True)
    earlier = CallFactory(connection=connection, contact=contact, agent=agent, status="missed")
    ringing = CallFactory(connection=connection, contact=contact, agent=agent, status="ringing")
    client.force_login(agent)
    card = client.get(f"/telephony/calls/{ringing.pk}/pop/").content.decode()
    assert "Meera Iyer" in card and earlier.get_absolute_url() in card and "Open contact" in card
    stranger = ContactFactory(name="")
    stranger.phones.create(number="+919800000077", is_primary=True)
    fresh = CallFactory(connection=connection, contact=stranger, agent=agent, customer_number="+919800000077", status="ringing")
    card = client.get(f"/telephony/calls/{fresh.pk}/pop/").content.decode()
    assert "New number" in card and "Create contact" in card


def test_presence_of_an_agent_with_a_line_watches_the_account(client, connection, agent, teammate, monkeypatch):
    monkeypatch.setattr(live, "poll_due", lambda **kwargs: [])
    client.force_login(teammate)  # no phone line: nothing to pop up for them
    client.post("/telephony/watch/")
    assert not cache.get(live.watch_key(connection.pk))
    AgentLine.objects.create(user=agent, agent_id="05000001")
    client.force_login(agent)
    assert client.post("/telephony/watch/").status_code == 200
    assert cache.get(live.watch_key(connection.pk))
