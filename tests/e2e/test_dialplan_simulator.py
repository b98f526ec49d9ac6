"""A person drives the dialplan simulator in admin through a two-level DTMF menu."""

import pytest

from accounts.models import Role
from tests.dialplan.factories import DialplanFactory, RecordingFactory, make_rule
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def menus():
    sales = DialplanFactory(name="Sales menu", smartflo_id="salesmenu1")
    make_rule(sales, "1: new orders", dtmf_values="1", action="transfer", transfer_type="agent", transfer_to="05000001, 05000002", ring_type="order_by")
    make_rule(sales, "Not an option", is_failover=True, action="transfer", transfer_type="ivr", transfer_to="22590")
    main = DialplanFactory(name="Main menu", smartflo_id="mainmenu1", numbers="+918069000000")
    make_rule(
        main, "1: sales", dtmf_values="1", action="recording", recording=RecordingFactory(smartflo_id="156849"),
        collect_dtmf=True, dtmf_max_length=1, next_dialplan=sales,
    )
    make_rule(
        main, "Welcome", is_failover=True, action="recording", recording=RecordingFactory(smartflo_id="156848"),
        collect_dtmf=True, dtmf_max_length=1, next_dialplan=main_menu_choice(main),
    )
    return main


def main_menu_choice(main):
    # The welcome's digits come back to a second dialplan that reads them.
    choice = DialplanFactory(name="Main menu: choice", smartflo_id="mainchoice1")
    sales = type(main).objects.get(name="Sales menu")
    make_rule(
        choice, "1: sales", dtmf_values="1", action="recording", recording=RecordingFactory(smartflo_id="156849"),
        collect_dtmf=True, dtmf_max_length=1, next_dialplan=sales,
    )
    make_rule(choice, "2: support", dtmf_values="2", action="transfer", transfer_type="department", transfer_to="801")
    return choice


def test_simulator_follows_a_two_level_dtmf_menu(login_page, live_server, password, menus):
    admin = UserFactory(username="asha", role=Role.ADMIN)
    page = login_page(admin, password)
    page.goto(f"{live_server.url}/admin/dialplan/dialplan/{menus.pk}/change/")
    page.click("text=Simulate a call")

    page.fill("input[name=caller]", "098123 45678")
    page.click("button[name=call]")
    first = page.locator(".dp-step").nth(0)
    first.get_by_text("Play system recording 156848, collect up to 1 digits").wait_for()
    assert "Welcome" in first.inner_text()

    page.get_by_label("Digits the caller types").fill("1")
    page.click("text=Continue to Main menu: choice")
    second = page.locator(".dp-step").nth(1)
    second.get_by_text("caller typed 1").wait_for()
    assert "Play system recording 156849" in second.inner_text()
    assert '[[{"recording":{"type":"system","data":156849' in second.inner_text()

    page.get_by_label("Digits the caller types").fill("1")
    page.click("text=Continue to Sales menu")
    third = page.locator(".dp-step").nth(2)
    third.get_by_text("Transfer to agent 05000001, 05000002, ring order_by").wait_for()
    assert "1: new orders" in third.inner_text()
    assert page.locator(".dp-end").is_visible()

    # A new call starts over; a wrong digit on the second level reaches the sales menu's failover.
    page.fill("input[name=caller]", "9812345678")
    page.click("button[name=call]")
    assert page.locator(".dp-step").count() == 1
    page.get_by_label("Digits the caller types").fill("1")
    page.click("text=Continue to Main menu: choice")
    page.get_by_label("Digits the caller types").fill("7")
    page.click("text=Continue to Sales menu")
    page.locator(".dp-step").nth(2).get_by_text("Transfer to ivr 22590").wait_for()
    assert "No rule matched: failover" in page.locator(".dp-step").nth(2).inner_text()
