import re

import pytest
from playwright.sync_api import expect

from tests.factories import ContactFactory, ContactPhoneFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_by_other_phone_format_and_invalid_phone_error(login_page, live_server, agent, password):
    meera = ContactFactory(name="Meera Iyer")
    ContactPhoneFactory(contact=meera, number="+919812345678")
    ContactFactory(name="Rohan Das")

    page = login_page(agent, password)
    page.get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("link", name="Rohan Das")).to_be_visible()

    # Stored as +919812345678; typed the way a person reads it off a visiting card.
    page.get_by_label("Search contacts").fill("0 98123 45678")
    expect(page.get_by_role("link", name="Meera Iyer")).to_be_visible()
    expect(page.get_by_role("link", name="Rohan Das")).to_have_count(0)

    page.get_by_role("link", name="New contact").click()
    page.get_by_label("Name").fill("Kavya Rao")
    page.get_by_label("Phones").fill("12345")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert").filter(has_text="“12345” is not a valid phone number.")).to_be_visible()

    page.get_by_label("Phones").fill("+91 98765 43210")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/contacts/\d+/$"))
    expect(page.get_by_role("heading", name="Kavya Rao")).to_be_visible()
    expect(page.get_by_text("+91 98765 43210")).to_be_visible()
