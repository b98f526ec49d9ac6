"""API keys in a real browser: make one (shown once), use it, revoke it after confirming (desktop and phone)."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import ApiKey
from tests.e2e.conftest import _logged_in_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_make_use_and_revoke_a_key(browser, new_page, live_server, agent, password, viewport):
    page = _logged_in_pages(new_page, live_server.url)(agent, password, viewport)
    if viewport["width"] < 768:  # on a phone the links sit behind the Menu button
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="API keys").click()
    expect(page).to_have_url(re.compile(r"/accounts/api-keys/$"))
    expect(page.get_by_text("No keys yet.")).to_be_visible()

    page.get_by_label("What is it for?").fill("telephony bridge")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("New API key").input_value()
    assert key.startswith("smp_live_")
    expect(page.locator("table")).to_contain_text("telephony bridge")
    expect(page.locator("table")).to_contain_text(ApiKey.objects.get().masked)

    stranger = browser.new_context()  # no session: the key alone

    def api_status():
        return stranger.request.get(f"{live_server.url}/api/contacts/", headers={"Authorization": f"Bearer {key}"}).status

    assert api_status() == 200

    page.goto(f"{live_server.url}/accounts/api-keys/")  # shown once: never again
    expect(page.get_by_label("New API key")).to_have_count(0)
    assert key not in page.content()

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("button", name="Revoke")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("table")).to_contain_text("revoked")
    assert api_status() == 401
    stranger.close()
