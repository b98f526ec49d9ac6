"""Automated calls in a real browser, desktop and phone sized, against the sandbox Smartflo: a
supervisor starts a confirmation call to a filtered contact, the sandbox customer phone answers (the
sandbox streams the call over a real WebSocket to the Outbound Voice URL's socket), hears the prompt,
presses 1 on the keypad, and the contact's timeline says "confirmed"."""

import io
import math
import struct
import wave

import pytest
from playwright.sync_api import expect

from contacts.models import Contact
from sandbox.models import SandboxCall
from telephony.models import AutomatedCall, TelephonyConnection
from tests.e2e.test_telephony_browser import _wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [{"width": 1280, "height": 800}, {"width": 390, "height": 844}]


def prompt_wav(tmp_path):
    """A 0.6 s recording as a business would upload it: WAV, 16 kHz, 16-bit, mono."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * 523 * n / 16000))) for n in range(9600)))
    path = tmp_path / "cod-confirmation.wav"
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture
def sandbox_smartflo(asgi_live_server, sales_team, settings):
    settings.TASKS_INLINE = False  # as on `make run`: tasks run on threads of the server process
    return TelephonyConnection.objects.create(
        provider="tata_smartflo", name="Sandbox Smartflo", base_url=asgi_live_server.url + "/sandbox/api/smartflo",
        auth_token="sandbox-token", api_key="sandbox-support-key", phone_numbers=["+918069001000"], is_default=True,
        team=sales_team,
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_an_automated_confirmation_call_gets_1_and_the_timeline_says_confirmed(
    asgi_login_page, asgi_live_server, sandbox_smartflo, admin_user, password, viewport, tmp_path
):
    contact = Contact.objects.create(name="Meera Iyer")
    contact.phones.create(number="+919812345678", is_primary=True)
    Contact.objects.create(name="Someone Else").phones.create(number="+919812300001", is_primary=True)
    page = asgi_login_page(admin_user, password)
    page.set_viewport_size(viewport)
    page.goto(f"{asgi_live_server.url}/telephony/calls/")
    page.get_by_role("link", name="Automated calls").click()
    page.get_by_role("link", name="New automated calls").click()
    page.get_by_label("Search contacts").fill("Meera")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.locator("#automated-count")).to_have_text("1")
    page.get_by_label("Name").fill("COD orders today")
    page.get_by_label("Kind").select_option("confirmation")
    page.get_by_label("Recording (WAV)").set_input_files(str(prompt_wav(tmp_path)))
    page.get_by_role("button", name="Call 1 contact").click()
    expect(page.locator("h1")).to_have_text("COD orders today")
    expect(page.locator("#automated-live")).to_contain_text("on the phone")

    automated = _wait_for(lambda: AutomatedCall.objects.filter(contact=contact, call__isnull=False).first())
    ringing = _wait_for(lambda: SandboxCall.objects.filter(custom_identifier=automated.call.custom_identifier).first())
    phone = asgi_login_page(admin_user, password)
    phone.set_viewport_size(viewport)
    phone.goto(f"{asgi_live_server.url}/sandbox/calls/")
    phone.get_by_role("link", name="Customer phone (keypad)").click()
    expect(phone.locator("#sandbox-handset")).to_contain_text("Ringing: +918069001000 is calling")
    phone.get_by_role("button", name="Answer").click()
    expect(phone.locator("#sandbox-handset")).to_contain_text("the prompt has played", timeout=15_000)
    expect(phone.locator("#sandbox-prompt")).to_be_visible()
    phone.get_by_role("button", name="1", exact=True).click()
    expect(phone.locator("#sandbox-handset")).to_contain_text("Call ended: answered", timeout=15_000)

    expect(page.locator("#automated-live")).to_contain_text("1 confirmed", timeout=15_000)
    expect(page.locator("tr[data-automated]")).to_contain_text("confirmed")
    automated.refresh_from_db()
    assert (automated.outcome, automated.digits, automated.status) == ("confirmed", "1", "ended")
    assert ringing.pk and automated.call.recording_status == "ready"
    page.goto(f"{asgi_live_server.url}/contacts/{contact.pk}/")
    timeline_call = page.locator(".tl-call").first
    expect(timeline_call).to_contain_text("confirmed (pressed 1)")
    expect(timeline_call.locator("audio.call-audio")).to_have_count(1)
