"""No dead ends for an agent or an admin: whom to ask for templates, a new template pending approval
until a sync approves it, bulk opt-out confirmed with its count, routing rows said in words."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from inbox.models import Channel, Conversation, OptStatus, Template
from tests.dialplan.factories import DialplanFactory, make_rule
from tests.factories import ContactFactory, ContactPhoneFactory, UserFactory
from tests.inbox.tata_payloads import PARTNER_TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [{"width": 1280, "height": 800}, {"width": 390, "height": 844}]


@pytest.fixture
def sandbox_whatsapp(asgi_live_server, sales_team):
    return Channel.objects.create(
        kind=Channel.Kind.WHATSAPP, name="Sandbox WhatsApp", phone_number="+919876500001",
        api_base_url=asgi_live_server.url + "/sandbox/api/tata", access_token="sandbox-token",
        partner_token=PARTNER_TOKEN, team=sales_team,
    )


@pytest.fixture
def asha(db):
    return UserFactory(username="asha", first_name="Asha", last_name="Rao", role="admin")


@pytest.fixture(params=VIEWPORTS, ids=["desktop", "phone"])
def sized(request, asgi_login_page):
    def login(user, password):
        page = asgi_login_page(user, password)
        page.set_viewport_size(request.param)
        return page

    return login


def test_an_agent_outside_the_window_without_templates_is_told_whom_to_ask(sized, asgi_live_server, sandbox_whatsapp, agent, asha, password):
    contact = ContactPhoneFactory(number="+919812345678", contact__name="Meera Iyer").contact
    conversation = Conversation.objects.create(channel=sandbox_whatsapp, contact=contact, team=sandbox_whatsapp.team,
                                               last_inbound_at=timezone.now() - datetime.timedelta(days=2))
    page = sized(agent, password)
    page.goto(f"{asgi_live_server.url}/inbox/{conversation.pk}/")
    expect(page.locator("#no-templates")).to_contain_text("Only admins sync and create templates: ask Asha Rao.")


def test_a_template_created_in_the_app_is_pending_until_a_sync_approves_it(sized, asgi_live_server, sandbox_whatsapp, asha, password):
    page = sized(asha, password)
    page.goto(f"{asgi_live_server.url}{reverse('outbound:templates')}")
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Name", exact=True).fill("delivery_slot")
    page.get_by_label("Body", exact=True).fill("Hi {{1}}, choose a delivery slot for your order.")
    page.get_by_label("Body examples, one per variable, separated by |").fill("Meera")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator(".flash")).to_contain_text("pending until WhatsApp approves it")
    row = page.locator("tr").filter(has_text="delivery_slot")
    expect(row).to_contain_text("pending approval")
    expect(row).to_contain_text("sync to see its decision (last checked")
    expect(page.locator("[data-last-sync]")).to_contain_text("Last synced with Tata")
    page.get_by_role("button", name="Sync from Tata").click()
    expect(page.locator("tr").filter(has_text="delivery_slot")).to_contain_text("approved")  # the sandbox approves at once
    assert Template.objects.get(name="delivery_slot").status == "APPROVED"


def test_bulk_opt_out_asks_for_confirmation_with_the_count(sized, asgi_live_server, sandbox_whatsapp, supervisor, password):
    for i in range(3):
        ContactPhoneFactory(number=f"+91981234560{i}", contact__name=f"Kiran {i}")
    ContactPhoneFactory(number="+919812345699", contact__name="Someone else")
    page = sized(supervisor, password)
    page.goto(f"{asgi_live_server.url}/campaigns/")
    page.get_by_role("link", name="Opt-in / opt-out…").click()
    page.get_by_label("Search").fill("Kiran")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("button", name="Opt out 3…").click()
    expect(page.locator("#bulk-opt-confirm")).to_contain_text("Opt out 3 contacts on Sandbox WhatsApp?")
    assert not OptStatus.objects.exists()  # nothing happened yet
    page.get_by_role("button", name="Yes, opt out 3 contacts").click()
    expect(page.locator(".flash")).to_contain_text("3 contacts opted out on Sandbox WhatsApp")
    assert OptStatus.objects.filter(opted_out=True).count() == 3


def test_routing_on_the_contact_timeline_is_said_in_words(sized, asgi_live_server, client, asha, password):
    contact = ContactFactory(name="Meera Iyer")
    ContactPhoneFactory(contact=contact, number="+919812345678")
    plan = DialplanFactory(name="Front door")
    make_rule(plan, "Everyone to the IVR", action="transfer", transfer_type="ivr", transfer_to="3")
    client.get(plan.path, {"uuid": "1", "caller_id_number": "09812345678"})
    page = sized(asha, password)
    page.goto(f"{asgi_live_server.url}{contact.get_absolute_url()}")
    routing = page.locator(".tl-answer").first
    expect(routing).to_have_text("Transfer to ivr 3")
    expect(page.locator(".tl-raw .tl-code")).not_to_be_visible()  # the raw answer only on request
