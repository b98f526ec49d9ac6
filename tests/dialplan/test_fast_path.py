"""The dialplan URL is answered before the page middleware, and its log rows are plain dicts written
in bulk off the answer path: still complete, still on the admin pages."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from dialplan import logwriter
from dialplan.models import DialplanRequest

pytestmark = pytest.mark.django_db

CALL = {"uuid": "7611", "caller_id_number": "+91-9812345678", "call_to_number": "+91-8069000000"}
IVR = [{"transfer": {"type": "ivr", "data": ["22590"]}}]


def test_the_dialplan_url_skips_the_page_middleware_but_not_security(client, plan):
    client.cookies["sessionid"] = "whatever"  # a session would be read by the page middleware, never here
    response = client.post(plan.path, data=json.dumps(CALL), content_type="application/json")
    assert response.status_code == 200 and json.loads(response.content) == IVR
    assert "Content-Security-Policy" not in response and "X-Frame-Options" not in response  # page policies
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still runs first
    assert not hasattr(response.wsgi_request, "user") and not hasattr(response.wsgi_request, "session")
    page = client.get("/accounts/login/")
    assert "Content-Security-Policy" in page and hasattr(page.wsgi_request, "user")  # every other URL: unchanged


def test_the_dialplan_url_still_checks_the_host(plan, settings):
    settings.ALLOWED_HOSTS = ["sampark.example"]
    response = Client(HTTP_HOST="evil.example").post(plan.path, data=json.dumps(CALL), content_type="application/json")
    assert response.status_code == 400
    assert DialplanRequest.objects.count() == 0


def test_other_urls_under_the_prefix_fall_through(client):
    assert client.get("/dialplan/a/b/").status_code == 404


def test_a_row_has_every_column_of_a_request_log():
    columns = {f.attname for f in DialplanRequest._meta.concrete_fields if not f.primary_key}
    row = logwriter.new_row(method="POST", received_at=None)
    assert set(row) == columns
    assert row["params"] is not logwriter.new_row(method="GET", received_at=None)["params"]  # no shared mutable default


def test_deferred_rows_are_written_complete_and_shown_in_admin(client, plan, settings, logged_in, admin_user):
    settings.TASKS_INLINE = False
    settings.DIALPLAN_LOG_DEFERRED = True
    settings.DIALPLAN_LOG_FLUSH_SECONDS = 60  # the test flushes by hand
    client.post(plan.path, data=json.dumps(CALL), content_type="application/json")
    client.post("/dialplan/no-such-token/", data=json.dumps(CALL), content_type="application/json")
    assert DialplanRequest.objects.count() == 0  # not on the answer path
    logwriter.flush()
    answered, rejected = DialplanRequest.objects.order_by("pk")
    assert (answered.dialplan, answered.caller, answered.call_uuid, answered.answer) == (plan, "+919812345678", "7611", IVR)
    assert answered.outcome == "failover" and answered.trace[-1] == "fallback: failover answer" and answered.latency_ms > 0
    assert (rejected.dialplan, rejected.status_code, rejected.outcome) == (None, 404, "rejected")
    page = logged_in(admin_user).get(reverse("admin:dialplan_dialplan_change", args=[plan.pk])).content.decode()
    assert "+919812345678" in page
    listing = client.get(reverse("admin:dialplan_dialplanrequest_changelist")).content.decode()
    assert "+919812345678" in listing
