"""A WhatsApp number on the (fake) Tata API, a customer who wrote an hour ago, and their conversation."""

import datetime

import pytest
from django.utils import timezone

from inbox.models import Channel, Conversation, Message, Template
from tests.factories import ContactPhoneFactory

TATA = "https://tata.test"


@pytest.fixture(autouse=True)
def _fast_outbound(settings, tmp_path):
    settings.OUTBOUND_RETRY_BASE_SECONDS = 0
    settings.OUTBOUND_RATE_PER_SECOND = 100_000
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def channel(db, sales_team):
    return Channel.objects.create(
        name="Sales WhatsApp", phone_number="+918000000001", api_base_url=TATA, access_token="jwt-secret", team=sales_team
    )


@pytest.fixture
def customer(db):
    return ContactPhoneFactory(number="+919812345678", contact__name="Meera Iyer").contact


@pytest.fixture
def conversation(channel, customer):
    return Conversation.objects.create(
        channel=channel, contact=customer, team=channel.team, last_inbound_at=timezone.now() - datetime.timedelta(hours=1)
    )


@pytest.fixture
def stale_conversation(conversation):
    conversation.last_inbound_at = timezone.now() - datetime.timedelta(hours=25)
    conversation.save()
    return conversation


@pytest.fixture
def inbound(conversation):
    return Message.objects.create(
        channel=conversation.channel, conversation=conversation, direction="in", body="Where is my order?",
        provider_message_id="wamid.IN1", timestamp=conversation.last_inbound_at,
    )


@pytest.fixture
def template(channel):
    return Template.objects.create(
        channel=channel, name="order_update", language="en", category="UTILITY", status="APPROVED",
        provider_template_id="tpl-1",
        components=[
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
            {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way.", "example": {"body_text": [["Meera", "A-1"]]}},
            {"type": "FOOTER", "text": "Reply STOP to opt out"},
            {"type": "BUTTONS", "buttons": [
                {"type": "URL", "text": "Track", "url": "https://shop.example/track/{{1}}"},
                {"type": "QUICK_REPLY", "text": "Talk to us"},
            ]},
        ],
    )
