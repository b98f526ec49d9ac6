"""Previous calls: paged import (≤ 200), IST range, resumable, idempotent with webhooks, progress
events, the periodic sync; the sandbox Smartflo's API answers like Smartflo (auth, errors, 429)."""

import datetime
import random
from urllib.parse import urlencode

import pytest
import responses
from django.core.management import call_command
from django.utils import timezone

from inbox.models import Message
from sandbox import smartflo as sandbox_smartflo
from sandbox.models import SandboxCall
from telephony import services
from telephony.models import AgentLine, Call, CallImport
from tests.telephony.factories import ConnectionFactory

pytestmark = pytest.mark.django_db
BASE = "https://smartflo.test"

def rows(start, n, **extra):
    return [{"call_id": f"c{i}", "uuid": f"u{i}", "direction": "inbound", "status": "answered", "answered_seconds": "30",
             "client_number": f"9198000{i:05d}", "did_number": "918069000000", "date": "2026-01-10", "time": "10:00:00",
             "call_duration": "40", **extra} for i in range(start, start + n)]

@pytest.fixture
def connection(sales_team):
    return ConnectionFactory(team=sales_team, base_url=BASE)

def job_for(connection, admin_user=None):
    now = timezone.now()
    return CallImport.objects.create(connection=connection, from_date=now - datetime.timedelta(days=5), to_date=now, created_by=admin_user)

@responses.activate
def test_import_pages_through_records_and_is_idempotent(connection, admin_user, monkeypatch):
    published = []
    monkeypatch.setattr("telephony.events.publish", lambda event, payload, groups: published.append((event, payload)))
    responses.get(f"{BASE}/v1/call/records", json={"count": 250, "results": rows(0, 200)})
    responses.get(f"{BASE}/v1/call/records", json={"count": 250, "results": rows(200, 50)})
    job = services.run_import(job_for(connection, admin_user).pk)
    assert job.status == "done" and job.fetched == 250 and job.created == 250 and job.percent == 100
    assert [c.request.params["page"] for c in responses.calls] == ["1", "2"]
    assert all(c.request.params["limit"] == "200" for c in responses.calls)
    assert Call.objects.count() == 250 and Call.objects.filter(contact__isnull=False).count() == 250
    progress = [p for e, p in published if e == "call_import.progress"]
    assert progress[-1]["status"] == "done" and progress[-1]["percent"] == 100 and any(p["fetched"] == 200 for p in progress)
    # the same range again: nothing doubles
    responses.calls.reset()
    job2 = services.run_import(job_for(connection).pk)
    assert Call.objects.count() == 250 and job2.created == 0
    assert not Message.objects.filter(type="call").exists()  # a backfill never floods the inbox

@responses.activate
def test_import_resumes_where_it_stopped(connection):
    responses.get(f"{BASE}/v1/call/records", json={"count": 400, "results": rows(0, 200)})
    responses.get(f"{BASE}/v1/call/records", status=500, json={"message": "down"})
    job = services.run_import(job_for(connection).pk)
    assert job.status == "failed" and job.next_page == 2 and "down" in job.error
    responses.replace(responses.GET, f"{BASE}/v1/call/records", json={"count": 400, "results": rows(200, 199)})
    job = services.run_import(job.pk)
    assert job.status == "done" and job.fetched == 399 and Call.objects.count() == 399
    assert responses.calls[-1].request.params["page"] == "2"

@responses.activate
def test_import_meets_webhook_calls_on_the_same_rows(connection):

    call = Call.objects.create(connection=connection, provider_uuid="u1", status="missed", direction="inbound")
    responses.get(f"{BASE}/v1/call/records", json={"count": 2, "results": rows(0, 2)})
    services.run_import(job_for(connection).pk)
    call.refresh_from_db()
    assert Call.objects.count() == 2 and call.provider_call_id == "c1" and call.status == "answered"

@responses.activate
def test_periodic_sync_catches_missed_calls_with_follow_ups(connection):
    responses.get(f"{BASE}/v1/call/records", json={"count": 1, "results": rows(0, 1, status="missed", answered_seconds="0")})
    started = services.sync_recent()
    assert len(started) == 1 and CallImport.objects.get().is_sync
    assert Message.objects.filter(type="call").count() == 1
    connection.refresh_from_db()
    assert connection.last_synced_at is not None
    assert "sync-recent-calls" in __import__("django.conf").conf.settings.CELERY_BEAT_SCHEDULE

def test_import_rules(connection, agent, admin_user):
    now = timezone.now()
    with pytest.raises(Exception, match="Only admins"):
        services.start_import(connection, by=agent, from_date=now - datetime.timedelta(days=1), to_date=now)
    with pytest.raises(Exception, match="before its end"):
        services.start_import(connection, by=admin_user, from_date=now, to_date=now)
    with pytest.raises(Exception, match="at most"):
        services.start_import(connection, by=admin_user, from_date=now - datetime.timedelta(days=400), to_date=now)

