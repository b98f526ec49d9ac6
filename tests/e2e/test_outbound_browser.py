"""An agent replies from the CRM against the sandbox (the fake Tata on the ASGI live server):
text and an image with ticks going clock → ✓ → ✓✓ → blue live; an old conversation forces a
template; a failed send shows Tata's reason and Retry sends it."""

import base64
import datetime
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inbox.models import Channel, Conversation, Message, Template
from inbox.providers import tata_whatsapp
from sandbox import omni
from tests.factories import ContactPhoneFactory
from tests.inbox.tata_payloads import PARTNER_TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


@pytest.fixture
def sandbox(asgi_live_server, sales_team, settings, monkeypatch):
    # Background work on its own thread (as without Redis), so the browser sees the message queued first;
    # Tata's answer takes a moment and the callbacks come a little apart so every tick can be seen.
    settings.TASKS_INLINE = False
    settings.SANDBOX_CALLBACK_DELAYS = (0.6, 2.0, 3.5)
    real_send = tata_whatsapp.send_message

    def slow_send(base_url, access_token, payload):
        time.sleep(1.0)
        if settings.REVOKED_TOKEN:  # Tata no longer knows the token (it expired)
            access_token = "expired-token"
        return real_send(base_url, access_token, payload)

    settings.REVOKED_TOKEN = False

    monkeypatch.setattr(tata_whatsapp, "send_message", slow_send)
    return Channel.objects.create(
        kind=Channel.Kind.WHATSAPP, name="Sandbox WhatsApp", phone_number="+919876500001",
        api_base_url=asgi_live_server.url + "/sandbox/api/tata", access_token="sandbox-token",
        partner_token=PARTNER_TOKEN, team=sales_team,
    )


def customer_writes(channel, live_server, text="Is my order shipped?"):
    ContactPhoneFactory(number="+919812345678", contact__name="Meera Iyer")
    _, body = omni.customer_message(channel, "+919812345678", name="Meera Iyer", text=text)
    response = omni.post_signed(f"{live_server.url}/webhooks/tata/{channel.webhook_token}/", PARTNER_TOKEN, body)
    assert response.status_code < 300, response.text
    for _ in range(50):
        conversation = Conversation.objects.filter(channel=channel).first()
        if conversation and conversation.last_inbound_at:
            return conversation
        time.sleep(0.1)
    raise AssertionError("the customer's message did not arrive")


def open_thread(asgi_login_page, live_server, user, password, conversation):
    page = asgi_login_page(user, password)
    page.goto(f"{live_server.url}/inbox/{conversation.pk}/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(page.locator("#composer")).to_be_visible()
    return page


def expect_ticks(bubble):
    expect(bubble.locator(".tick-clock")).to_be_visible()
    expect(bubble.locator(".tick-sent")).to_be_visible(timeout=8000)
    expect(bubble.locator(".tick-delivered")).to_be_visible(timeout=8000)
    expect(bubble.locator(".tick-read")).to_be_visible(timeout=8000)
    expect(bubble.locator(".tick-read")).to_have_css("color", "rgb(29, 155, 240)")


def test_agent_replies_with_text_and_image_and_ticks_move_live(asgi_login_page, asgi_live_server, sandbox, agent, password, tmp_path):
    conversation = customer_writes(sandbox, asgi_live_server)
    page = open_thread(asgi_login_page, asgi_live_server, agent, password, conversation)

    page.get_by_role("textbox", name="Message", exact=True).fill("Yes! It left our warehouse today 🚚\nTracking follows.")
    page.get_by_role("button", name="Send", exact=True).click()
    bubble = page.locator(".bubble.out").filter(has_text="It left our warehouse today")
    expect_ticks(bubble)
    expect(page.get_by_role("textbox", name="Message", exact=True)).to_have_value("")

    image = tmp_path / "invoice.png"
    image.write_bytes(PNG)
    page.locator("#composer-file").set_input_files(str(image))
    page.get_by_role("textbox", name="Message", exact=True).fill("Your invoice")
    page.get_by_role("button", name="Send", exact=True).click()
    photo = page.locator(".bubble.out").filter(has_text="Your invoice")
    expect(photo.locator("img")).to_be_visible()
    expect_ticks(photo)
    message = Message.objects.get(type="image")
    assert message.attachments.get().provider_media_id  # uploaded to the media API, sent by id
    assert message.provider_message_id.startswith("wamid.")  # learnt from the callbacks


def test_old_conversation_forces_a_template(asgi_login_page, asgi_live_server, sandbox, agent, password):
    conversation = customer_writes(sandbox, asgi_live_server)
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=timezone.now() - datetime.timedelta(hours=30))
    Template.objects.create(
        channel=sandbox, name="order_update", language="en", category="UTILITY", status="APPROVED",
        components=[{"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way.", "example": {"body_text": [["Meera", "A-1"]]}}],
    )
    page = open_thread(asgi_login_page, asgi_live_server, agent, password, conversation)
    expect(page.locator("#composer-window")).to_contain_text("more than 24 hours ago")
    expect(page.get_by_role("tab", name="Message")).to_have_count(0)
    page.get_by_label("Approved template").select_option(label="order_update (en, utility)")
    page.get_by_label("Body {{1}}").fill("{first_name}")
    page.get_by_label("Body {{2}}").fill("A-4521")
    expect(page.locator("#template-preview")).to_have_text("Hi Meera, your order A-4521 is on its way.")
    page.get_by_role("button", name="Send template").click()
    bubble = page.locator(".bubble.out").filter(has_text="Hi Meera, your order A-4521 is on its way.")
    expect(bubble).to_be_visible()
    expect(bubble.locator(".tick-read")).to_be_visible(timeout=8000)


def test_failed_send_shows_the_reason_and_retry_sends_it(asgi_login_page, asgi_live_server, sandbox, agent, password, settings):
    conversation = customer_writes(sandbox, asgi_live_server)
    settings.REVOKED_TOKEN = True
    page = open_thread(asgi_login_page, asgi_live_server, agent, password, conversation)
    page.get_by_role("textbox", name="Message", exact=True).fill("Are you there?")
    page.get_by_role("button", name="Send", exact=True).click()
    bubble = page.locator(".bubble.out").filter(has_text="Are you there?")
    expect(bubble.locator(".fail-reason")).to_contain_text("JWT - Auth-Token not valid", timeout=8000)

    settings.REVOKED_TOKEN = False  # the admin pastes a fresh token
    bubble.get_by_role("button", name="Retry").click()
    bubble = page.locator(".bubble.out").filter(has_text="Are you there?")
    expect(bubble.locator(".tick-read")).to_be_visible(timeout=10000)
    expect(bubble.locator(".fail-reason")).to_have_count(0)
    assert Message.objects.get(body="Are you there?").send_attempts.count() == 2
