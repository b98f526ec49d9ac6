"""Triage in a real browser, on a desktop and a phone-sized screen: the inbox opens on Mine / Open with
counts that follow live messages, search by name, phone and message text, ticking rows and resolving
them together, the unread badge in the title, and the desktop notification / sound an agent opts into."""

import datetime
import json
import re
import time
import uuid

import pytest
import requests
from django.utils import timezone
from playwright.sync_api import expect

from inbox.models import Channel, Conversation
from inbox.providers.tata_whatsapp import sign
from tests.e2e.conftest import _logged_in_pages
from tests.factories import ContactPhoneFactory
from tests.inbox.tata_payloads import PARTNER_TOKEN, fixture_json
from tests.inbox.ui_helpers import conversation_for, message_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SCREENS))
def login(request, browser, asgi_live_server):
    contexts = []

    def new_page():
        context = browser.new_context(viewport=SCREENS[request.param])
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield _logged_in_pages(new_page, asgi_live_server.url)
    for context in contexts:
        context.close()


@pytest.fixture
def channel(sales_team):
    return Channel.objects.create(
        kind=Channel.Kind.WHATSAPP, name="Sales WhatsApp", phone_number="+919876500001",
        access_token="token", partner_token=PARTNER_TOKEN, team=sales_team,
    )


def customer_writes(server, channel, *, phone: str, name: str, text: str) -> None:
    """A signed Tata webhook with a customer's text message, as Tata would post it."""
    payload = fixture_json("wa_in_text.json")
    payload["id"] = str(uuid.uuid4())
    payload["businessPhoneNumber"] = channel.phone_number
    payload["contacts"] = [{"profile": {"name": name}, "wa_id": phone}]
    payload["messages"].update(id=f"wamid.{uuid.uuid4().hex}", timestamp=str(int(time.time())), text={"body": text})
    payload["messages"]["from"] = phone
    body = json.dumps(payload).encode()
    response = requests.post(
        f"{server.url}/webhooks/tata/{channel.webhook_token}/", data=body, timeout=10,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, channel.partner_token)},
    )
    assert response.status_code == 200, response.text


def wait_live(page):
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def tab_count(page, view):
    return page.locator(f'.tabs [data-count="{view}"]')


def test_opens_on_mine_and_open_with_counts_and_a_title_badge_that_follow_a_new_message(
    login, asgi_live_server, channel, agent, teammate, password
):
    conversation_for(channel, assignee=agent, name="Mine Meera")
    conversation_for(channel, assignee=agent, name="Old Omar", status=Conversation.Status.RESOLVED)
    conversation_for(channel, assignee=teammate, name="Theirs Tara")
    # A minute ago: the provider's timestamps have whole seconds, so "now" could sort after New Nisha's message.
    conversation_for(channel, name="Pool Pooja", last_message_at=timezone.now() - datetime.timedelta(minutes=1))
    page = login(agent, password)
    wait_live(page)
    expect(page.locator("#conv-list .conv-name")).to_have_text(["Mine Meera"])
    expect(page.get_by_role("radio", name=re.compile("^Mine"))).to_be_checked()
    expect(page.get_by_label("Status", exact=True)).to_have_value("open")
    expect(tab_count(page, "mine")).to_have_text("1")
    expect(tab_count(page, "unassigned")).to_have_text("1")
    expect(tab_count(page, "all")).to_have_text("3")
    expect(page).to_have_title("Inbox · Sampark")

    customer_writes(asgi_live_server, channel, phone="919800011122", name="New Nisha", text="Is the shop open today?")
    expect(tab_count(page, "unassigned")).to_have_text("2")
    expect(tab_count(page, "all")).to_have_text("4")
    expect(tab_count(page, "mine")).to_have_text("1")
    expect(page).to_have_title("(1) Inbox · Sampark")
    expect(page.locator("#conv-list .conv-name")).to_have_text(["Mine Meera"])  # not theirs until taken

    # Counts stay when the filters change.
    page.locator(".tabs label").filter(has_text="Unassigned").click()
    expect(page.locator("#conv-list .conv-name")).to_have_text(["New Nisha", "Pool Pooja"])
    expect(tab_count(page, "all")).to_have_text("4")


def test_search_by_name_phone_in_another_form_and_message_text(login, asgi_live_server, channel, support_team, agent, password):
    farida = conversation_for(channel, name="Farida Khan", status=Conversation.Status.RESOLVED)
    farida.contact.phones.all().delete()
    ContactPhoneFactory(contact=farida.contact, number="+919812300011")
    kiran = conversation_for(channel, name="Kiran Rao")
    message_in(kiran, "The parcel arrived damaged, the box was torn")
    hidden = conversation_for(name="Someone Else", team=support_team)
    message_in(hidden, "mine arrived damaged too")
    page = login(agent, password)
    search = page.get_by_label("Search conversations")
    rows = page.locator("#conv-list .conv-name")

    search.press_sequentially("farida", delay=120)   # typed, with the list reloading between keys
    expect(rows).to_have_text(["Farida Khan"])   # resolved and not assigned to me: search covers it
    expect(page.locator(".search-note")).to_contain_text("every conversation you can see")

    search.fill("098123 00011")
    expect(rows).to_have_text(["Farida Khan"])

    search.fill("arrived damaged")
    expect(rows).to_have_text(["Kiran Rao"])
    expect(page.locator(f"#conv-{kiran.pk} .conv-preview mark")).to_have_text("arrived damaged")

    page.get_by_role("button", name="Clear search").click()
    expect(rows).to_have_count(0)   # back to Mine / Open, where nothing is assigned to this agent
    expect(search).to_have_value("")


