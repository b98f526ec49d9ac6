"""Every Smartflo request the client makes, and every error class, pinned with `responses`."""

import datetime
import json

import pytest
import requests
import responses

from telephony.providers import smartflo

BASE = "https://smartflo.test"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.real-token"


def client(**kwargs):
    kwargs.setdefault("token", TOKEN)
    return smartflo.SmartfloClient(base_url=BASE, sleep=lambda seconds: None, **kwargs)


@pytest.mark.parametrize("pasted", [TOKEN, f"Bearer {TOKEN}", f"bearer  {TOKEN} ", f'"{TOKEN}"', f"Bearer={TOKEN}"])
def test_token_is_accepted_with_or_without_bearer(pasted):
    assert smartflo.clean_token(pasted) == TOKEN


@pytest.mark.parametrize("masked", ["eyJh****************9aB", "Bearer eyJ•••••••xyz", "abcd…wxyz"])
def test_masked_token_is_refused_before_any_request(masked):
    with responses.RequestsMock():  # any request would fail the test
        with pytest.raises(smartflo.MaskedToken, match="masked"):
            smartflo.SmartfloClient(base_url=BASE, token=masked)


def test_no_credentials_at_all():
    with pytest.raises(smartflo.AuthFailed):
        smartflo.SmartfloClient(base_url=BASE)


@responses.activate
def test_my_numbers_sends_the_bearer_token_and_reads_dids():
    responses.get(f"{BASE}/v1/my_number", json=[{"id": 7, "did": "918069000000", "name": "Sales line", "extra": 1}])
    numbers = client(token=f"Bearer {TOKEN}").my_numbers()
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert numbers[0]["number"] == "+918069000000" and numbers[0]["id"] == "7" and numbers[0]["raw"]["extra"] == 1


@responses.activate
def test_users_accepts_a_data_envelope():
    responses.get(f"{BASE}/v1/users", json={"data": [{"id": 1, "name": "Rahul", "agent_id": "05000001"}]})
    assert client().users() == [{"id": 1, "name": "Rahul", "agent_id": "05000001"}]


@responses.activate
def test_call_records_sends_ist_dates_page_and_capped_limit():
    responses.get(f"{BASE}/v1/call/records", json={"count": 1, "results": [{"call_id": "c1", "unknown_field": "kept"}]})
    start = datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    count, rows = client().call_records(start, start + datetime.timedelta(days=1), page=3, limit=1000, direction="inbound", agents="")
    params = responses.calls[0].request.params
    assert params == {"from_date": "2026-01-01 05:30:00", "to_date": "2026-01-02 05:30:00", "page": "3", "limit": "200", "direction": "inbound"}
    assert count == 1 and rows == [{"call_id": "c1", "unknown_field": "kept"}]


@responses.activate
def test_call_records_without_results_is_a_bad_response():
    responses.get(f"{BASE}/v1/call/records", json={"count": 0})
    with pytest.raises(smartflo.BadResponse):
        client().call_records(datetime.datetime.now(datetime.timezone.utc), datetime.datetime.now(datetime.timezone.utc))


@responses.activate
def test_login_posts_email_and_password_and_caches_the_token():
    seen = []
    responses.post(f"{BASE}/v1/auth/login", json={"access_token": "login-token", "expires_in": 3600})
    responses.get(f"{BASE}/v1/users", json=[])
    c = client(token="", email="ops@example.com", password="pw", on_token=seen.append)
    c.users()
    c.users()
    assert json.loads(responses.calls[0].request.body) == {"email": "ops@example.com", "password": "pw"}
    assert "Authorization" not in responses.calls[0].request.headers
    assert [call.request.url.split("?")[0] for call in responses.calls].count(f"{BASE}/v1/auth/login") == 1
    assert responses.calls[1].request.headers["Authorization"] == "Bearer login-token"
    assert seen and seen[0].access_token == "login-token"


