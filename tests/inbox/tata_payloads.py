"""Helpers for tests that post Tata webhooks: the shared fixtures, signed the way Tata signs them."""

import json
from pathlib import Path

from django.urls import reverse

from inbox.models import Channel
from inbox.providers.tata_whatsapp import sign

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PARTNER_TOKEN = "test-partner-token"  # the token tests/fixtures/signatures.json was made with


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> dict:
    return json.loads(fixture_bytes(name))


def fixture_names(prefix: str) -> list[str]:
    return sorted(p.name for p in FIXTURES.glob(f"{prefix}*.json"))


def make_channel(kind=Channel.Kind.WHATSAPP, *, phone="+919876500001", team=None, **extra) -> Channel:
    fields = {
        "name": f"Test {kind}",
        "partner_token": PARTNER_TOKEN,
        "access_token": "test-access-token",
        "api_base_url": "https://tata.test",
        **extra,
    }
    return Channel.objects.create(kind=kind, phone_number=phone, team=team, **fields)


def post_raw(client, channel: Channel, body: bytes, *, signature: str | None = "auto", **headers):
    if signature == "auto":
        signature = sign(body, channel.partner_token)
    if signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    url = reverse("webhooks:tata", args=[channel.webhook_token])
    return client.post(url, data=body, content_type="application/json", **headers)


def post_fixture(client, channel: Channel, name: str):
    return post_raw(client, channel, fixture_bytes(name))


def post_payload(client, channel: Channel, payload: dict):
    return post_raw(client, channel, json.dumps(payload).encode())


def capture_events(monkeypatch) -> list[tuple[str, dict, list]]:
    """Record what publish() sends after commit, as (event, payload, groups)."""
    sent = []
    monkeypatch.setattr("core.events._send", lambda message: sent.append((message["event"], json.loads(message["text"])["payload"], message["groups"])))
    return sent
