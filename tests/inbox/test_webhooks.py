"""The webhook endpoint: signature, raw storage before parsing, error answers, replay."""

import json
import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from inbox.ingest import drain as ingest
from inbox.providers import tata_whatsapp
from inbox.models import Message, WebhookEvent
from inbox.providers.tata_whatsapp import sign, signature_matches
from tests.inbox.tata_payloads import (
    FIXTURES,
    fixture_bytes,
    fixture_names,
    make_channel,
    post_fixture,
    post_payload,
    post_raw,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    return make_channel()


@pytest.fixture
def deliver(client, channel, django_capture_on_commit_callbacks):
    def post(name, target=None):
        with django_capture_on_commit_callbacks(execute=True):
            return post_fixture(client, target or channel, name)

    return post


def test_signing_matches_every_published_test_vector():
    vectors = json.loads((FIXTURES / "signatures.json").read_text())
    assert len(vectors["x-hub-signature-256"]) >= 40
    for name, expected in vectors["x-hub-signature-256"].items():
        body = fixture_bytes(name)
        assert sign(body, vectors["partner_token"]) == expected, name
        assert signature_matches(body, vectors["partner_token"], expected.upper().replace("SHA256=", "sha256="))
        assert not signature_matches(body + b" ", vectors["partner_token"], expected)


def test_signed_fixture_is_stored_raw_then_processed(deliver, channel):
    response = deliver("wa_in_text.json")
    assert response.status_code == 200
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert bytes(event.body) == fixture_bytes("wa_in_text.json")  # byte for byte, before any parsing
    assert event.channel == channel and event.source == "tata_whatsapp"
    assert event.headers["X-Hub-Signature-256"].startswith("sha256=")
    assert event.status == WebhookEvent.Status.PROCESSED and event.attempts == 1
    assert Message.objects.get().provider_message_id == "wamid.HBgMOTE5ODEyMzQ1Njc4FQIAEhggQUFBQTExMTEA"


@pytest.mark.parametrize("signature", ["sha256=" + "0" * 64, "sha256=", "md5=abc", None])
def test_bad_or_missing_signature_is_refused_and_kept_as_rejected(client, channel, signature, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_raw(client, channel, fixture_bytes("wa_in_text.json"), signature=signature)
    assert response.status_code == 403
    assert "signature" in response.json()["detail"].lower()
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.REJECTED and bytes(event.body) == fixture_bytes("wa_in_text.json")
    assert not Message.objects.exists()
    # A replay never applies a rejected event.
    call_command("replay_webhooks", "--all", stdout=open("/dev/null", "w"))
    assert not Message.objects.exists()


def test_signature_made_with_another_token_is_refused(client, channel):
    body = fixture_bytes("wa_in_text.json")
    assert post_raw(client, channel, body, signature=sign(body, "someone-else")).status_code == 403


def test_body_that_is_not_json_answers_400_and_is_kept(client, channel):
    response = post_raw(client, channel, b"<xml>not json</xml>")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("The body is not JSON")
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.UNPROCESSABLE and bytes(event.body) == b"<xml>not json</xml>"


def test_oversize_body_answers_413_without_reading_it(client, channel, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    body = json.dumps({"messages": {"padding": "x" * 2000}}).encode()
    response = post_raw(client, channel, body)
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_unknown_token_and_inactive_channel_answer_404(client, channel):
    url = reverse("webhooks:tata", args=["not-a-token"])
    assert client.post(url, data=b"{}", content_type="application/json").status_code == 404
    channel.is_active = False
    channel.save()
    assert post_fixture(client, channel, "wa_in_text.json").status_code == 404


def test_only_post_is_accepted(client, channel):
    assert client.get(reverse("webhooks:tata", args=[channel.webhook_token])).status_code == 405


def test_channel_without_partner_token_accepts_unsigned_posts_when_an_admin_allowed_it(client, django_capture_on_commit_callbacks):
    channel = make_channel(partner_token="", accept_unsigned_posts=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_raw(client, channel, fixture_bytes("wa_in_text.json"), signature=None)
    assert response.status_code == 200
    assert Message.objects.count() == 1


def test_unknown_shape_is_accepted_kept_and_marked_unprocessable(client, channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_payload(client, channel, {"account_update": {"event": "VERIFIED_ACCOUNT"}})
    assert response.status_code == 200  # stored: the provider must not retry it forever
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.UNPROCESSABLE
    assert "account_update" in event.error


@pytest.mark.parametrize("name", fixture_names("wa_call_") + ["rcs_event_typing.json"])
def test_calls_and_typing_are_kept_and_ignored_with_a_reason(deliver, name):
    assert deliver(name).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.IGNORED and event.error
    assert not Message.objects.exists()


def test_replay_applies_an_unprocessable_event_after_the_fix(deliver, monkeypatch, django_capture_on_commit_callbacks):
    real_parser = tata_whatsapp.parse_wa_message

    def broken_parser(*args, **kwargs):
        raise KeyError("a field this build did not expect")

    monkeypatch.setattr(tata_whatsapp, "parse_wa_message", broken_parser)
    deliver("wa_in_location.json")
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.UNPROCESSABLE
    assert "KeyError" in event.error
    assert not Message.objects.exists()  # the partial work was rolled back with the failure

    monkeypatch.setattr(tata_whatsapp, "parse_wa_message", real_parser)  # the fix is deployed
    with django_capture_on_commit_callbacks(execute=True):
        call_command("replay_webhooks", stdout=open("/dev/null", "w"))
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED and event.attempts == 2 and event.error == ""
    assert Message.objects.get().body == "📍 Andheri East Office — Andheri East, Mumbai, Maharashtra"


def test_a_crash_before_processing_leaves_the_event_received_for_replay(client, channel, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr("inbox.ingest.drain.enqueue", lambda *args: None)  # the worker died
    assert post_fixture(client, channel, "wa_in_text.json").status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.RECEIVED

    # Received events are only picked up once they are older than --older-than (in flight otherwise).
    call_command("replay_webhooks", stdout=open("/dev/null", "w"))
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.RECEIVED
    with django_capture_on_commit_callbacks(execute=True):
        call_command("replay_webhooks", "--older-than", "0", stdout=open("/dev/null", "w"))
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    assert Message.objects.count() == 1


def test_replaying_a_processed_event_with_force_changes_nothing(deliver):
    deliver("wa_in_text.json")
    event = WebhookEvent.objects.get()
    ingest.process_event(event, force=True)
    assert Message.objects.count() == 1
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED and event.attempts == 2


def test_a_channel_changed_in_another_process_is_seen_by_the_webhook(client, channel, monkeypatch):
    from inbox import webhooks
    from inbox.models import Channel

    assert post_fixture(client, channel, "wa_in_text.json").status_code == 200  # the channel is now kept
    # Another process rotates the partner token (no signal reaches this one): a post signed with the
    # new token is checked against the stored channel before it is refused.
    Channel.objects.filter(pk=channel.pk).update(partner_token="rotated-partner-token")
    channel.partner_token = "rotated-partner-token"
    assert post_fixture(client, channel, "wa_in_text.json").status_code == 200
    # ...and deactivates it: seen once the kept copy lapses.
    Channel.objects.filter(pk=channel.pk).update(is_active=False)
    from core import kept_rows

    later = time.monotonic() + webhooks.channels.seconds + 1
    monkeypatch.setattr(kept_rows, "monotonic", lambda: later)
    assert post_fixture(client, channel, "wa_in_text.json").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_channel_deleted_in_another_process_while_kept_here_answers_404_not_500(client):
    from inbox import webhooks

    channel = make_channel()
    gone = webhooks._Channel(channel.pk + 1000, "whatsapp", channel.partner_token, False)  # what this process kept
    webhooks.channels.keep(channel.webhook_token, gone, seconds=60)
    assert post_fixture(client, channel, "wa_in_text.json").status_code == 404
    assert not WebhookEvent.objects.exists()
    assert post_fixture(client, channel, "wa_in_text.json").status_code == 200  # read again: the channel itself
