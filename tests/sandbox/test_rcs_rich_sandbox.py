"""The sandbox and Sampark's rich RCS round trip: a carousel our builder wrote is accepted and drawn on
the customer's phone; delivered/read/typing come back in Tata/Jio's names and in Google RBM's, through
the real webhook, and move the message / show typing; the customer page sends typing while typing."""

import json
import random

import pytest
from django.urls import reverse

from inbox.models import Channel, Conversation, Message
from inbox.providers import tata_rcs
from inbox.rich import spec as specs
from sandbox import omni
from sandbox.models import SandboxMessage
from tests.factories import ContactPhoneFactory
from tests.inbox.tata_payloads import PARTNER_TOKEN, post_raw

pytestmark = pytest.mark.django_db
CUSTOMER = "+919812345678"
CAROUSEL = {"kind": "carousel", "cards": [
    {"title": "Goa", "media_url": "http://127.0.0.1:8000/rcs-cards/abcdefghijklmnop", "suggestions": [{"type": "reply", "text": "Book Goa"}]},
    {"title": "Manali", "suggestions": [{"type": "dial", "text": "Call us", "phone": "+919090909090"}]},
]}


@pytest.fixture
def rcs(settings, sales_team):
    settings.SANDBOX_CALLBACK_DELAYS = (0, 0, 0)
    return Channel.objects.create(
        kind=Channel.Kind.RCS, name="Sandbox RCS", phone_number="+919876500002", api_base_url="http://testserver/sandbox/api/tata",
        access_token="rcs-token", partner_token=PARTNER_TOKEN, team=sales_team,
    )


@pytest.fixture
def posted(monkeypatch):
    calls = []
    monkeypatch.setattr(omni, "deliver_later", lambda url, token, callbacks: calls.extend(c.body for c in callbacks))
    return calls


def send_carousel(client):
    content = tata_rcs.content_json(specs.to_message(CAROUSEL))
    return client.post(reverse("sandbox:rcs_messages"), {"to": CUSTOMER, "content": content, "source": "sampark"},
                       content_type="application/json", HTTP_AUTHORIZATION="rcs-token")


@pytest.mark.parametrize("names,expected", [("tata", ["SEND_MESSAGE_SUCCESS", "MESSAGE_DELIVERED", "MESSAGE_READ"]),
                                            ("rbm", ["SEND_MESSAGE_SUCCESS", "DELIVERED", "READ"])])
def test_callbacks_in_either_names_move_our_message_to_read_exactly_once(client, rcs, posted, settings, names, expected, django_capture_on_commit_callbacks):
    settings.SANDBOX_RCS_EVENT_NAMES = names
    sent_id = send_carousel(client).json()["id"]
    assert [json.loads(body)["entity"]["eventType"] for body in posted] == expected
    contact = ContactPhoneFactory(number=CUSTOMER).contact
    conversation = Conversation.objects.create(channel=rcs, contact=contact)
    ours = Message.objects.create(channel=rcs, conversation=conversation, direction="out", type="rich", status="sent",
                                  provider_message_id=sent_id, timestamp=SandboxMessage.objects.get().created_at)
    deliveries = posted * 3
    random.Random(14).shuffle(deliveries)
    for body in deliveries:
        with django_capture_on_commit_callbacks(execute=True):
            assert post_raw(client, rcs, body).status_code == 200
    ours.refresh_from_db()
    assert ours.status == "read" and Message.objects.count() == 1


def test_the_phone_draws_our_carousel_with_our_uploaded_image(logged_in, admin_user, rcs, posted):
    client = logged_in(admin_user)
    assert send_carousel(client).status_code == 200
    page = client.get(reverse("sandbox:customer"), {"channel": rcs.pk, "phone": CUSTOMER}).content.decode()
    assert 'aria-label="Carousel of 2 cards"' in page and "Book Goa" in page and "📞 Call us" in page
    assert '<img src="/rcs-cards/abcdefghijklmnop"' in page
    assert 'data-typing-url="/sandbox/typing/"' in page


@pytest.mark.parametrize("names,event", [("tata", "TYPING"), ("rbm", "IS_TYPING")])
def test_typing_on_the_customer_page_reaches_sampark_and_is_published(logged_in, admin_user, rcs, monkeypatch, settings, names, event, client):
    settings.SANDBOX_RCS_EVENT_NAMES = names
    contact = ContactPhoneFactory(number=CUSTOMER).contact
    conversation = Conversation.objects.create(channel=rcs, contact=contact)
    webhook = []

    def post_signed(url, token, body):
        webhook.append(json.loads(body))
        return post_raw(client, rcs, body)

    published = []
    monkeypatch.setattr(omni, "post_signed", post_signed)
    monkeypatch.setattr("inbox.ingest.apply.publish", lambda name, payload, groups: published.append((name, payload)))
    response = logged_in(admin_user).post(reverse("sandbox:typing"), {"channel": rcs.pk, "phone": CUSTOMER})
    assert response.status_code == 200, response.content
    assert webhook[0]["entity"]["eventType"] == event and webhook[0]["entityType"] == "USER_EVENT"
    from inbox.ingest.drain import drain_received

    drain_received()
    assert ("typing", {"conversation": conversation.pk}) in published
    assert Message.objects.count() == 0  # typing is shown, never stored


def test_typing_is_refused_on_a_whatsapp_chat(logged_in, admin_user, sales_team):
    whatsapp = Channel.objects.create(name="WA", phone_number="+919876500003", api_base_url="http://testserver/sandbox/api/tata", access_token="t")
    response = logged_in(admin_user).post(reverse("sandbox:typing"), {"channel": whatsapp.pk, "phone": CUSTOMER})
    assert response.status_code == 400
