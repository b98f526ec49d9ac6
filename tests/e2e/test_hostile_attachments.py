"""Finding 3 in a real browser: an SVG and an HTML page a customer sent as an "image" open as harmless
downloads, and no script of theirs runs in our origin (desktop and phone). The pages themselves run
under the Content-Security-Policy without a single violation."""

import re

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from inbox.models import Attachment
from tests.e2e.conftest import _logged_in_pages
from tests.inbox.ui_helpers import conversation_for, message_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each payload, if it ever ran in our origin, would leave a mark in localStorage and call the API.
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" onload="localStorage.setItem(\'pwned\', \'svg\')">'
       b"<script>localStorage.setItem('pwned', 'svg-script'); fetch('/api/contacts/?pwned=svg')</script>"
       b'<rect width="100" height="100" fill="red"/></svg>')
HTML = b"<html><body><script>localStorage.setItem('pwned', 'html'); fetch('/api/contacts/?pwned=html')</script>hi</body></html>"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@pytest.fixture
def hostile_conversation(sales_team, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    conversation = conversation_for(team=sales_team, name="Mallory")
    attachments = {}
    for label, content, claimed in (("svg", SVG, "image/svg+xml"), ("html", HTML, "image/jpeg"), ("png", PNG, "image/png")):
        message = message_in(conversation, "", type="image", content={"type": "image", "image": {"mime_type": claimed}})
        attachment = Attachment(message=message, kind="image", status="ready", mime_type=claimed, file_name=f"photo-{label}.{label}")
        attachment.file.save(f"photo-{label}.{label}", ContentFile(content), save=True)
        attachments[label] = attachment
    return conversation, attachments


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_svg_and_html_images_are_harmless_downloads(browser, live_server, agent, password, hostile_conversation, viewport):
    conversation, attachments = hostile_conversation

    def new_page():
        context = browser.new_context(viewport=viewport, accept_downloads=True)
        context.set_default_timeout(10_000)
        return context.new_page()

    page = _logged_in_pages(new_page, live_server.url)(agent, password)
    violations, api_calls = [], []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("request", lambda request: api_calls.append(request.url) if "pwned" in request.url else None)

    page.goto(f"{live_server.url}/inbox/{conversation.pk}/")
    expect(page.locator(f'[data-attachment="{attachments["png"].pk}"] img')).to_be_visible()
    page.wait_for_function(f"() => document.querySelector('[data-attachment=\"{attachments['png'].pk}\"] img').naturalWidth > 0")

    for label in ("svg", "html"):
        link = page.locator(f'[data-attachment="{attachments[label].pk}"] a')
        with page.expect_download() as download:
            link.click()
        assert download.value.suggested_filename == f"photo-{label}.{label}"
        # Typed straight into the address bar: still a download, never a page of ours.
        url = f"{live_server.url}/inbox/attachments/{attachments[label].pk}/"
        response = page.request.get(url)
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["content-disposition"].startswith("attachment")
        assert response.headers["content-security-policy"].startswith("sandbox")
        assert response.headers["x-content-type-options"] == "nosniff"

    page.wait_for_timeout(300)
    for open_page in page.context.pages:  # any tab a click opened
        if open_page.url.startswith(live_server.url):
            assert open_page.evaluate("() => localStorage.getItem('pwned')") is None
    assert api_calls == [] and violations == []


def test_pages_run_under_the_policy_without_violations(login_page, live_server, supervisor, password, sales_team):
    conversation = conversation_for(team=sales_team, name="Kiran")
    message_in(conversation, "Hello")
    page = login_page(supervisor, password)
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    for path in ("/inbox/", f"/inbox/{conversation.pk}/", "/contacts/", conversation.contact.get_absolute_url(), "/outbound/canned/",
                 "/campaigns/", "/accounts/api-keys/", "/api/docs/"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
    assert violations == []
    # The data-attribute behaviours that replaced inline handlers: confirm before a delete.
    page.goto(live_server.url + "/outbound/canned/")
    page.fill("#c-shortcut", "bye")
    page.fill("#c-body", "Goodbye!")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("table")).to_contain_text("/bye")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete").click()
    expect(page.locator("table")).to_contain_text("/bye")  # dismissed: kept
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.locator("table")).not_to_contain_text("/bye")
    assert re.search(r"/outbound/canned/$", page.url)
