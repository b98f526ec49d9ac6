"""A Support agent answers an RCS conversation with text, against the sandbox on the ASGI live server:
the composer offers text only (no templates, no 24-hour window), the customer's phone in the sandbox
shows the reply, and the ticks go clock → ✓ → ✓✓ → blue live from RCS callbacks. Desktop and phone."""

import time

import pytest
from playwright.sync_api import expect

from inbox.models import Channel, Conversation, Message
from sandbox import omni
from tests.factories import ContactPhoneFactory
from tests.inbox.tata_payloads import PARTNER_TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMER = "+919812345678"


@pytest.fixture
def rcs_sandbox(asgi_live_server, support_team, settings):
    settings.TASKS_INLINE = False
    settings.SANDBOX_CALLBACK_DELAYS = (0.6, 2.0, 3.5)
    return Channel.objects.create(
        kind=Channel.Kind.RCS, name="Support RCS", phone_number="+919876500002",
        api_base_url=asgi_live_server.url + "/sandbox/api/tata", access_token="sandbox-rcs-token",
        partner_token=PARTNER_TOKEN, team=support_team,
    )


def customer_writes_on_rcs(channel, live_server):
    ContactPhoneFactory(number=CUSTOMER, contact__name="Arjun Rao")
    _, body = omni.customer_rcs_message(channel, CUSTOMER, text="Can I change my delivery slot?")
    response = omni.post_signed(f"{live_server.url}/webhooks/tata/{channel.webhook_token}/", PARTNER_TOKEN, body)
    assert response.status_code < 300, response.text
    for _ in range(50):
        conversation = Conversation.objects.filter(channel=channel).first()
        if conversation and conversation.last_inbound_at:
            return conversation
        time.sleep(0.1)
    raise AssertionError("the customer's RCS message did not arrive")


def logged_in_page(browser, base_url, user, password, viewport):
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return context, page


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_support_agent_replies_with_text_on_rcs_and_ticks_reach_read(browser, asgi_live_server, rcs_sandbox, other_agent, admin_user, password,
                                                                    viewport):
    conversation = customer_writes_on_rcs(rcs_sandbox, asgi_live_server)
    context, page = logged_in_page(browser, asgi_live_server.url, other_agent, password, viewport)
    contexts = [context]
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{asgi_live_server.url}/inbox/{conversation.pk}/")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        composer = page.locator("#composer")
        expect(composer).to_be_visible()
        # RCS: text only; nothing WhatsApp-only is offered.
        expect(composer.get_by_role("tab")).to_have_count(0)
        expect(composer.locator("#composer-file")).to_have_count(0)
        expect(page.locator("#composer-window")).to_have_count(0)

        page.get_by_role("textbox", name="Message", exact=True).fill("Yes — pick any slot tomorrow between 10 and 6.")
        page.get_by_role("button", name="Send", exact=True).click()
        bubble = page.locator(".bubble.out").filter(has_text="pick any slot tomorrow")
        expect(bubble.locator(".tick-sent, .tick-delivered, .tick-read").first).to_be_visible(timeout=8000)
        expect(bubble.locator(".tick-delivered, .tick-read").first).to_be_visible(timeout=8000)
        expect(bubble.locator(".tick-read")).to_be_visible(timeout=8000)
        expect(bubble.locator(".tick-read")).to_have_css("color", "rgb(29, 155, 240)")
        expect(page.get_by_role("textbox", name="Message", exact=True)).to_have_value("")

        message = Message.objects.get(direction="out")
        assert message.status == "read" and message.provider_message_id  # the id from the send answer

        # The customer's side of the sandbox is for admins only (it shows every team's messages).
        admin_context, phone = logged_in_page(browser, asgi_live_server.url, admin_user, password, viewport)
        contexts.append(admin_context)
        phone.goto(f"{asgi_live_server.url}/sandbox/?channel={rcs_sandbox.pk}&phone=%2B919812345678")
        reply = phone.locator(".sb-msg.theirs").filter(has_text="pick any slot tomorrow")
        expect(reply).to_be_visible()
        expect(phone.locator(".sb-msg.mine").filter(has_text="Can I change my delivery slot?")).to_be_visible()
        assert errors == []  # the text-only composer leaves the composer script nothing to trip on
    finally:
        for each in contexts:
            each.close()
