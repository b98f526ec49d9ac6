"""What an agent meets in the thread, on a desktop (1280×800) and a phone (390×844): refusals said next
to the composer with the draft kept, a direct link without banners, Reply / Private note, the attached
file shown and removable, emoji, and on a phone list → thread → contact → back without sideways
scrolling."""

import base64
import datetime
import re
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from inbox.models import Channel, Conversation, Message, Template
from tests.factories import UserFactory
from tests.inbox.tata_payloads import PARTNER_TOKEN
from tests.inbox.ui_helpers import conversation_for, message_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
BIG_PNG = PNG + b"\0" * (6 * 1024 * 1024)


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    return VIEWPORTS[request.param]


@pytest.fixture
def open_page(asgi_login_page, viewport, password):
    """A logged-in page of the given size; `errors` collects the page's script errors."""

    def login(user):
        page = asgi_login_page(user, password, viewport)
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None)
        return page

    return login


@pytest.fixture
def sandbox_channel(asgi_live_server, sales_team, settings):
    settings.TASKS_INLINE = False   # sends go to the sandbox from a worker thread, as without Redis
    return Channel.objects.create(
        kind=Channel.Kind.WHATSAPP, name="Sandbox WhatsApp", phone_number="+919876500001",
        api_base_url=asgi_live_server.url + "/sandbox/api/tata", access_token="sandbox-token",
        partner_token=PARTNER_TOKEN, team=sales_team,
    )


@pytest.fixture
def open_conversation(sandbox_channel, sales_team):
    conversation = conversation_for(sandbox_channel, team=sales_team, name="Meera Iyer", last_inbound_at=timezone.now())
    message_in(conversation, "Is my order shipped?")
    return conversation


def goto(page, live_server, path):
    page.goto(live_server.url + path)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def assert_no_sideways_scroll(page):
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
    assert width <= inner, f"{page.url} scrolls sideways: {width} > {inner}"


def assert_on_screen(page, selector):
    box = page.locator(selector).bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"] + 1, (selector, box)


def test_refusals_are_said_next_to_the_composer_and_the_draft_stays(open_page, asgi_live_server, open_conversation, agent, tmp_path):
    page = open_page(agent)
    goto(page, asgi_live_server, f"/inbox/{open_conversation.pk}/")
    message = page.get_by_role("textbox", name="Message", exact=True)
    error = page.locator("#composer #composer-error")

    page.get_by_role("button", name="Send", exact=True).click()
    expect(error).to_have_text("Write a message first.")
    assert_on_screen(page, "#composer-error")

    message.fill("Here is the photo of your parcel")
    big = tmp_path / "parcel.png"
    big.write_bytes(BIG_PNG)
    page.locator("#composer-file").set_input_files(str(big))
    expect(page.locator("#composer-attachment")).to_contain_text("parcel.png")
    expect(page.locator("#composer-attachment .attachment-size")).to_have_text("6.0 MB")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(error).to_have_text("parcel.png is 6.0 MB; WhatsApp images can be at most 5 MB.")
    expect(message).to_have_value("Here is the photo of your parcel")      # what was typed is kept
    expect(page.locator("#composer-attachment")).to_contain_text("parcel.png")  # and the chosen file
    assert page.evaluate("document.getElementById('composer-file').files.length") == 1
    assert_on_screen(page, "#composer-error")
    assert not Message.objects.filter(direction="out").exists()

    # Removing the file and sending the text works, and the reason goes away.
    page.get_by_role("button", name="Remove the attached file").click()
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".bubble.out").filter(has_text="Here is the photo of your parcel")).to_be_visible()
    expect(page.locator("#composer-error")).to_be_hidden()
    expect(message).to_have_value("")
    assert page.errors == []


