"""POST/GET/PATCH/DELETE /api/v2/telephony/connections in the reference's shape; every rule; secrets
never in a response, the admin page or a log line."""

import logging

import pytest

from telephony.models import TelephonyConnection

pytestmark = pytest.mark.django_db
URL = "/api/v2/telephony/connections"

VALID = {
    "twilio": {"account_sid": "AC123", "auth_token": "tw-secret-1", "from_number": "+14155550100"},
    "exotel": {"account_sid": "exo", "api_key": "exo-key-secret", "auth_token": "exo-secret-2", "subdomain": "api.exotel.com", "caller_id": "08069000000"},
    "plivo": {"auth_id": "MA123", "auth_token": "plivo-secret-3", "from_number": "+918069000001"},
    "vobiz": {"account_sid": "VB1", "auth_token": "vobiz-secret-4", "from_number": "+918069000002"},
    "tata_smartflo": {"tata_email": "ops@example.com", "tata_password": "smartflo-secret-5", "auth_token": "eyJ.token-secret-6", "api_key": "c2c-secret-7"},
    "sip": {"sip_host": "sip.carrier.in", "did_number": "+918069000003", "outbound_username": "u", "outbound_password": "sip-secret-8",
            "source_ips": ["203.0.113.0/24"], "sip_transport": "TLS"},
    "voicelink": {"username": "vl", "password": "voicelink-secret-9", "did_number": "+918069000004", "base_url": "https://voicelink.example.in/api"},
    "mcube": {"jwt_token": "mcube-secret-10", "exe_number": "9876543232"},
}
SECRETS = ["tw-secret-1", "exo-key-secret", "exo-secret-2", "plivo-secret-3", "vobiz-secret-4", "smartflo-secret-5", "eyJ.token-secret-6",
           "c2c-secret-7", "sip-secret-8", "voicelink-secret-9", "mcube-secret-10"]


@pytest.fixture
def admin_api(api, admin_user):
    return api(admin_user)


