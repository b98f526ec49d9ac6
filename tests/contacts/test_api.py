from django.core.management import call_command
from rest_framework.test import APIClient

from contacts.models import Contact
from tests.factories import ContactFactory, ContactPhoneFactory, LabelFactory


def test_api_needs_auth(db):
    assert APIClient().get("/api/contacts/").status_code in (401, 403)


def test_api_key_from_the_management_command(agent, capsys):
    call_command("create_api_key", agent.username)
    key = capsys.readouterr().out.strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/contacts/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Bearer smp_live_wrong")
    assert client.get("/api/contacts/").status_code == 401


def test_create_normalises_phones_and_reports_errors(api, agent):
    client = api(agent)
    LabelFactory(name="VIP")
    response = client.post(
        "/api/contacts/", {"name": "Meera", "phones": ["09812345678"], "labels": ["VIP"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["phones"] == ["+919812345678"] and response.json()["labels"] == ["VIP"]
    response = client.post("/api/contacts/", {"name": "X", "phones": ["+91 98123 45678"]}, format="json")
    assert response.status_code == 400 and "already belongs" in str(response.json()["phones"])
    response = client.post("/api/contacts/", {"name": "X", "phones": ["123"]}, format="json")
    assert response.status_code == 400 and "not a valid phone number" in str(response.json())


def test_list_search_and_visibility(api, agent, other_agent):
    mine = ContactFactory(name="Meera", owner=agent)
    ContactPhoneFactory(contact=mine, number="+919812345678")
    ContactFactory(name="Hidden", owner=other_agent)
    data = api(agent).get("/api/contacts/", {"q": "919812345678"}).json()
    assert [c["name"] for c in data["results"]] == ["Meera"]
    assert [c["name"] for c in api(agent).get("/api/contacts/").json()["results"]] == ["Meera"]


def test_patch_keeps_unsent_fields(api, agent):
    contact = ContactFactory(name="Meera", email="m@example.in")
    ContactPhoneFactory(contact=contact, number="+919812345678")
    response = api(agent).patch(f"/api/contacts/{contact.pk}/", {"name": "Meera I"}, format="json")
    assert response.status_code == 200
    assert response.json()["phones"] == ["+919812345678"] and response.json()["email"] == "m@example.in"


def test_notes_and_role_limited_actions(api, agent, supervisor, admin_user):
    a, b = ContactFactory(name="A"), ContactFactory(name="B")
    response = api(agent).post(f"/api/contacts/{a.pk}/notes/", {"body": "hello"}, format="json")
    assert response.status_code == 201 and response.json()["author"] == str(agent)
    forbidden = api(agent).post(f"/api/contacts/{a.pk}/merge/", {"duplicate": b.pk}, format="json")
    assert forbidden.status_code == 403 and "supervisors" in forbidden.json()["detail"]
    assert api(agent).delete(f"/api/contacts/{a.pk}/").status_code == 403
    assert api(supervisor).post(f"/api/contacts/{a.pk}/merge/", {"duplicate": b.pk}, format="json").status_code == 200
    assert api(admin_user).delete(f"/api/contacts/{a.pk}/").status_code == 204
    assert not Contact.objects.exists()


def test_openapi_schema_and_swagger_ui(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/contacts/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
