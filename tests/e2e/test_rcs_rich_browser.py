"""A Support agent builds a carousel of two cards with suggestions on an RCS conversation, sees it in the
phone-like preview, sends it; the customer's phone in the sandbox shows it; the customer types (the
agent sees "typing…" live) and taps a suggestion (the agent sees the tap, named by its chip and card,
live); the ticks reach read. Desktop and phone, against the sandbox on the ASGI live server."""

import base64
import re

import pytest
from playwright.sync_api import expect

from inbox.models import Message
from tests.e2e.test_rcs_reply_browser import customer_writes_on_rcs, logged_in_page, rcs_sandbox  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# A 1×1 PNG: the card's uploaded image.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def build_carousel(page):
    page.get_by_role("button", name="Carousel", exact=True).click()
    builder = page.locator("[data-rcs-panel]")
    expect(builder).to_be_visible()
    builder.get_by_label("Card 1 title").fill("Goa, 3 nights")
    builder.get_by_label("Card 1 description").fill("Beach stay from ₹9,999")
    builder.get_by_label("Card 1 media file").set_input_files({"name": "goa.png", "mimeType": "image/png", "buffer": PNG})
    expect(builder.get_by_label("Card 1 media link (https://…)")).to_have_value(re.compile(r"/rcs-cards/"))
    builder.get_by_role("button", name="+ Suggestion on card 1").click()
    builder.get_by_label("Card 1 suggestion 1 label").fill("Book Goa")
    builder.get_by_label("Card 2 title").fill("Manali, 4 nights")
    builder.get_by_role("button", name="+ Suggestion on card 2").click()
    builder.get_by_label("Card 2 suggestion 1 type").select_option("url")
    builder.get_by_label("Card 2 suggestion 1 label").fill("Details")
    builder.get_by_label("Card 2 suggestion 1 link (https://…)").fill("https://travel.example/manali")
    return builder


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_agent_sends_a_carousel_customer_types_and_taps_and_the_agent_sees_it_live(
    browser, asgi_live_server, rcs_sandbox, other_agent, admin_user, password, viewport,  # noqa: F811
):
    conversation = customer_writes_on_rcs(rcs_sandbox, asgi_live_server)
    context, page = logged_in_page(browser, asgi_live_server.url, other_agent, password, viewport)
    contexts, errors = [context], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{asgi_live_server.url}/inbox/{conversation.pk}/")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        expect(page.locator("#composer").get_by_role("tab")).to_have_count(0)  # no WhatsApp templates on RCS

        builder = build_carousel(page)
        preview = builder.locator("[data-rcs-preview]")
        expect(preview.locator(".rcs-card")).to_have_count(2)
        expect(preview.locator(".rcs-card").first).to_contain_text("Goa, 3 nights")
        expect(preview.locator(".rcs-chip", has_text="Book Goa")).to_be_visible()
        expect(preview.locator(".rcs-chip", has_text="🔗 Details")).to_be_visible()
        expect(preview.locator(".rcs-card").first.locator("img")).to_be_visible()  # our upload, shown
        expect(builder.locator("[data-rcs-check]")).to_have_text("✓ Within every RCS limit")
        builder.get_by_label("Snippet name").fill("Winter trips")
        builder.get_by_role("button", name="Save snippet").click()
        expect(builder.locator("[data-rcs-check]")).to_have_text("Saved “Winter trips” for you.")

        builder.get_by_role("button", name="Send rich message").click()
        expect(builder).to_be_hidden()
        sent = page.locator(".bubble.out").filter(has=page.locator('[aria-label="Carousel of 2 cards"]'))
        expect(sent).to_be_visible()
        expect(sent.locator(".rcs-card-title", has_text="Manali, 4 nights")).to_be_visible()
        expect(sent.locator(".rcs-chip", has_text="Book Goa")).to_be_visible()
        expect(sent.locator(".rcs-card img")).to_have_count(1)
        expect(sent.locator(".tick-read")).to_be_visible(timeout=10_000)
        # The snippet brings the same carousel back for reuse.
        page.get_by_label("Saved rich message").select_option(label="Winter trips")
        expect(page.locator("[data-rcs-panel]").get_by_label("Card 2 title")).to_have_value("Manali, 4 nights")
        page.locator("[data-rcs-panel]").get_by_role("button", name="Close").click()

        admin_context, phone = logged_in_page(browser, asgi_live_server.url, admin_user, password, viewport)
        contexts.append(admin_context)
        phone.goto(f"{asgi_live_server.url}/sandbox/?channel={rcs_sandbox.pk}&phone=%2B919812345678")
        carousel = phone.locator('[aria-label="Carousel of 2 cards"]')
        expect(carousel).to_be_visible()
        expect(carousel).to_contain_text("Beach stay from ₹9,999")
        expect(carousel.locator("img")).to_have_count(1)

        phone.locator("#sb-text").fill("Which dates are free?")
        expect(page.locator("#typing-indicator")).to_have_text("typing…")

        phone.get_by_role("button", name="Book Goa").click()
        tap = page.locator(".bubble.in").filter(has_text="Book Goa")
        expect(tap).to_be_visible()
        expect(tap.locator("[data-tapped-chip]")).to_have_text("Tapped on card 1 (“Goa, 3 nights”)")
        expect(page.locator("#typing-indicator")).to_have_count(0)  # their message arrived: typing cleared

        ours = Message.objects.get(direction="out", type="rich")
        answer = Message.objects.get(direction="in", type="suggestion")
        assert ours.status == "read" and answer.reply_to_id == ours.pk
        assert errors == []
    finally:
        for each in contexts:
            each.close()