@pytest.mark.parametrize("provider", list(VALID))
def test_create_each_provider_in_the_reference_shape(admin_api, provider, caplog):
    with caplog.at_level(logging.DEBUG):
        response = admin_api.post(URL, {"provider": provider, "name": f"{provider} line", **VALID[provider]}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["success"] is True
    connection = body["data"]["connection"]
    assert set(connection) >= {"id", "connection_id", "provider", "provider_key", "name", "status", "is_default", "phone_numbers"}
    assert connection["id"] == connection["connection_id"] and connection["provider"] == provider
    assert connection["provider_key"] == provider.upper() and connection["status"] == "ACTIVE" and connection["is_default"] is True
    for secret in SECRETS:
        assert secret not in response.content.decode() and secret not in caplog.text
    assert f"created" in caplog.text


def test_mcube_exe_number_becomes_the_default_phone_number(admin_api):
    response = admin_api.post(URL, {"provider": "mcube", "name": "M", **VALID["mcube"]}, format="json")
    assert response.json()["data"]["connection"]["phone_numbers"] == ["+919876543232"]


def test_secrets_are_encrypted_at_rest(admin_api):
    from django.db import connection as db

    admin_api.post(URL, {"provider": "twilio", "name": "T", **VALID["twilio"]}, format="json")
    with db.cursor() as cursor:
        cursor.execute("SELECT auth_token FROM telephony_telephonyconnection")
        stored = cursor.fetchone()[0]
    assert stored.startswith("fernet:") and "tw-secret-1" not in stored
    assert TelephonyConnection.objects.get().auth_token == "tw-secret-1"


@pytest.mark.parametrize("provider, missing", [
    ("twilio", "account_sid"), ("twilio", "auth_token"), ("twilio", "from_number"),
    ("exotel", "api_key"), ("exotel", "subdomain"), ("exotel", "caller_id"),
    ("plivo", "auth_id"), ("vobiz", "auth_token"),
    ("tata_smartflo", "tata_email"), ("tata_smartflo", "tata_password"),
    ("sip", "sip_host"), ("sip", "did_number"),
    ("voicelink", "username"), ("voicelink", "password"), ("voicelink", "did_number"),
    ("mcube", "jwt_token"), ("mcube", "exe_number"),
])
def test_each_provider_requires_its_fields(admin_api, provider, missing):
    body = {"provider": provider, "name": "x", **VALID[provider]}
    body.pop(missing)
    response = admin_api.post(URL, body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    field = "account_sid" if missing == "auth_id" else missing
    assert response.json()["success"] is False and field in error["fields"]


@pytest.mark.parametrize("field, value", [
    ("name", ""), ("name", "x" * 101), ("name", 5),
    ("from_number", "08069000000"), ("from_number", "+0123456789"), ("from_number", "+12345"), ("from_number", "+1234567890123456"),
    ("did_number", "918069000000"), ("exe_number", "123"), ("exe_number", "98765-43232"), ("exe_number", "1" * 16),
    ("sip_transport", "SCTP"), ("base_url", "not a url"), ("base_url", "ftp://x.in"),
    ("tata_email", "not-an-email"), ("source_ips", "203.0.113.1"), ("auth_token", 12345), ("unknown_field", "x"),
])
def test_every_validation_rule(admin_api, field, value):
    provider = {"from_number": "twilio", "did_number": "sip", "exe_number": "mcube", "sip_transport": "sip", "base_url": "voicelink",
                "tata_email": "tata_smartflo", "source_ips": "sip"}.get(field, "twilio")
    body = {"provider": provider, "name": "ok", **VALID[provider], field: value}
    response = admin_api.post(URL, body, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["fields"], response.content


@pytest.mark.parametrize("value", ["+14155550100", "+9198123456789"])
def test_e164_accepted(admin_api, value):
    assert admin_api.post(URL, {"provider": "twilio", "name": "ok", **VALID["twilio"], "from_number": value}, format="json").status_code == 201


def test_unknown_provider(admin_api):
    response = admin_api.post(URL, {"provider": "skype", "name": "x"}, format="json")
    assert response.status_code == 400 and "provider" in response.json()["error"]["fields"]


def test_masked_smartflo_token_is_refused(admin_api):
    response = admin_api.post(URL, {"provider": "tata_smartflo", "name": "x", **VALID["tata_smartflo"], "auth_token": "eyJ****abcd"}, format="json")
    assert response.status_code == 400 and "masked" in response.json()["error"]["fields"]["auth_token"][0]


def test_list_get_update_default_delete(admin_api):
    first = admin_api.post(URL, {"provider": "twilio", "name": "One", **VALID["twilio"]}, format="json").json()["data"]["connection"]
    second = admin_api.post(URL, {"provider": "mcube", "name": "Two", **VALID["mcube"]}, format="json").json()["data"]["connection"]
    assert first["is_default"] and not second["is_default"]
    listed = admin_api.get(URL).json()["data"]["connections"]
    assert {c["name"] for c in listed} == {"One", "Two"}
    for secret in SECRETS:
        assert secret not in str(listed)
    got = admin_api.get(f"{URL}/{second['id']}").json()["data"]["connection"]
    assert got["name"] == "Two"
    patched = admin_api.patch(f"{URL}/{second['id']}", {"name": "Two renamed", "jwt_token": "new-mcube-secret"}, format="json")
    assert patched.status_code == 200 and "new-mcube-secret" not in patched.content.decode()
    assert TelephonyConnection.objects.get(pk=second["id"]).jwt_token == "new-mcube-secret"
    assert admin_api.patch(f"{URL}/{second['id']}", {"exe_number": "x"}, format="json").status_code == 400
    assert admin_api.patch(f"{URL}/{second['id']}", {"provider": "twilio"}, format="json").status_code == 400
    made = admin_api.post(f"{URL}/{second['id']}/default").json()["data"]["connection"]
    assert made["is_default"] and not TelephonyConnection.objects.get(pk=first["id"]).is_default
    assert admin_api.delete(f"{URL}/{second['id']}").json()["success"] is True
    assert TelephonyConnection.objects.get(pk=first["id"]).is_default  # the default passes on
    assert admin_api.get(f"{URL}/{second['id']}").status_code == 404


def test_update_keeps_required_secrets_already_stored(admin_api):
    created = admin_api.post(URL, {"provider": "twilio", "name": "One", **VALID["twilio"]}, format="json").json()["data"]["connection"]
    assert admin_api.patch(f"{URL}/{created['id']}", {"name": "Renamed"}, format="json").status_code == 200


def test_only_admins(api, agent, supervisor):
    assert api().get(URL).status_code in (401, 403)
    for user in (agent, supervisor):
        client = api(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"provider": "twilio", "name": "x", **VALID["twilio"]}, format="json").status_code == 403
    assert not TelephonyConnection.objects.exists()


def test_trailing_slash_also_works(admin_api):
    assert admin_api.get(URL + "/").status_code == 200


def test_admin_page_masks_secrets(admin_api, logged_in, admin_user):
    created = admin_api.post(URL, {"provider": "tata_smartflo", "name": "T", **VALID["tata_smartflo"]}, format="json").json()["data"]["connection"]
    page = logged_in(admin_user).get(f"/admin/telephony/telephonyconnection/{created['id']}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    for secret in SECRETS:
        assert secret not in html
    assert "stored: ••••••••" in html and "/telephony/status/" in html


def test_a_personal_api_key_works_for_an_admin_and_is_refused_for_an_agent(admin_user, agent):
    """Authorization: Bearer smp_live_… (accounts.api_keys): the key acts as its owner, so the owner's
    role decides (admins only)."""
    from rest_framework.test import APIClient

    from accounts import api_keys

    admin_key, agent_key = api_keys.create(admin_user, name="bridge")[1], api_keys.create(agent, name="mine")[1]
    assert admin_key.startswith("smp_live_")
    as_admin = APIClient(HTTP_AUTHORIZATION=f"Bearer {admin_key}")
    created = as_admin.post(URL, {"provider": "plivo", "name": "Plivo line", **VALID["plivo"]}, format="json")
    assert created.status_code == 201, created.content
    assert as_admin.get(URL).status_code == 200
    assert "plivo-secret-3" not in as_admin.get(URL).content.decode()

    as_agent = APIClient(HTTP_AUTHORIZATION=f"Bearer {agent_key}")
    listed = as_agent.get(URL)
    assert listed.status_code == 403 and "Plivo line" not in listed.content.decode()
    pk = created.json()["data"]["connection"]["id"]
    assert as_agent.delete(f"{URL}/{pk}").status_code == 403
    assert TelephonyConnection.objects.filter(pk=pk).exists()
    assert APIClient(HTTP_AUTHORIZATION="Bearer smp_live_not-a-key").get(URL).status_code == 401
