"""The conversation list's filters in a real browser: choosing one reloads the list in place and the
choice stays shown."""

import re

import pytest
from playwright.sync_api import expect

from inbox.models import Conversation
from tests.factories import LabelFactory
from tests.inbox.ui_helpers import conversation_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def settled(page):
    """htmx has swapped the filtered pane in and wired its form: a change made before that (a robot's
    speed, not a person's) would go to the form being replaced and be lost."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')")


def test_status_and_label_filters_narrow_the_list_and_stay_chosen(asgi_login_page, asgi_live_server, supervisor, sales_team, password):
    conversation_for(team=sales_team, name="Open Olga")
    waiting = conversation_for(team=sales_team, name="Pending Priya", status=Conversation.Status.PENDING)
    conversation_for(team=sales_team, name="Pending Paul", status=Conversation.Status.PENDING)
    vip = LabelFactory(name="VIP")
    waiting.labels.add(vip)

    page = asgi_login_page(supervisor, password)
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    page.goto(f"{asgi_live_server.url}/inbox/?view=all")  # not the default Mine / Open
    rows = page.locator("#conv-list .conv .conv-name")
    expect(rows).to_have_count(3)

    page.get_by_label("Status").select_option("pending")
    expect(rows).to_have_count(2)
    expect(page.locator("#conv-list")).not_to_contain_text("Open Olga")
    expect(page.get_by_label("Status")).to_have_value("pending")
    settled(page)

    page.get_by_label("Label").select_option(str(vip.pk))
    expect(rows).to_have_text(["Pending Priya"])
    expect(page.get_by_label("Status")).to_have_value("pending")
    expect(page.get_by_label("Label")).to_have_value(str(vip.pk))


def test_a_live_refresh_that_started_before_a_filter_change_does_not_overwrite_the_filtered_list(
    asgi_login_page, asgi_live_server, supervisor, sales_team, password
):
    olga = conversation_for(team=sales_team, name="Open Olga")
    waiting = conversation_for(team=sales_team, name="Pending Priya", status=Conversation.Status.PENDING)
    conversation_for(team=sales_team, name="Pending Paul", status=Conversation.Status.PENDING)
    vip = LabelFactory(name="VIP")
    waiting.labels.add(vip)
    page = asgi_login_page(supervisor, password)
    page.goto(f"{asgi_live_server.url}/inbox/?view=all")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    rows = page.locator("#conv-list .conv .conv-name")
    expect(rows).to_have_count(3)

    held = []  # the live refresh's request (it carries `pages`; the filter form's does not)
    page.route(re.compile(r"/inbox/list/\?.*pages="), lambda route: held.append(route))
    colleague = asgi_login_page(supervisor, password)  # a second tab adds a note: an event every list hears
    colleague.goto(f"{asgi_live_server.url}/inbox/{olga.pk}/")
    colleague.get_by_role("tab", name="Private note").click()
    colleague.locator("#note-body").fill("Called her")
    colleague.get_by_role("button", name="Add note").click()
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the event did not start a list refresh"

    page.get_by_label("Label").select_option(str(vip.pk))
    expect(rows).to_have_text(["Pending Priya"])
    held[0].continue_()  # the refresh asked before the filter changed now answers, with all three rows
    page.wait_for_timeout(500)
    expect(rows).to_have_text(["Pending Priya"])