def test_a_server_failure_or_lost_connection_is_said_too(open_page, asgi_live_server, open_conversation, agent):
    page = open_page(agent)
    goto(page, asgi_live_server, f"/inbox/{open_conversation.pk}/")
    message = page.get_by_role("textbox", name="Message", exact=True)
    message.fill("Are you there?")
    page.route("**/send/", lambda route: route.fulfill(status=500, body="boom"))
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#composer-error")).to_contain_text("The server could not do that (error 500)")
    expect(message).to_have_value("Are you there?")
    page.unroute("**/send/")
    page.route("**/send/", lambda route: route.abort())
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#composer-error")).to_contain_text("Sampark could not be reached")
    expect(message).to_have_value("Are you there?")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()


def test_template_left_on_choose_and_an_rcs_refusal_are_said(open_page, asgi_live_server, open_conversation, sales_team, agent):
    Conversation.objects.filter(pk=open_conversation.pk).update(last_inbound_at=timezone.now() - datetime.timedelta(hours=30))
    Template.objects.create(
        channel=open_conversation.channel, name="order_update", language="en", category="UTILITY", status="APPROVED",
        components=[{"type": "BODY", "text": "Hi {{1}}, your order is on its way.", "example": {"body_text": [["Meera"]]}}],
    )
    page = open_page(agent)
    goto(page, asgi_live_server, f"/inbox/{open_conversation.pk}/")
    template = page.get_by_label("Approved template")
    template.select_option(label="order_update (en, utility)")
    expect(page.get_by_label("Body {{1}}")).to_be_visible()
    template.select_option(label="Choose…")
    expect(page.get_by_label("Body {{1}}")).to_have_count(0)
    page.get_by_role("button", name="Send template").click()
    expect(page.locator("#composer-error")).to_have_text("Choose a template first.")
    assert page.errors == []   # no hx-disabled-elt selector error when a template is chosen

    rcs = Channel.objects.create(kind=Channel.Kind.RCS, name="Sandbox RCS", phone_number="+919876500002",
                                 api_base_url=asgi_live_server.url + "/sandbox/api/tata", access_token="t", team=sales_team)
    on_rcs = conversation_for(rcs, team=sales_team, name="Kabir Rao", last_inbound_at=timezone.now())
    message_in(on_rcs, "Hi from RCS")
    goto(page, asgi_live_server, f"/inbox/{on_rcs.pk}/")
    expect(page.locator("#thread-head h1")).to_have_text("Kabir Rao")
    expect(page.get_by_label("Approved template")).to_have_count(0)   # nothing WhatsApp-only on RCS
    expect(page.get_by_label("Attach a file")).to_have_count(0)
    page.get_by_role("textbox", name="Message", exact=True).fill("   ")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#composer-error")).to_have_text("Write a message first.")
    expect(page.get_by_role("textbox", name="Message", exact=True)).to_have_value("   ")


def test_a_direct_link_shows_the_thread_and_composer_without_banners(open_page, asgi_live_server, open_conversation, agent):
    for i in range(30):
        message_in(open_conversation, f"Line {i}", at=timezone.now() - datetime.timedelta(minutes=40 - i),
                   direction=Message.Direction.NOTE if i % 5 == 0 else Message.Direction.INBOUND)
    page = open_page(agent)
    for _ in range(2):   # the link, then a refresh
        goto(page, asgi_live_server, f"/inbox/{open_conversation.pk}/")
        expect(page.locator(".bubble").filter(has_text="Line 29")).to_be_visible()
        expect(page.locator(".flash li")).to_have_count(0)
        assert_on_screen(page, "#composer-area")
        assert_no_sideways_scroll(page)


def test_message_on_whatsapp_lands_on_the_thread_with_one_banner(open_page, asgi_live_server, open_conversation, agent):
    template = Template.objects.create(
        channel=open_conversation.channel, name="welcome", language="en", category="MARKETING", status="APPROVED",
        components=[{"type": "BODY", "text": "Welcome to our shop!"}],
    )
    page = open_page(agent)
    contact = open_conversation.contact
    goto(page, asgi_live_server, f"/outbound/contacts/{contact.pk}/start/?channel={open_conversation.channel.pk}&template={template.pk}")
    page.get_by_role("button", name="Send template").click()
    page.wait_for_url(f"**/inbox/{open_conversation.pk}/")
    expect(page.locator(".flash li")).to_have_count(1)
    expect(page.locator(".flash li")).to_contain_text("Template welcome queued")
    assert_on_screen(page, "#composer-area")