def test_tick_two_conversations_and_resolve_them(login, channel, agent, password):
    first = conversation_for(channel, assignee=agent, name="First Farah")
    second = conversation_for(channel, assignee=agent, name="Second Sunil")
    third = conversation_for(channel, assignee=agent, name="Third Tanvi")
    page = login(agent, password)
    wait_live(page)
    bar = page.locator("#bulk-form")
    expect(bar).to_be_hidden()
    page.get_by_label("Select First Farah").check()
    page.get_by_label("Select Second Sunil").check()
    expect(bar).to_be_visible()
    expect(page.locator("#bulk-count")).to_have_text("2 selected")
    bar.get_by_role("button", name="Resolve").click()
    expect(page.locator("#bulk-result")).to_have_text("2 conversations marked resolved.")
    expect(page.locator("#conv-list .conv-name")).to_have_text(["Third Tanvi"])
    expect(bar).to_be_hidden()
    statuses = dict(Conversation.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "resolved", second.pk: "resolved", third.pk: "open"}


def test_acting_on_more_than_a_handful_asks_first(asgi_login_page, channel, agent, teammate, password):
    for i in range(7):
        conversation_for(channel, assignee=agent, name=f"Customer {i}")
    page = asgi_login_page(agent, password)
    page.get_by_label("Select Customer 0").check()
    page.get_by_label("Select every conversation on this page").check()
    expect(page.locator("#bulk-count")).to_have_text("7 selected")
    page.get_by_label("Assign selected to").select_option(label=str(teammate))
    dialog = page.locator("#bulk-confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Assign 7 conversations to {teammate}?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_label("Assign selected to")).to_have_value("")
    assert not Conversation.objects.filter(assignee=teammate).exists()

    page.get_by_label("Assign selected to").select_option(label=str(teammate))
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator("#bulk-result")).to_have_text(f"7 conversations assigned to {teammate}.")
    expect(page.locator("#conv-list .conv")).to_have_count(0)   # no longer mine
    assert Conversation.objects.filter(assignee=teammate).count() == 7


FAKE_ALERTS = """
window.__notifications = []; window.__permissionAsked = 0; window.__sounds = 0;
class FakeNotification {
  constructor(title, options) { window.__notifications.push({ title, body: options.body }); }
  static requestPermission() { window.__permissionAsked += 1; FakeNotification.permission = "granted"; return Promise.resolve("granted"); }
}
FakeNotification.permission = localStorage.getItem("test.permission") || "default";
window.Notification = FakeNotification;
HTMLMediaElement.prototype.play = function () { window.__sounds += 1; return Promise.resolve(); };
"""


def test_notification_and_sound_for_a_new_customer_message_once_the_agent_asks(asgi_login_page, asgi_live_server, channel, agent, password):
    conversation_for(channel, assignee=agent, name="Mine Meera")
    page = asgi_login_page(agent, password)
    page.add_init_script(FAKE_ALERTS)
    page.reload()
    wait_live(page)
    assert page.evaluate("window.__permissionAsked") == 0   # never asked on page load
    notify = page.locator("#notify-toggle")
    sound = page.locator("#sound-toggle")
    expect(notify).to_have_text("Desktop notifications: off")
    expect(sound).to_have_text("Sound: off")
    notify.click()
    expect(notify).to_have_text("Desktop notifications: on")
    assert page.evaluate("window.__permissionAsked") == 1
    sound.click()
    expect(sound).to_have_text("Sound: on")
    page.evaluate("localStorage.setItem('test.permission', 'granted'); window.__sounds = 0")
    page.reload()   # both choices are remembered by this browser
    wait_live(page)
    expect(notify).to_have_text("Desktop notifications: on")
    expect(sound).to_have_text("Sound: on")

    page.locator(".tabs label").filter(has_text="All").click()
    customer_writes(asgi_live_server, channel, phone="919800011133", name="Asha Verma", text="Where is my order?")
    page.wait_for_function("() => window.__notifications.length === 1")  # a function: an expression string is eval()ed, which the CSP forbids
    assert page.evaluate("window.__notifications") == [{"title": "Asha Verma", "body": "Where is my order?"}]
    assert page.evaluate("window.__sounds") == 1
    expect(page).to_have_title("(1) Inbox · Sampark")
