"""Who may open each of telephony part 2's routes (anonymous, agent, supervisor, admin)."""

import pytest

from telephony.models import AgentLine
from tests.telephony.factories import CallFactory, ConnectionFactory


@pytest.fixture
def setup(db, other_agent, monkeypatch):
    from telephony import live

    monkeypatch.setattr(live, "poll_due", lambda **kwargs: [])
    connection = ConnectionFactory(is_default=True)
    foreign = CallFactory(connection=connection, agent=other_agent, status="in_progress", provider_call_id="9.9")
    return connection, foreign


def routes(connection, foreign):
    # (method, url, {role: expected status})
    return [
        ("get", "/telephony/me/", {"agent": 200, "supervisor": 200, "admin": 200}),
        ("get", f"/telephony/connections/{connection.pk}/agents/", {"agent": 403, "supervisor": 403}),
        ("get", "/telephony/live/", {"agent": 403, "supervisor": 200, "admin": 200}),
        ("get", "/telephony/live/rows/", {"agent": 403, "supervisor": 200, "admin": 200}),
        ("post", "/telephony/watch/", {"agent": 200, "supervisor": 200, "admin": 200}),
        ("post", "/telephony/click-to-call/", {"agent": 302, "supervisor": 302, "admin": 302}),
        # A call the agent may not see is a 404 to them, whatever the route.
        ("get", f"/telephony/calls/{foreign.pk}/state/", {"agent": 404, "supervisor": 200, "admin": 200}),
        ("get", f"/telephony/calls/{foreign.pk}/pop/", {"agent": 404, "supervisor": 200, "admin": 200}),
        ("post", f"/telephony/calls/{foreign.pk}/action/", {"agent": 404, "supervisor": 302, "admin": 302}),
    ]


def test_anonymous_is_sent_to_login_everywhere(client, setup):
    for method, url, _ in routes(*setup):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_each_role_gets_what_the_matrix_says(client, setup, agent, supervisor, admin_user):
    users = {"agent": agent, "supervisor": supervisor, "admin": admin_user}
    AgentLine.objects.create(user=agent, agent_id="05000001")
    for role, user in users.items():
        client.force_login(user)
        for method, url, expected in routes(*setup):
            if role in expected:
                assert getattr(client, method)(url).status_code == expected[role], (role, url)
