"""Finding 20 (API keys replace DRF's plain-text tokens) and finding 13 (sign-in throttling)."""

import hashlib

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import api_keys, throttle
from accounts.models import ApiKey


ADDRESSES = ["127.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.9", "10.0.0.10", "10.1.1.1", "10.1.1.2"]
ACCOUNTS = [None, "rahul", "asha", *(f"user{n}" for n in range(50))]


@pytest.fixture(autouse=True)
def _fresh_counters():
    """Only the counters these tests touch (never cache.clear(): on Redis that flushes the whole database)."""

    def forget():
        from types import SimpleNamespace

        for address in ADDRESSES:
            request = SimpleNamespace(META={"REMOTE_ADDR": address})
            cache.delete_many([key for account in ACCOUNTS for key, _ in throttle._keys(request, account)])

    forget()
    yield
    forget()


def _bearer(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_a_key_is_shown_once_and_stored_only_as_its_hash(logged_in, agent):
    client = logged_in(agent)
    response = client.post(reverse("accounts:api_keys"), {"name": "telephony bridge"})
    page = response.content.decode()
    key = page.split('id="new-api-key" value="')[1].split('"')[0]
    assert key.startswith("smp_live_") and len(key) >= 50 and response["Cache-Control"] == "no-store"
    stored = ApiKey.objects.get(user=agent)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest() and key not in str(ApiKey.objects.values().get())
    assert key not in client.get(reverse("accounts:api_keys")).content.decode()  # never shown again
    assert stored.masked in client.get(reverse("accounts:api_keys")).content.decode()


def test_the_whole_api_accepts_bearer_keys_and_records_their_use(agent):
    row, key = api_keys.create(agent, name="script")
    client = _bearer(key)
    for url in ("/api/contacts/", "/api/conversations/", "/api/channels/", "/api/labels/"):
        assert client.get(url).status_code == 200, url
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_bad_or_revoked_keys_get_401_with_a_bearer_challenge(agent, other_agent):
    row, key = api_keys.create(agent, name="script")
    response = _bearer("smp_live_" + "x" * 43).get("/api/contacts/")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    api_keys.revoke(row, by=agent)
    assert _bearer(key).get("/api/contacts/").status_code == 401
    agent.is_active = False
    agent.save()
    _, second = api_keys.create(agent, name="again")
    assert _bearer(second).get("/api/contacts/").status_code == 401


def test_users_revoke_only_their_own_keys(logged_in, agent, other_agent, admin_user):
    theirs, _ = api_keys.create(other_agent, name="theirs")
    assert logged_in(agent).post(reverse("accounts:revoke_api_key", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
    mine, key = api_keys.create(agent, name="mine")
    logged_in(agent).post(reverse("accounts:revoke_api_key", args=[mine.pk]))
    assert _bearer(key).get("/api/contacts/").status_code == 401


def test_admin_lists_keys_masked(admin_client, agent):
    row, key = api_keys.create(agent, name="script")
    page = admin_client.get(reverse("admin:accounts_apikey_changelist")).content.decode()
    assert row.masked in page and key not in page and row.key_hash not in page
    assert key not in admin_client.get(reverse("admin:accounts_apikey_change", args=[row.pk])).content.decode()


def test_the_schema_describes_bearer_keys(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http", "scheme": "bearer", "description": "A personal API key (smp_live_…) from /accounts/api-keys/."
    }


def test_drf_tokens_are_gone(db):
    from django.conf import settings

    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS
    assert "authtoken_token" not in connection.introspection.table_names()


# ---------------------------------------------------------------- finding 13: throttling


def test_login_page_locks_an_account_after_repeated_failures(client, agent, password, settings):
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        response = client.post("/accounts/login/", {"username": "rahul", "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
        assert b"do not match" in response.content
    # Even the right password, from another address, waits now.
    response = client.post("/accounts/login/", {"username": "RAHUL", "password": password}, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 200 and b"Too many failed sign-ins" in response.content
    response = client.post("/accounts/login/", {"username": "rahul", "password": password}, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_login_page_locks_an_address_guessing_many_accounts(client, agent, password, settings):
    for number in range(settings.LOGIN_FAILURES_PER_ADDRESS):
        client.post("/accounts/login/", {"username": f"user{number}", "password": "x"}, REMOTE_ADDR="10.0.0.9")
    response = client.post("/accounts/login/", {"username": "rahul", "password": password}, REMOTE_ADDR="10.0.0.9")
    assert b"Too many failed sign-ins" in response.content
    response = client.post("/accounts/login/", {"username": "rahul", "password": password}, REMOTE_ADDR="10.0.0.10")
    assert response.status_code == 302  # another address, an account with no failures: fine


def test_a_success_clears_the_accounts_count(client, agent, password, settings):
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT - 1):
        client.post("/accounts/login/", {"username": "rahul", "password": "wrong"})
    assert client.post("/accounts/login/", {"username": "rahul", "password": password}).status_code == 302
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "rahul", "password": "wrong"})
    assert client.post("/accounts/login/", {"username": "rahul", "password": password}).status_code == 302


def test_admin_login_is_throttled_too(client, admin_user, password, settings):
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        client.post("/admin/login/", {"username": admin_user.username, "password": "wrong"})
    response = client.post("/admin/login/?next=/admin/", {"username": admin_user.username, "password": password})
    assert response.status_code == 200 and b"Too many failed sign-ins" in response.content


def test_api_key_guessing_is_throttled_per_address(agent, settings):
    _, key = api_keys.create(agent, name="script")
    for _ in range(settings.LOGIN_FAILURES_PER_ADDRESS):
        assert _bearer("smp_live_guess").get("/api/contacts/", REMOTE_ADDR="10.1.1.1").status_code == 401
    assert _bearer(key).get("/api/contacts/", REMOTE_ADDR="10.1.1.1").status_code == 429
    assert _bearer(key).get("/api/contacts/", REMOTE_ADDR="10.1.1.2").status_code == 200
