"""Two agents' browsers on the ASGI live server: a customer writes through the sandbox, both lists
update live, one agent takes the conversation and the other sees it, HTML stays text."""

import re

import pytest
from playwright.sync_api import expect

from inbox.models import Channel, Conversation, Message
from tests.inbox.tata_payloads import PARTNER_TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox_channel(asgi_live_server, sales_team):
    return Channel.objects.create(
        kind=Channel.Kind.WHATSAPP, name="Sandbox WhatsApp", phone_number="+919876500001",
        api_base_url=asgi_live_server.url + "/sandbox/api/tata", access_token="sandbox-token",
        partner_token=PARTNER_TOKEN, team=sales_team,
    )


def wait_live(page):
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def test_customer_message_reaches_both_agents_live_and_assignment_follows(
    asgi_login_page, asgi_live_server, sandbox_channel, agent, teammate, admin_user, password
):
    rahul = asgi_login_page(agent, password)
    ananya = asgi_login_page(teammate, password)
    for page in (rahul, ananya):
        expect(page).to_have_url(re.compile(r"/inbox/$"))
        page.goto(f"{asgi_live_server.url}/inbox/?view=all")  # a new customer is not theirs yet (Mine is the default)
        wait_live(page)
        expect(page.get_by_text("No conversations here.")).to_be_visible()

    customer = asgi_login_page(admin_user, password)
    customer.goto(f"{asgi_live_server.url}/sandbox/?channel={sandbox_channel.pk}&phone=%2B919812345678&name=Asha+Verma")
    customer.get_by_label("Message").fill("<b>Hi</b> <script>window.pwned=1</script> is order #4521 shipped?")
    customer.get_by_role("button", name="Send", exact=True).click()
    expect(customer.locator(".sb-msg.mine")).to_have_count(1)

    for page in (rahul, ananya):   # no reload: the websocket brought it
        row = page.locator("#conv-list .conv").filter(has_text="Asha Verma")
        expect(row).to_be_visible()
        expect(row.locator(".badge")).to_have_text("1")
        expect(row.locator("[data-role=assignee]")).to_have_text("Sales")

    # Rahul opens it and takes it; Ananya's list shows the new owner without a reload.
    rahul.locator("#conv-list .conv").filter(has_text="Asha Verma").locator("a").click()
    bubble = rahul.locator(".bubble.in").first
    expect(bubble).to_contain_text("<b>Hi</b> <script>window.pwned=1</script> is order #4521 shipped?")
    assert rahul.evaluate("window.pwned") is None
    expect(rahul.locator(".bubble.in b")).to_have_count(0)
    rahul.get_by_role("button", name="Assign to me").click()
    expect(rahul.get_by_label("Assignee")).to_have_value(str(agent.pk))
    conversation = Conversation.objects.get()
    assert conversation.assignee_id == agent.pk and conversation.unread_count == 0

    ananya_row = ananya.locator(f"#conv-{conversation.pk}")
    expect(ananya_row.locator("[data-role=assignee]")).to_have_text(str(agent))
    expect(ananya_row.locator(".badge")).to_have_count(0)   # Rahul read it: unread is 0 for everyone

    # The customer writes again while Rahul has the thread open: it appears in his thread live.
    customer.get_by_label("Message").fill("Also, can I change the address?")
    customer.get_by_role("button", name="Send", exact=True).click()
    expect(rahul.locator(".bubble.in")).to_have_count(2)
    expect(rahul.locator(".bubble.in").last).to_contain_text("Also, can I change the address?")
    expect(ananya_row.locator(".conv-preview")).to_have_text("Also, can I change the address?")


def test_private_note_and_status_live_across_browsers(asgi_login_page, asgi_live_server, sandbox_channel, agent, teammate, password):
    from tests.inbox.ui_helpers import conversation_for, message_in

    conversation = conversation_for(sandbox_channel, name="Kiran Shah")
    message_in(conversation, "Please call me back")
    rahul = asgi_login_page(agent, password)
    ananya = asgi_login_page(teammate, password)
    for page in (rahul, ananya):
        page.goto(f"{asgi_live_server.url}/inbox/{conversation.pk}/")
        wait_live(page)
    rahul.keyboard.press("n")
    rahul.get_by_role("tab", name="Private note").click()
    rahul.locator("#note-body").fill("Customer prefers evenings <i>only</i>")
    rahul.get_by_role("button", name="Add note").click()
    note = ananya.locator(".bubble.note")
    expect(note).to_contain_text("Customer prefers evenings <i>only</i>")
    expect(note).to_contain_text("Private note")
    rahul.keyboard.press("Escape")
    rahul.locator("body").click()
    rahul.keyboard.press("e")   # resolve
    expect(ananya.locator("#thread-head [data-role=status]")).to_have_text("Resolved")
    assert Message.objects.filter(conversation=conversation, direction="note", source="agent").count() == 1
