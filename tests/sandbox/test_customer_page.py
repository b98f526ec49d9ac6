"""Playing the customer: what the page sends arrives through the real webhook path and ingest."""

import re

import pytest
import responses
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from inbox.models import Channel, Conversation, Message, WebhookEvent
from sandbox.models import SandboxMessage
from tests.inbox.tata_payloads import PARTNER_TOKEN

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(sales_team):
    return Channel.objects.create(
        kind=Channel.Kind.WHATSAPP, name="Sandbox WhatsApp", phone_number="+919876500001",
        api_base_url="http://testserver/sandbox/api/tata", access_token="sandbox-token", partner_token=PARTNER_TOKEN, team=sales_team,
    )


@pytest.fixture
def webhook_server(django_capture_on_commit_callbacks):
    """Requests the sandbox makes to http://testserver are answered by Django's test client (no network)."""
    server = Client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        def forward(request):
            answer = server.post(request.url.replace("http://testserver", ""), data=request.body,
                                 content_type="application/json", headers=dict(request.headers))
            return answer.status_code, {}, answer.content

        mock.add_callback(responses.POST, re.compile(r"http://testserver/webhooks/.*"), callback=forward)
        mock.capture = django_capture_on_commit_callbacks
        yield mock


def send(client, channel, capture=None, **data):
    """Send as the customer; with `capture` (the on-commit capturer) the queued ingest runs too."""
    data = {"channel": channel.pk, "phone": "98123 45678", "name": "Asha Verma", **data}
    if capture is None:
        return client.post(reverse("sandbox:send"), data, HTTP_HX_REQUEST="true")
    with capture(execute=True):
        return client.post(reverse("sandbox:send"), data, HTTP_HX_REQUEST="true")


def test_customer_text_arrives_in_the_inbox_through_the_signed_webhook(logged_in, admin_user, channel, webhook_server):
    client = logged_in(admin_user)
    response = send(client, channel, webhook_server.capture, text="<b>Where</b> is my order?", kind="text")
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.PROCESSED and event.headers["X-Hub-Signature-256"].startswith("sha256=")
    message = Message.objects.get()
    assert message.body == "<b>Where</b> is my order?" and message.direction == "in"
    conversation = message.conversation
    assert conversation.contact.name == "Asha Verma" and conversation.team == channel.team
    assert "&lt;b&gt;Where&lt;/b&gt; is my order?" in response.content.decode()


def test_customer_media_is_downloadable_by_ingest_from_the_sandbox(logged_in, admin_user, channel, webhook_server):
    client = logged_in(admin_user)
    api = Client()

    def sandbox_api(request):
        path = request.url.replace("http://testserver", "")
        answer = api.get(path, HTTP_AUTHORIZATION=request.headers.get("Authorization", ""))
        content = b"".join(answer.streaming_content) if answer.streaming else answer.content
        return answer.status_code, {"Content-Type": answer.get("Content-Type", "")}, content

    webhook_server.add_callback(responses.GET, re.compile(r"http://testserver/sandbox/api/tata/.*"), callback=sandbox_api)
    photo = SimpleUploadedFile("box.jpg", b"\xff\xd8\xff\xe0 a photo", content_type="image/jpeg")
    response = send(client, channel, webhook_server.capture, text="The damaged box", kind="text", file=photo)
    assert response.status_code == 200, response.content
    message = Message.objects.get()
    assert message.type == "image" and message.body == "The damaged box"
    attachment = message.attachments.get()
    assert attachment.status == "ready", attachment.error
    assert attachment.file.read() == b"\xff\xd8\xff\xe0 a photo"


def test_taps_locations_and_reactions(logged_in, admin_user, channel, webhook_server):
    client = logged_in(admin_user)
    send(client, channel, webhook_server.capture, kind="location")
    business = SandboxMessage.objects.create(
        channel=channel, customer="+919812345678", direction="out", provider_message_id="wamid.biz1", type="interactive",
        payload={"type": "interactive", "interactive": {"type": "button", "body": {"text": "Track?"},
                 "action": {"buttons": [{"type": "reply", "reply": {"id": "track", "title": "Track order"}}]}}},
    )
    page = client.get(reverse("sandbox:customer"), {"channel": channel.pk, "phone": "+919812345678"}).content.decode()
    assert "Track order" in page and "Track?" in page
    send(client, channel, webhook_server.capture, kind="button_reply", choice_id="track", choice_title="Track order", reply_to=business.pk)
    send(client, channel, webhook_server.capture, kind="reaction", emoji="👍", reply_to=business.pk)
    types = list(Message.objects.order_by("pk").values_list("type", "body"))
    assert types[0][0] == "location" and types[1] == ("interactive", "Track order") and types[2][0] == "reaction"


def test_errors_are_shown(logged_in, admin_user, channel):
    client = logged_in(admin_user)
    assert send(client, channel, phone="12", text="hi").status_code == 400
    response = send(client, channel, text="   ")
    assert response.status_code == 400 and "Type a message or attach a file." in response.content.decode()


def test_sandbox_off_is_404(logged_in, admin_user, settings, channel):
    settings.SANDBOX_ENABLED = False
    assert logged_in(admin_user).get(reverse("sandbox:customer")).status_code == 404
    assert Client().post(reverse("sandbox:wa_messages"), {}, content_type="application/json").status_code == 404


def test_demo_seed_creates_sandbox_channels_once(settings):
    from sandbox import demo

    demo.seed()
    demo.seed()
    channels = Channel.objects.filter(api_base_url__endswith="/sandbox/api/tata")
    assert sorted(channels.values_list("kind", flat=True)) == ["rcs", "whatsapp"]
    assert all(c.access_token and c.partner_token for c in channels)
    assert Conversation.objects.count() == 0
