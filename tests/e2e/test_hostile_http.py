"""Hostile HTTP against the real server (daphne), where the test client cannot reach (issue #11, 19)."""

import socket

import pytest
import requests

from tests.dialplan.factories import DialplanFactory, make_rule


@pytest.fixture
def plan(asgi_live_server):
    plan = DialplanFactory()
    make_rule(plan, "fallback", is_failover=True, action="transfer", transfer_type="ivr", transfer_to="22590")
    return plan


def test_a_dialplan_query_string_over_16_kb_is_answered_414_not_dropped(asgi_live_server, plan):
    response = requests.get(f"{asgi_live_server.url}{plan.path}?caller_id_number={'9' * 17_000}", timeout=10)
    assert response.status_code == 414  # the connection used to close without any answer
    assert "longer than" in response.json()["detail"]


def test_a_header_line_over_16_kb_is_answered_431(asgi_live_server, plan):
    response = requests.get(f"{asgi_live_server.url}{plan.path}", headers={"X-Long": "a" * 17_000}, timeout=10)
    assert response.status_code == 431


def test_a_dialplan_query_string_just_under_the_limit_still_gets_the_dialplan_answer(asgi_live_server, plan):
    query = f"uuid=1&call_to_number=8069000000&caller_id_number=9812345678&pad={'x' * 15_000}"
    response = requests.get(f"{asgi_live_server.url}{plan.path}?{query}", timeout=10)
    assert response.status_code == 200
    assert response.json() == [{"transfer": {"type": "ivr", "data": ["22590"]}}]


def test_the_server_keeps_serving_after_refusing(asgi_live_server, plan):
    with socket.create_connection(("127.0.0.1", asgi_live_server.port), timeout=10) as sock:
        sock.sendall(b"GET /dialplan/x/?" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 414")
    assert requests.get(f"{asgi_live_server.url}/healthz", timeout=10).status_code == 200


def test_a_signed_multipart_webhook_is_stored_and_answered_400(asgi_live_server):
    from inbox.models import WebhookEvent
    from inbox.providers.tata_whatsapp import sign
    from tests.inbox.tata_payloads import make_channel

    channel = make_channel()
    request = requests.Request(
        "POST", f"{asgi_live_server.url}/webhooks/tata/{channel.webhook_token}/", files={"file": ("a.json", b'{"x": 1}' * 1000)}
    ).prepare()
    request.headers["X-Hub-Signature-256"] = sign(request.body, channel.partner_token)
    response = requests.Session().send(request, timeout=10)
    assert response.status_code == 400
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert event.status == "unprocessable" and bytes(event.body) == request.body