@responses.activate
def test_cached_login_token_is_refreshed_before_expiry():
    responses.post(f"{BASE}/v1/auth/login", json={"access_token": "fresh", "expires_in": 3600})
    responses.get(f"{BASE}/v1/users", json=[])
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=2)
    client(token="", email="a@b.in", password="pw", cached=smartflo.LoginToken("old", soon)).users()
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer fresh"


@responses.activate
def test_login_token_is_renewed_once_on_401():
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    responses.get(f"{BASE}/v1/users", status=401, json={"message": "Token expired"})
    responses.post(f"{BASE}/v1/auth/login", json={"access_token": "renewed", "expires_in": 3600})
    responses.get(f"{BASE}/v1/users", json=[{"id": 1}])
    assert client(token="", email="a@b.in", password="pw", cached=smartflo.LoginToken("stale", later)).users() == [{"id": 1}]
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer renewed"


@responses.activate
def test_api_token_401_is_auth_failed_without_retry():
    responses.get(f"{BASE}/v1/users", status=401, json={"message": "Unauthenticated"})
    with pytest.raises(smartflo.AuthFailed, match="Unauthenticated") as caught:
        client().users()
    assert caught.value.retryable is False and len(responses.calls) == 1


@responses.activate
def test_login_refused():
    responses.post(f"{BASE}/v1/auth/login", status=401, json={"message": "Invalid credentials"})
    with pytest.raises(smartflo.AuthFailed, match="Invalid credentials"):
        client(token="", email="a@b.in", password="bad").login()


@responses.activate
def test_login_without_access_token_is_a_bad_response():
    responses.post(f"{BASE}/v1/auth/login", json={"success": True})
    with pytest.raises(smartflo.BadResponse):
        client(token="", email="a@b.in", password="pw").login()


@pytest.mark.parametrize(
    "status, error_class, retryable",
    [(400, smartflo.BadRequest, False), (422, smartflo.BadRequest, False), (403, smartflo.NoPermission, False),
     (404, smartflo.NotFound, False), (500, smartflo.ServerError, True), (503, smartflo.ServerError, True)],
)
@responses.activate
def test_error_classes(status, error_class, retryable):
    responses.get(f"{BASE}/v1/my_number", status=status, json={"success": False, "message": "told by Smartflo"})
    with pytest.raises(error_class, match="told by Smartflo") as caught:
        client().my_numbers()
    assert caught.value.retryable is retryable and caught.value.status_code == status


@responses.activate
def test_error_body_that_is_not_json_still_reads():
    responses.get(f"{BASE}/v1/my_number", status=502, body="<html>bad gateway</html>")
    with pytest.raises(smartflo.ServerError, match="HTTP 502"):
        client().my_numbers()


@responses.activate
def test_429_waits_retry_after_then_succeeds():
    waits = []
    responses.get(f"{BASE}/v1/users", status=429, headers={"Retry-After": "2"}, json={"message": "Too many requests"})
    responses.get(f"{BASE}/v1/users", json=[])
    assert smartflo.SmartfloClient(base_url=BASE, token=TOKEN, sleep=waits.append).users() == []
    assert waits == [2.0]


@responses.activate
def test_429_backs_off_then_gives_up_as_rate_limited():
    waits = []
    responses.get(f"{BASE}/v1/users", status=429, json={"message": "Too many requests"})
    with pytest.raises(smartflo.RateLimited) as caught:
        smartflo.SmartfloClient(base_url=BASE, token=TOKEN, sleep=waits.append).users()
    assert caught.value.retryable and waits == [2.0, 4.0, 8.0] and len(responses.calls) == 4


@responses.activate
def test_timeout_and_connection_errors_are_unreachable():
    responses.get(f"{BASE}/v1/users", body=requests.Timeout("slow"))
    with pytest.raises(smartflo.Unreachable) as caught:
        client().users()
    assert caught.value.retryable
    responses.replace(responses.GET, f"{BASE}/v1/users", body=requests.ConnectionError("refused"))
    with pytest.raises(smartflo.Unreachable):
        client().users()


@responses.activate
def test_success_that_is_not_json_is_a_bad_response():
    responses.get(f"{BASE}/v1/users", body="ok")
    with pytest.raises(smartflo.BadResponse):
        client().users()
