"""Admin: the URL to paste into Tata's portal, masked secrets, unprocessable events visible and replayable."""

import pytest
from django.urls import reverse

from inbox.providers import tata_whatsapp
from inbox.models import Channel, Message, WebhookEvent
from tests.inbox.tata_payloads import make_channel, post_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_channel_page_shows_the_webhook_url_and_masks_secrets(admin_client):
    channel = make_channel()
    page = admin_client.get(reverse("admin:inbox_channel_change", args=[channel.pk])).content.decode()
    assert channel.webhook_url in page and "paste this URL" in page
    assert "test-partner-token" not in page and "test-access-token" not in page
    assert "stored: ••••••••" in page


def test_saving_a_channel_with_empty_secret_boxes_keeps_them(admin_client):
    channel = make_channel()
    response = admin_client.post(
        reverse("admin:inbox_channel_change", args=[channel.pk]),
        {"name": "Renamed", "kind": "whatsapp", "phone_number": "09876500001", "api_base_url": "https://tata.test",
         "access_token": "", "auth_scheme": "plain", "partner_token": "", "team": "", "is_active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    channel.refresh_from_db()
    assert channel.name == "Renamed" and channel.phone_number == "+919876500001"
    assert channel.partner_token == "test-partner-token" and channel.access_token == "test-access-token"


def test_adding_a_channel_warns_until_it_has_a_partner_token(admin_client):
    response = admin_client.post(
        reverse("admin:inbox_channel_add"),
        {"name": "New", "kind": "whatsapp", "phone_number": "+919876500003", "api_base_url": "https://wb.omni.tatatelebusiness.com",
         "access_token": "", "auth_scheme": "plain", "partner_token": "", "team": "", "is_active": "on"},
    )
    assert response.status_code == 302
    channel = Channel.objects.get(name="New")
    page = admin_client.get(reverse("admin:inbox_channel_change", args=[channel.pk])).content.decode()
    assert "No partner token" in page and channel.webhook_url in page


def test_unprocessable_events_are_listed_and_the_replay_action_applies_them(admin_client, client, monkeypatch, django_capture_on_commit_callbacks):
    channel = make_channel()
    monkeypatch.setattr(tata_whatsapp, "parse_wa_message", lambda *a, **k: (_ for _ in ()).throw(ValueError("not yet understood")))
    with django_capture_on_commit_callbacks(execute=True):
        post_fixture(client, channel, "wa_in_text.json")
    event = WebhookEvent.objects.get()
    assert event.status == "unprocessable"
    monkeypatch.undo()

    listing = admin_client.get(reverse("admin:inbox_webhookevent_changelist") + "?status__exact=unprocessable").content.decode()
    assert f">{event.pk}<" in listing and "not yet understood" in listing
    detail = admin_client.get(reverse("admin:inbox_webhookevent_change", args=[event.pk])).content.decode()
    assert "Hi, I want to know the status of my order #4521" in detail  # the raw body, readable

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:inbox_webhookevent_changelist"), {"action": "replay", "_selected_action": [event.pk]}, follow=True
        )
    assert "Replayed: 1 processed." in response.content.decode()
    event.refresh_from_db()
    assert event.status == "processed" and Message.objects.count() == 1
