"""Agents on the phone: Smartflo's users matched to ours with a review step; a user's own line."""

import pytest
import responses

from telephony.models import AgentLine
from tests.factories import UserFactory
from tests.telephony.factories import ConnectionFactory

USERS_URL = "https://smartflo.test/v1/users"
SMARTFLO_USERS = {"data": [
    {"name": "Someone Else", "email": "RAHUL@example.com", "agent": {"id": "05000001", "extension": "601"}},
    {"name": "Ananya Rao", "follow_me_number": "919845000002", "agent": {"id": "05000002"}},
    {"name": "vikram", "agent_id": "05000003", "extension": "603"},
    {"name": "Stranger", "agent": {"id": "05000009"}},
]}


@pytest.fixture
def people(db):
    return {
        "rahul": UserFactory(username="rahul", first_name="Rahul", email="rahul@example.com"),
        "ananya": UserFactory(username="ananya", first_name="Ananya", phone="+919845000002"),
        "vikram": UserFactory(username="vikram", first_name="Vikram", last_name="S"),
    }


@responses.activate
def test_review_proposes_matches_by_email_phone_and_name_and_saves_nothing(client, admin_user, people):
    responses.get(USERS_URL, json=SMARTFLO_USERS)
    connection = ConnectionFactory()
    client.force_login(admin_user)
    page = client.get(f"/telephony/connections/{connection.pk}/agents/")
    assert page.status_code == 200
    reasons = [(p.agent.agent_id, p.user and p.user.username, p.reason) for p in page.context["proposals"]]
    assert reasons == [("05000001", "rahul", "email"), ("05000002", "ananya", "phone"), ("05000003", "vikram", "name"),
                       ("05000009", None, "")]
    assert not AgentLine.objects.exists()


@responses.activate
def test_only_confirmed_rows_are_saved_with_the_users_the_admin_chose(client, admin_user, people):
    connection = ConnectionFactory()
    client.force_login(admin_user)
    post = {"count": 3,
            "row-0-confirm": "1", "row-0-user": people["rahul"].pk, "row-0-agent_id": "05000001", "row-0-extension": "601", "row-0-mobile": "",
            "row-1-user": people["ananya"].pk, "row-1-agent_id": "05000002",  # not confirmed
            "row-2-confirm": "1", "row-2-user": people["ananya"].pk, "row-2-agent_id": "05000003", "row-2-mobile": "09845000003"}
    response = client.post(f"/telephony/connections/{connection.pk}/agents/", post)
    assert response.status_code == 302
    lines = {line.user.username: (line.agent_id, line.extension, line.mobile) for line in AgentLine.objects.all()}
    assert lines == {"rahul": ("05000001", "601", ""), "ananya": ("05000003", "", "+919845000003")}


def test_agent_import_is_for_admins(client, supervisor, agent):
    connection = ConnectionFactory()
    for user in (supervisor, agent):
        client.force_login(user)
        assert client.get(f"/telephony/connections/{connection.pk}/agents/").status_code == 403
        assert client.post(f"/telephony/connections/{connection.pk}/agents/", {"count": 0}).status_code == 403


@responses.activate
def test_smartflo_refusal_is_said_in_words(client, admin_user):
    responses.get(USERS_URL, json={"message": "nope"}, status=403)
    client.force_login(admin_user)
    page = client.get(f"/telephony/connections/{ConnectionFactory().pk}/agents/")
    assert "no permission for agents" in page.content.decode()


def test_user_edits_their_own_line_on_their_profile(client, agent):
    client.force_login(agent)
    assert client.get("/telephony/me/").status_code == 200
    response = client.post("/telephony/me/", {"agent_id": "05000007", "extension": "607", "mobile": "098450 00007"})
    assert response.status_code == 302
    line = AgentLine.objects.get(user=agent)
    assert (line.agent_id, line.extension, line.mobile) == ("05000007", "607", "+919845000007")


def test_profile_refuses_a_bad_mobile_and_someone_elses_agent_id(client, agent, teammate):
    AgentLine.objects.create(user=teammate, agent_id="05000001")
    client.force_login(agent)
    assert client.post("/telephony/me/", {"mobile": "not a phone"}).status_code == 422
    response = client.post("/telephony/me/", {"agent_id": "05000001"})
    assert response.status_code == 422 and "ask an admin" in response.content.decode()
    assert client.post("/telephony/me/", {"agent_id": "abc"}).status_code == 422
    assert not AgentLine.objects.filter(user=agent).exists()
