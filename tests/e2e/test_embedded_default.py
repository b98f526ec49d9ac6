"""The embedded default (`make run`: SQLite, no Redis, tasks and periodic jobs in-process) under the
loads that stalled it: a 20-recipient campaign finishes, a burst of 60 webhooks followed by silence is
applied within seconds, and a reply sent on a port other than 8000 reaches the sandbox."""

import datetime
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Campaign
from inbox.models import Channel, Conversation, Message, Template, WebhookEvent
from sandbox import omni
from sandbox.models import SandboxMessage
from tests.e2e.conftest import _logged_in_pages as logged_in_pages
from tests.e2e.embedded import EmbeddedServer, database_url, usable_password
from tests.factories import ContactPhoneFactory, LabelFactory
from tests.inbox.tata_payloads import PARTNER_TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
DEFAULT_PORT_BASE = "http://127.0.0.1:8000/sandbox/api/tata"  # what `make run` seeded before PORT changed


@pytest.fixture
def embedded(transactional_db, tmp_path):
    servers = []

    def start():
        server = EmbeddedServer(database_url(connection.settings_dict), tmp_path / "server.log", tmp_path / "media")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox_whatsapp(sales_team):
    return Channel.objects.create(
        kind=Channel.Kind.WHATSAPP, name="Sandbox WhatsApp", phone_number="+919876500001",
        api_base_url=DEFAULT_PORT_BASE, access_token="sandbox-token", partner_token=PARTNER_TOKEN, team=sales_team,
    )


@pytest.fixture
def open_page(new_page):
    def make(viewport="desktop"):
        page = new_page()
        page.set_viewport_size(VIEWPORTS[viewport])
        page.set_default_timeout(15_000)
        return page

    return make


def log_in(page, server, user, password):
    usable_password(user, password)
    return logged_in_pages(lambda *viewport: page, server.url)(user, password)


