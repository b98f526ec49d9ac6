"""Finding 15: the contacts API keeps the form's rules: owners an agent may pick, and no names of
contacts the agent cannot see in a phone clash."""

from tests.factories import ContactFactory, ContactPhoneFactory


def test_an_agent_cannot_make_another_teams_agent_the_owner(api, agent, other_agent, teammate):
    client = api(agent)
    response = client.post("/api/contacts/", {"name": "Meera", "owner": other_agent.pk}, format="json")
    assert response.status_code == 400 and "owner" in response.json()
    assert client.post("/api/contacts/", {"name": "Meera", "owner": teammate.pk}, format="json").status_code == 201

    mine = ContactFactory(owner=agent)
    response = client.patch(f"/api/contacts/{mine.pk}/", {"owner": other_agent.pk}, format="json")
    assert response.status_code == 400
    mine.refresh_from_db()
    assert mine.owner == agent


def test_a_supervisor_may_pick_anyone(api, supervisor, other_agent):
    response = api(supervisor).post("/api/contacts/", {"name": "Meera", "owner": other_agent.pk}, format="json")
    assert response.status_code == 201


def test_a_phone_clash_does_not_name_a_contact_the_agent_cannot_see(api, agent, other_agent):
    hidden = ContactFactory(name="Secret Customer", owner=other_agent)
    ContactPhoneFactory(contact=hidden, number="+919812345678")
    response = api(agent).post("/api/contacts/", {"name": "X", "phones": ["09812345678"]}, format="json")
    assert response.status_code == 400
    assert "Secret Customer" not in response.content.decode()
    assert "cannot see" in str(response.json()["phones"])


def test_a_phone_clash_names_a_visible_contact(api, agent):
    visible = ContactFactory(name="Known Customer", owner=agent)
    ContactPhoneFactory(contact=visible, number="+919812345678")
    response = api(agent).post("/api/contacts/", {"name": "X", "phones": ["09812345678"]}, format="json")
    assert "Known Customer" in str(response.json()["phones"])


def test_the_form_still_refuses_a_foreign_owner(logged_in, agent, other_agent):
    response = logged_in(agent).post("/contacts/new/", {"name": "Meera", "phones": "", "owner": other_agent.pk})
    assert response.status_code == 200 and b"Select a valid choice" in response.content
