"""Call routing on the contact timeline is said in words, as the simulator says it, not as raw JSON."""

import pytest

from tests.dialplan.factories import DialplanFactory, make_rule
from tests.factories import ContactFactory, ContactPhoneFactory

pytestmark = pytest.mark.django_db


def test_routing_rows_on_the_timeline_say_what_happened_in_words(client, logged_in, admin_user):
    contact = ContactFactory(name="Meera Iyer")
    ContactPhoneFactory(contact=contact, number="+919812345678")
    plan = DialplanFactory(name="Front door")
    make_rule(plan, "to the IVR", action="transfer", transfer_type="ivr", transfer_to="3")
    client.get(plan.path, {"uuid": "1", "caller_id_number": "09812345678"})
    page = logged_in(admin_user).get(contact.get_absolute_url()).content.decode()
    row = page[page.index("Call routing"):]
    row = row[: row.index("</details>")]
    assert "Rule matched: to the IVR" in row
    assert "<li>Transfer to ivr 3</li>" in row  # the simulator's wording (dialplan.selectors.describe_answer)
    words, raw = row.split('<details class="tl-raw">')
    assert "{" not in words  # the JSON only behind "What Smartflo got"
    assert "What Smartflo got" in raw and "&quot;transfer&quot;" in raw