def wait_until(condition, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(message)


def customer_writes(server, channel, number: str, text: str):
    _, body = omni.customer_message(channel, number, name="Meera Iyer", text=text)
    response = omni.post_signed(f"{server.url}/webhooks/tata/{channel.webhook_token}/", PARTNER_TOKEN, body)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_reply_sent_on_a_non_default_port_reaches_the_sandbox(embedded, sandbox_whatsapp, open_page, agent, password, viewport):
    server = embedded()
    assert server.port != 8000
    sandbox_whatsapp.refresh_from_db()
    assert sandbox_whatsapp.api_base_url == f"{server.url}/sandbox/api/tata"  # followed the port it started on
    assert f"Sampark's public base is {server.url}" in server.log()

    customer_writes(server, sandbox_whatsapp, "+919812345678", "Is my order shipped?")
    wait_until(lambda: Conversation.objects.filter(channel=sandbox_whatsapp, last_inbound_at__isnull=False).exists(), 15, "the message did not arrive")
    conversation = Conversation.objects.get(channel=sandbox_whatsapp)

    page = log_in(open_page(viewport), server, agent, password)
    page.goto(f"{server.url}/inbox/{conversation.pk}/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.get_by_role("textbox", name="Message", exact=True).fill("Yes, it left our warehouse today")
    page.get_by_role("button", name="Send", exact=True).click()
    bubble = page.locator(".bubble.out").filter(has_text="it left our warehouse today")
    expect(bubble.locator(".tick-read")).to_be_visible(timeout=20_000)  # the sandbox called back: sent, delivered, read
    received = SandboxMessage.objects.get(channel=sandbox_whatsapp, direction=SandboxMessage.Direction.TO_CUSTOMER)
    assert received.payload["text"]["body"] == "Yes, it left our warehouse today"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_20_recipient_campaign_on_the_embedded_default_finishes(embedded, sandbox_whatsapp, open_page, supervisor, password, viewport):
    label = LabelFactory(name="diwali")
    for i in range(20):
        ContactPhoneFactory(number=f"+9198123400{i:02d}", contact__name=f"Customer {i:02d}").contact.labels.add(label)
    Template.objects.create(
        channel=sandbox_whatsapp, name="order_update", language="en", category="UTILITY", status="APPROVED",
        components=[{"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way.", "example": {"body_text": [["Meera", "A-1"]]}}],
    )
    server = embedded()
    page = log_in(open_page(viewport), server, supervisor, password)
    page.goto(f"{server.url}/campaigns/new/")
    page.get_by_label("Campaign name").fill("Diwali orders")
    page.get_by_label("Label").select_option(label="diwali")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.locator("#campaign-count")).to_have_text("20")
    page.get_by_label("Template").select_option(label="order_update (en)")
    expect(page.get_by_label("Campaign name")).to_have_value("Diwali orders")  # choosing a template keeps it
    page.get_by_label("Body {{1}}").fill("{first_name}")
    page.get_by_label("Body {{2}}").fill("A-4521")
    page.get_by_role("button", name="Send to 20 contacts…").click()
    expect(page.locator("#campaign-confirm")).to_contain_text("to 20 contacts with a phone (label diwali)")
    assert not Campaign.objects.exists()  # nothing is sent before the confirmation
    page.get_by_role("button", name="Yes, send to 20 contacts").click()

    expect(page.get_by_role("heading", name="Diwali orders")).to_be_visible()
    counts = page.locator("#campaign-live .counts")
    expect(counts).to_contain_text("Done · 100% of 20", timeout=60_000)
    expect(counts).to_contain_text("0 failed")
    rows = page.locator("#campaign-live tbody tr")
    expect(rows).to_have_count(20)
    for result in page.locator("#campaign-live tbody .result").all_inner_texts():
        assert result in ("sent", "delivered", "read")
    expect(page.locator(".campaign-problem")).to_have_count(0)
    campaign = Campaign.objects.get()
    assert campaign.status == "done" and campaign.problem == ""
    assert SandboxMessage.objects.filter(channel=sandbox_whatsapp, type="template").count() == 20  # each sent once
    assert "database is locked" not in server.log()


def test_a_burst_of_60_webhooks_then_silence_is_applied_within_seconds(embedded, sandbox_whatsapp, open_page, supervisor, password):
    server = embedded()
    page = log_in(open_page(), server, supervisor, password)
    page.goto(f"{server.url}/inbox/?view=all")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    bodies = []
    for i in range(60):
        _, body = omni.customer_message(sandbox_whatsapp, f"+9198765{i:05d}", name=f"Burst {i:02d}", text=f"Hello from {i:02d}")
        bodies.append(body)
    url = f"{server.url}/webhooks/tata/{sandbox_whatsapp.webhook_token}/"
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda body: omni.post_signed(url, PARTNER_TOKEN, body).status_code, bodies))
    assert statuses == [200] * 60
    silent_since = time.monotonic()

    wait_until(lambda: not WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).exists(), 10,
               f"events still waiting after 10 s of silence: {WebhookEvent.objects.filter(status='received').count()}")
    applied_after = time.monotonic() - silent_since
    assert WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() == 60
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 60
    print(f"60 webhooks applied {applied_after:.1f} s after the last one")  # noqa: T201 - the figure, for the report
    expect(page.locator("#conv-list-pane")).to_contain_text(re.compile(r"Hello from \d\d"))
    assert "database is locked" not in server.log()
    assert json.loads(bodies[0])  # the bodies were the fixtures' shape


def test_the_embedded_default_runs_the_periodic_jobs_itself(embedded, sandbox_whatsapp):
    """What Celery beat does in production: left from before a restart, events never applied and a
    snooze that came due are settled with no request at all."""
    contact = ContactPhoneFactory(number="+919812345678", contact__name="Meera Iyer").contact
    snoozed = Conversation.objects.create(channel=sandbox_whatsapp, contact=contact, team=sandbox_whatsapp.team,
                                          status=Conversation.Status.SNOOZED, snoozed_until=timezone.now() - datetime.timedelta(minutes=1))
    for i in range(3):
        _, body = omni.customer_message(sandbox_whatsapp, f"+91981234570{i}", name=f"Waiting {i}", text=f"Still there? {i}")
        WebhookEvent.objects.create(source="tata_whatsapp", channel=sandbox_whatsapp, headers={}, body=body)
    embedded()
    wait_until(lambda: WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() == 3, 20, "the periodic drain did not run")
    wait_until(lambda: Conversation.objects.get(pk=snoozed.pk).status == Conversation.Status.OPEN, 20, "the snooze was not woken")