def test_reply_and_note_modes_attach_preview_and_emoji(open_page, asgi_live_server, open_conversation, agent, tmp_path):
    page = open_page(agent)
    goto(page, asgi_live_server, f"/inbox/{open_conversation.pk}/")
    area = page.locator("#composer-area")
    message = page.get_by_role("textbox", name="Message", exact=True)

    # One editor, two modes: the draft moves to the note, which is written on yellow.
    message.fill("Customer prefers evenings")
    page.get_by_role("tab", name="Private note").click()
    note = page.get_by_role("textbox", name="Private note")
    expect(note).to_have_value("Customer prefers evenings")
    expect(message).to_be_hidden()
    expect(area).to_have_css("background-color", "rgb(255, 248, 225)")
    page.get_by_role("button", name="Insert an emoji").click()
    page.get_by_role("button", name="thumbs up").click()
    expect(note).to_have_value("Customer prefers evenings👍")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".bubble.note").filter(has_text="Customer prefers evenings👍")).to_be_visible()
    expect(page.get_by_role("tab", name="Private note")).to_have_attribute("aria-selected", "true")
    assert Message.objects.filter(direction="note", body="Customer prefers evenings👍").exists()

    page.get_by_role("tab", name="Reply").click()
    expect(message).to_be_visible()
    expect(area).not_to_have_css("background-color", "rgb(255, 248, 225)")
    page.keyboard.press("Escape")   # out of the field: "n" writes a note, as in the rest of the inbox
    page.keyboard.press("n")
    expect(page.get_by_role("textbox", name="Private note")).to_be_focused()
    page.get_by_role("tab", name="Reply").click()

    # The attached file is shown (name, size, thumbnail) and can be removed.
    image = tmp_path / "invoice.png"
    image.write_bytes(PNG)
    page.locator("#composer-file").set_input_files(str(image))
    chip = page.locator("#composer-attachment")
    expect(chip).to_contain_text("invoice.png")
    expect(chip.locator(".attachment-size")).to_have_text(f"{len(PNG)} B")
    expect(chip.locator("img.attachment-thumb")).to_be_visible()
    assert chip.locator("img.attachment-thumb").evaluate("img => img.naturalWidth") == 1
    page.get_by_role("button", name="Remove the attached file").click()
    expect(chip).to_be_hidden()
    assert page.evaluate("document.getElementById('composer-file').files.length") == 0

    # Emoji go in at the caret; Escape closes the picker.
    message.fill("Thanks !")
    message.evaluate("field => field.setSelectionRange(7, 7)")
    page.get_by_role("button", name="Insert an emoji").first.click()
    picker = page.get_by_role("dialog", name="Emoji")
    expect(picker).to_be_visible()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    page.get_by_role("button", name="Insert an emoji").first.click()
    page.get_by_role("button", name="folded hands").click()
    expect(message).to_have_value("Thanks 🙏!")
    expect(picker).to_be_hidden()
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".bubble.out").filter(has_text="Thanks 🙏!")).to_be_visible()
    assert_no_sideways_scroll(page)
    assert page.errors == []