@responses.activate
def test_management_command(connection):
    responses.get(f"{BASE}/v1/call/records", json={"count": 3, "results": rows(0, 3)})
    call_command("import_calls", str(connection.pk), "--from", "2026-01-01", "--to", "2026-01-31")
    assert Call.objects.count() == 3
    assert responses.calls[0].request.params["from_date"] == "2026-01-01 00:00:00"

# ---------------------------------------------------------------- the sandbox Smartflo API

@pytest.fixture
def sandbox_connection(agent):
    AgentLine.objects.create(user=agent, agent_id="05000001")
    return ConnectionFactory(base_url="http://testserver/sandbox/api/smartflo", auth_token="sandbox-token", phone_numbers=["+918069001000"],
                             options={"tata_email": "ops@example.com"}, password="pw")

def test_sandbox_requires_a_token(client, sandbox_connection):
    response = client.get("/sandbox/api/smartflo/v1/my_number")
    assert response.status_code == 401 and response.json()["success"] is False
    assert client.get("/sandbox/api/smartflo/v1/my_number", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401

def test_sandbox_numbers_users_and_login(client, sandbox_connection):
    auth = {"HTTP_AUTHORIZATION": "Bearer sandbox-token"}
    assert client.get("/sandbox/api/smartflo/v1/my_number", **auth).json()[0]["did"] == "918069001000"
    assert client.get("/sandbox/api/smartflo/v1/users", **auth).json()["data"][0]["agent_id"] == "05000001"
    bad = client.post("/sandbox/api/smartflo/v1/auth/login", {"email": "ops@example.com", "password": "nope"}, content_type="application/json")
    assert bad.status_code == 401
    token = client.post("/sandbox/api/smartflo/v1/auth/login", {"email": "ops@example.com", "password": "pw"}, content_type="application/json").json()
    assert token["expires_in"] == 3600
    assert client.get("/sandbox/api/smartflo/v1/users", HTTP_AUTHORIZATION=f"Bearer {token['access_token']}").status_code == 200

def test_sandbox_call_records_pages_and_validates(client, sandbox_connection):
    sandbox_smartflo.seed_history(sandbox_connection, count=30, days=2, rng=random.Random(1))
    auth = {"HTTP_AUTHORIZATION": "sandbox-token"}
    now = timezone.now()
    params = {"from_date": sandbox_smartflo._ist(now - datetime.timedelta(days=3)), "to_date": sandbox_smartflo._ist(now), "page": 2, "limit": 20}
    body = client.get(f"/sandbox/api/smartflo/v1/call/records?{urlencode(params)}", **auth).json()
    assert body["count"] == 30 and len(body["results"]) == 10 and body["results"][0]["call_id"]
    assert client.get(f"/sandbox/api/smartflo/v1/call/records?{urlencode({**params, 'limit': 500})}", **auth).status_code == 422
    assert client.get(f"/sandbox/api/smartflo/v1/call/records?{urlencode({**params, 'from_date': 'yesterday'})}", **auth).status_code == 422

def test_sandbox_rate_limit_answers_429_with_retry_after(client, sandbox_connection, settings):
    settings.SANDBOX_SMARTFLO_RATE = 2
    sandbox_smartflo._hits.clear()
    answers = [client.get("/sandbox/api/smartflo/v1/users", HTTP_AUTHORIZATION="sandbox-token") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429] and answers[2]["Retry-After"] == "1"
    sandbox_smartflo._hits.clear()

def test_sandbox_phone_call_answered_sends_the_hangup_webhook(logged_in, admin_user, sandbox_connection, monkeypatch):
    sent = []
    monkeypatch.setattr(sandbox_smartflo, "send_later", sent.append)
    client = logged_in(admin_user)
    response = client.post("/sandbox/calls/", {"connection": sandbox_connection.pk, "did": "+918069001000", "caller": "98123 45678"})
    call = SandboxCall.objects.get()
    assert response.status_code == 302 and call.state == "ringing" and call.customer_number == "+919812345678"
    client.post(f"/sandbox/calls/{call.pk}/", {"action": "answer", "line": AgentLine.objects.get().pk})
    client.post(f"/sandbox/calls/{call.pk}/", {"action": "hangup"})
    call.refresh_from_db()
    assert call.state == "ended" and call.status == "answered" and call.agent_number == "05000001"
    assert sent[0].startswith(f"http://testserver/telephony/status/{sandbox_connection.status_token}/?uuid=")
    assert "call_status=answered" in sent[0] and "recording_url=http" in sent[0]

def test_sandbox_recording_is_a_wav(client, sandbox_connection):
    call = sandbox_smartflo.ring(sandbox_connection, "+919812345678", "+918069001000")
    response = client.get(f"/sandbox/api/smartflo/recordings/{sandbox_smartflo.recording_token(call)}.wav")
    assert response.status_code == 200 and response.content[:4] == b"RIFF"
    assert client.get("/sandbox/api/smartflo/recordings/forged.wav").status_code == 403
