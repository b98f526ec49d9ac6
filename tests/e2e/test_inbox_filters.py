"""The conversation list's filters in a real browser: choosing one reloads the list in place and the
choice stays shown."""

import re

import pytest
from playwright.sync_api import expect

from inbox.models import Conversation
from tests.factories import LabelFactory
from tests.inbox.ui_helpers import conversation_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_status_and_label_filters_narrow_the_list_and_stay_chosen(asgi_login_page, supervisor, sales_team, password):
    conversation_for(team=sales_team, name="Open Olga")
    waiting = conversation_for(team=sales_team, name="Pending Priya", status=Conversation.Status.PENDING)
    conversation_for(team=sales_team, name="Pending Paul", status=Conversation.Status.PENDING)
    vip = LabelFactory(name="VIP")
    waiting.labels.add(vip)

    page = asgi_login_page(supervisor, password)
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    rows = page.locator("#conv-list .conv .conv-name")
    expect(rows).to_have_count(3)

    page.get_by_label("Status").select_option("pending")
    expect(rows).to_have_count(2)
    expect(page.locator("#conv-list")).not_to_contain_text("Open Olga")
    expect(page.get_by_label("Status")).to_have_value("pending")

    page.get_by_label("Label").select_option(str(vip.pk))
    expect(rows).to_have_text(["Pending Priya"])
    expect(page.get_by_label("Status")).to_have_value("pending")
    expect(page.get_by_label("Label")).to_have_value(str(vip.pk))