def test_open_a_conversation_reply_and_go_back(open_page, asgi_live_server, open_conversation, agent, viewport):
    phone = viewport["width"] < 768
    open_conversation.contact.email = "meera.iyer.accounts-department@a-rather-long-company-domain.example.in"
    open_conversation.contact.save()
    page = open_page(agent)
    goto(page, asgi_live_server, "/inbox/?view=all")
    assert_no_sideways_scroll(page)
    row = page.locator(f"#conv-{open_conversation.pk} a")
    row.click()
    message = page.get_by_role("textbox", name="Message", exact=True)
    expect(message).to_be_visible()
    expect(page.locator("#conv-list")).to_be_hidden() if phone else expect(page.locator("#conv-list")).to_be_visible()
    assert_on_screen(page, "#composer-area")
    assert_no_sideways_scroll(page)

    message.fill("It left our warehouse today")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".bubble.out").filter(has_text="It left our warehouse today")).to_be_visible()
    assert_no_sideways_scroll(page)

    # The header's actions work on the phone too.
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_label("Assignee")).to_have_value(str(agent.pk))

    panel = page.locator("#contact-panel")
    email = panel.get_by_role("link", name=open_conversation.contact.email)
    if phone:
        expect(panel).to_be_hidden()
        page.get_by_role("button", name="Contact").click()
        expect(page.locator("#thread")).to_be_hidden()
    expect(email).to_be_visible()
    right = email.evaluate("link => link.getBoundingClientRect().right")   # the panel may be refetched meanwhile
    assert right <= page.viewport_size["width"] + 1   # cut with an ellipsis, not off screen
    assert email.get_attribute("title") == open_conversation.contact.email
    assert_no_sideways_scroll(page)
    if phone:
        page.get_by_role("button", name="Back to the conversation").click()
        expect(page.locator("#thread")).to_be_visible()
        page.get_by_role("link", name="Back to conversations").click()
        expect(page.locator("#conv-list")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/inbox/\?view=all"))   # back with the filters it was opened from
        expect(row).to_be_visible()
    else:
        expect(page.get_by_role("link", name="Back to conversations")).to_be_hidden()


def test_no_page_scrolls_sideways_and_the_menu_opens(open_page, asgi_live_server, open_conversation, viewport, settings):
    settings.SANDBOX_ENABLED = True
    from campaigns.models import Campaign
    from tests.dialplan.factories import DialplanFactory, make_rule

    admin = UserFactory(username="asha.admin", role=Role.ADMIN, is_staff=True, is_superuser=True)
    template = Template.objects.create(channel=open_conversation.channel, name="welcome", language="en", category="MARKETING",
                                       status="APPROVED", components=[{"type": "BODY", "text": "Welcome!"}])
    campaign = Campaign.objects.create(name="Diwali offer for every customer who bought in the last year", channel=open_conversation.channel,
                                       template=template, created_by=admin)
    dialplan = DialplanFactory(name="Main menu", smartflo_id="mainmenu1")
    make_rule(dialplan, "Everyone", is_failover=True, action="transfer", transfer_type="department", transfer_to="801")
    page = open_page(admin)
    contact = open_conversation.contact
    for path in ["/inbox/", f"/inbox/{open_conversation.pk}/", "/contacts/", f"/contacts/{contact.pk}/", "/campaigns/", "/campaigns/new/",
                 f"/campaigns/{campaign.pk}/", "/outbound/templates/", "/outbound/templates/new/", "/outbound/canned/",
                 f"/admin/dialplan/dialplan/{dialplan.pk}/simulate/", "/sandbox/"]:
        response = page.goto(asgi_live_server.url + path)
        assert response.status == 200, path
        assert_no_sideways_scroll(page)

    page.goto(asgi_live_server.url + "/contacts/")
    play = page.get_by_role("link", name="Play the customer")
    if viewport["width"] < 768:
        expect(play).to_be_hidden()
        page.get_by_role("button", name="Menu").click()
    expect(play).to_be_visible()
    play.click()
    expect(page).to_have_url(f"{asgi_live_server.url}/sandbox/")


def test_an_empty_inbox_says_how_a_first_message_comes(open_page, asgi_live_server, admin_user, agent, settings):
    settings.SANDBOX_ENABLED = True
    page = open_page(agent)
    goto(page, asgi_live_server, "/inbox/")
    hint = page.locator(".first-message")
    expect(hint).to_contain_text("No conversations yet.")
    expect(hint.get_by_role("link", name="Play the customer")).to_have_count(0)   # agents may not use the sandbox

    page = open_page(admin_user)
    goto(page, asgi_live_server, "/inbox/")
    play = page.locator(".first-message").get_by_role("link", name="Play the customer")
    expect(play).to_be_visible()
    assert_no_sideways_scroll(page)
    play.click()
    expect(page).to_have_url(f"{asgi_live_server.url}/sandbox/")
