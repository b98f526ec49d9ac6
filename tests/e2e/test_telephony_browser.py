"""Telephony in a real browser, desktop and phone sized: the Smartflo wizard shows both URLs and the
test result; a sandbox inbound call lands on the contact's timeline with a playable recording; a
missed call shows in the inbox; the import's progress bar finishes."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Team
from inbox.models import Conversation
from telephony.models import AgentLine, Call, TelephonyConnection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [{"width": 1280, "height": 800}, {"width": 390, "height": 844}]


@pytest.fixture
def sandbox_smartflo(asgi_live_server, agent):
    AgentLine.objects.create(user=agent, agent_id="05000001")
    return TelephonyConnection.objects.create(
        provider="tata_smartflo", name="Sandbox Smartflo", base_url=asgi_live_server.url + "/sandbox/api/smartflo",
        auth_token="sandbox-token", phone_numbers=["+918069001000"], is_default=True, team=Team.objects.get(name="Sales"),
    )


def sized(page, viewport):
    page.set_viewport_size(viewport)
    return page


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_wizard_shows_both_urls_and_the_test_result(asgi_login_page, asgi_live_server, admin_user, password, viewport):
    page = sized(asgi_login_page(admin_user, password), viewport)
    page.goto(f"{asgi_live_server.url}/telephony/connections/new/")
    page.get_by_label("Account name").fill("Test TT")
    page.get_by_role("button", name="Continue").click()
    connection = TelephonyConnection.objects.get(name="Test TT")
    # Point it at the sandbox (the real portal is unreachable here).
    page.get_by_text("Or sign in with the panel email and password").click()
    page.get_by_label("API base URL").fill(asgi_live_server.url + "/sandbox/api/smartflo")
    page.get_by_label("Authorization Token").fill("eyJ****masked")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("masked")
    page.get_by_label("Authorization Token").fill("Bearer wizard-token")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("Outbound Voice URL")).to_have_value(re.compile(r"/telephony/voice/.+/\{telephony_id\}/$"))
    expect(page.get_by_label("Status URL")).to_have_value(f"{asgi_live_server.url}/telephony/status/{connection.status_token}/")
    expect(page.get_by_text("Call hangup (Missed or Answered)").first).to_be_visible()
    connection.refresh_from_db()
    assert connection.auth_token == "wizard-token"
    page.get_by_role("link", name="Continue").click()
    page.get_by_label("API Key").fill("c2c-key")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Test connection").click()
    result = page.locator("#test-result")
    expect(result).to_contain_text("Everything works.")
    expect(result).to_contain_text("Call records (/v1/call/records)")
    expect(result.locator("li.mono").first).to_have_text("+918069001000")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_sandbox_inbound_call_lands_on_the_timeline_with_a_playable_recording(
    asgi_login_page, asgi_live_server, sandbox_smartflo, admin_user, agent, password, viewport
):
    page = sized(asgi_login_page(admin_user, password), viewport)
    page.goto(f"{asgi_live_server.url}/sandbox/calls/")
    page.get_by_label("Caller's phone").fill("98123 45678")
    page.get_by_role("button", name="Call").click()
    expect(page.locator("#sandbox-call")).to_contain_text("Ringing")
    page.get_by_role("button", name="Answer").click()
    expect(page.locator("#sandbox-call")).to_contain_text("Talking with")
    page.get_by_role("button", name="Hang up").click()
    expect(page.locator("#sandbox-call")).to_contain_text("Call ended: answered")

    call = _wait_for(lambda: Call.objects.filter(recording_status="ready").first())
    assert call.agent == agent and call.status == "answered" and call.customer_number == "+919812345678"
    page.goto(f"{asgi_live_server.url}/contacts/{call.contact_id}/")
    entry = page.locator(".tl-call").first
    expect(entry).to_contain_text("Answered")
    audio = entry.locator("audio")
    expect(audio).to_have_attribute("src", f"/telephony/calls/{call.pk}/recording/")
    duration = page.evaluate(
        """async (el) => { el.load(); await new Promise((ok, ko) => { el.onloadedmetadata = ok; el.onerror = ko; });
                           return el.duration; }""",
        audio.element_handle(),
    )
    assert 1.0 < duration < 2.0
    entry.get_by_placeholder("Note on this call").fill("Asked about the invoice")
    entry.get_by_role("button", name="Add note").click()
    expect(page.locator(".tl-call").first).to_contain_text("Asked about the invoice")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_missed_call_shows_in_the_inbox(asgi_login_page, asgi_live_server, sandbox_smartflo, admin_user, agent, password, viewport):
    caller = asgi_login_page(admin_user, password)
    caller.goto(f"{asgi_live_server.url}/sandbox/calls/")
    caller.get_by_label("Caller's phone").fill("+91 99000 11122")
    caller.get_by_role("button", name="Call").click()
    caller.get_by_role("button", name="Let it ring out (missed)").click()
    expect(caller.locator("#sandbox-call")).to_contain_text("Call ended: missed")

    conversation = _wait_for(lambda: Conversation.objects.filter(channel__kind="voice").first())
    page = sized(asgi_login_page(agent, password), viewport)
    # Nobody has taken it yet: it waits in the team's Unassigned queue (an agent's inbox opens on Mine).
    page.goto(f"{asgi_live_server.url}/inbox/?view=unassigned&status=open")
    row = page.locator(f"#conv-{conversation.pk}")
    expect(row).to_contain_text("Missed call")
    page.goto(f"{asgi_live_server.url}/inbox/{conversation.pk}/")
    expect(page.locator(".activity.call")).to_contain_text("Missed call")
    expect(page.locator("#composer")).to_have_count(0)
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_label("Assignee")).to_have_value(str(agent.pk))
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("[data-role=status]")).to_have_text("Resolved")
    page.get_by_role("link", name="Message on WhatsApp").click()
    expect(page).to_have_url(re.compile(rf"/outbound/contacts/{conversation.contact_id}/start/$"))


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_import_progress_bar_finishes(asgi_login_page, asgi_live_server, sandbox_smartflo, admin_user, password, viewport, settings):
    import random

    from sandbox.models import SandboxCall
    from sandbox.smartflo import seed_history

    settings.TASKS_INLINE = False  # the import runs on a thread, as with a worker; the page hears it live
    seed_history(sandbox_smartflo, count=450, days=10, rng=random.Random(3))
    SandboxCall.objects.update(has_recording=False)  # the bar is measured here; recordings play in the test above
    page = sized(asgi_login_page(admin_user, password), viewport)
    page.goto(f"{asgi_live_server.url}/telephony/connections/{sandbox_smartflo.pk}/import/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.get_by_role("button", name="Import").click()
    bar = page.locator(".imports .import").first.locator(".progress")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=30_000)
    expect(page.locator(".imports .import").first).to_contain_text("450 of 450 records (450 new")
    assert Call.objects.count() == 450


def _wait_for(lookup, timeout=15):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = lookup()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out waiting")
