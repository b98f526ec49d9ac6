"""Telephony part 2 in a real browser, desktop and phone sized, against the sandbox Smartflo: an agent
clicks to call a contact, both sandbox phones answer, the call shows live and ends on the timeline;
a supervisor barges into a live sandbox call and transfers it."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Team
from contacts.models import Contact
from sandbox.models import SandboxCall
from telephony.models import AgentLine, Call, CallAction, TelephonyConnection
from tests.e2e.test_telephony_browser import _wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [{"width": 1280, "height": 800}, {"width": 390, "height": 844}]


@pytest.fixture
def sandbox_smartflo(asgi_live_server, agent, settings):
    settings.TELEPHONY_LIVE_POLL_SECONDS = 1.0
    settings.TASKS_INLINE = False  # as on `make run`: the embedded poller thread polls while pages watch
    AgentLine.objects.create(user=agent, agent_id="05000001", mobile="+919845000001")
    return TelephonyConnection.objects.create(
        provider="tata_smartflo", name="Sandbox Smartflo", base_url=asgi_live_server.url + "/sandbox/api/smartflo",
        auth_token="sandbox-token", phone_numbers=["+918069001000", "+918069001001"], is_default=True,
        team=Team.objects.get(name="Sales"),
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_agent_clicks_to_call_both_phones_answer_call_shows_live_and_ends_on_the_timeline(
    asgi_login_page, asgi_live_server, sandbox_smartflo, admin_user, agent, password, viewport
):
    contact = Contact.objects.create(name="Meera Iyer")
    contact.phones.create(number="+919812345678", is_primary=True)
    page = asgi_login_page(agent, password)
    page.set_viewport_size(viewport)
    page.goto(f"{asgi_live_server.url}/contacts/{contact.pk}/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.locator("details.c2c > summary").click()
    page.get_by_label("Caller id").select_option("+918069001001")
    page.get_by_role("button", name="Call now").click()
    result = page.locator(".c2c-result")
    expect(result).to_contain_text("Your phone is ringing")
    call = _wait_for(lambda: Call.objects.filter(contact=contact).first())
    assert call.custom_identifier and call.did_number == "+918069001001" and call.agent == agent

    phones = asgi_login_page(admin_user, password)
    sandbox_call = _wait_for(lambda: SandboxCall.objects.filter(custom_identifier=call.custom_identifier).first())
    phones.goto(f"{asgi_live_server.url}/sandbox/calls/")
    phones.get_by_role("link", name="Agent phone").first.click()
    expect(phones.locator("#sandbox-handset")).to_contain_text("Ringing: Sampark click-to-call to +919812345678")
    phones.get_by_role("button", name="Answer").click()
    expect(result.locator(".c2c-state")).to_have_text("Ringing", timeout=15_000)
    phones.goto(f"{asgi_live_server.url}/sandbox/calls/{sandbox_call.pk}/customer/")
    phones.get_by_role("button", name="Answer").click()
    expect(phones.locator("#sandbox-handset")).to_contain_text("Talking")
    expect(result.locator(".c2c-state")).to_have_text("In progress", timeout=15_000)
    phones.get_by_role("button", name="Hang up").click()
    expect(phones.locator("#sandbox-handset")).to_contain_text("Call ended: answered")
    expect(result.locator(".c2c-state")).to_have_text("Ended (answered)", timeout=15_000)

    call.refresh_from_db()
    assert call.status == "answered" and Call.objects.count() == 1
    page.goto(f"{asgi_live_server.url}/contacts/{contact.pk}/")
    expect(page.locator(".tl-call").first).to_contain_text("Answered")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_supervisor_barges_into_a_live_sandbox_call_and_transfers_it(
    asgi_login_page, asgi_live_server, sandbox_smartflo, supervisor, agent, teammate, password, viewport
):
    AgentLine.objects.create(user=supervisor, agent_id="05000009")
    AgentLine.objects.create(user=teammate, extension="0602123700")
    live = SandboxCall.objects.create(
        connection=sandbox_smartflo, call_id="1764650000.42", uuid="u-42", direction="inbound", state="answered", leg="talking",
        customer_number="+919812300042", did_number="+918069001000", agent_number="05000001", agent_name=str(agent),
        started_at=timezone.now(),
    )
    page = asgi_login_page(supervisor, password)
    page.set_viewport_size(viewport)
    page.goto(f"{asgi_live_server.url}/telephony/live/")
    row = page.locator("#live-calls tr[data-call]").first
    expect(row).to_contain_text("+919812300042", timeout=15_000)
    expect(row).to_contain_text(str(agent))
    expect(row.locator(".tick")).not_to_have_text("0:00", timeout=5_000)
    row.get_by_role("button", name="Barge").click()
    expect(page.locator("#live-message")).to_contain_text("Barge: Barge successful")
    live.refresh_from_db()
    assert live.operations[0]["type"] == "barge" and live.operations[0]["agent_id"] == "05000009"
    row = page.locator("#live-calls tr[data-call]").first
    row.get_by_label("Transfer to").fill("0602123700")
    row.get_by_role("button", name="Transfer").click()
    expect(page.locator("#live-message")).to_contain_text("Transfer: Transfer successful")
    live.refresh_from_db()
    assert live.operations[-1] == {**live.operations[-1], "type": "transfer", "intercom": "0602123700"}
    call = Call.objects.get(provider_call_id="1764650000.42")
    assert [(a.kind, a.by, a.ok) for a in CallAction.objects.filter(call=call)] == [("barge", supervisor, True), ("transfer", supervisor, True)]
    page.goto(f"{asgi_live_server.url}{call.get_absolute_url()}")
    expect(page.locator("#call-actions")).to_contain_text("Barge")
    expect(page.locator("#call-actions")).to_contain_text("0602123700")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_screen_pop_shows_the_callers_card_to_the_agent_who_takes_the_call(
    asgi_login_page, asgi_live_server, sandbox_smartflo, admin_user, agent, password, viewport
):
    contact = Contact.objects.create(name="Kabir Mehta")
    contact.phones.create(number="+919812399999", is_primary=True)
    page = asgi_login_page(agent, password)
    page.set_viewport_size(viewport)
    page.goto(f"{asgi_live_server.url}/inbox/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")

    phones = asgi_login_page(admin_user, password)
    phones.goto(f"{asgi_live_server.url}/sandbox/calls/")
    phones.get_by_label("Caller's phone").fill("98123 99999")
    phones.get_by_role("button", name="Call").click()
    phones.get_by_role("button", name="Answer").click()
    expect(phones.locator("#sandbox-call")).to_contain_text("Talking with")

    pop = page.locator(".screen-pop")
    expect(pop).to_contain_text("Kabir Mehta", timeout=30_000)
    expect(pop).to_contain_text("In progress")
    pop.get_by_role("link", name="Open contact").click()
    expect(page).to_have_url(f"{asgi_live_server.url}/contacts/{contact.pk}/")
