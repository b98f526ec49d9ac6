import datetime

import pytest
from django.db import connection, connections
from django.utils import timezone

from core import prepared
from dialplan import selectors
from telephony.models import AgentLine
from dialplan.models import MaskedPair
from tests.factories import ContactFactory, ContactPhoneFactory, UserFactory

pytestmark = pytest.mark.django_db

CALLER = "+919812345678"


@pytest.fixture
def owned_caller():
    owner = UserFactory(phone="+919900000001")
    AgentLine.objects.create(user=owner, agent_id="05001")
    contact = ContactFactory(owner=owner)
    ContactPhoneFactory(contact=contact, number=CALLER)
    return contact


def test_caller_facts_come_from_one_lookup(owned_caller):
    facts = selectors.DatabaseFacts()
    found = facts.contact(CALLER)
    assert found.id == owned_caller.pk and found.has_owner and found.owner_target.value == "05001"
    assert facts.contact("+919800000000") is None


def test_masked_pairs_match_the_did_or_any_did_and_only_while_active(db):
    now = timezone.now()
    later = now + datetime.timedelta(hours=1)
    MaskedPair.objects.create(customer_number=CALLER, agent_number="+919900000002", did="+918069000001", expires_at=later)
    facts = selectors.DatabaseFacts()
    assert facts.pair_for_caller(CALLER, "+918069000001", now).agent_number == "+919900000002"
    assert facts.pair_for_caller("+919900000002", "+918069000001", now).customer_number == CALLER
    assert facts.pair_for_caller(CALLER, "+918069000009", now) is None  # another DID
    anywhere = MaskedPair.objects.create(customer_number="+919811111111", agent_number="+919900000003", reference="4711", expires_at=later)
    assert facts.pair_for_reference("4711", "+918069000009", now).id == anywhere.pk
    assert facts.pair_for_reference("4711", "+918069000009", later + datetime.timedelta(seconds=1)) is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_with_a_connection_pool_the_caller_lookup_is_a_prepared_statement(owned_caller, monkeypatch):
    monkeypatch.setattr(type(connections["default"]), "pool", True)  # what DATABASE_POOL=true gives daphne
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "prepare_threshold", 5)  # as settings.py sets for kept connections
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", 5)
    found = selectors.DatabaseFacts().contact(CALLER)
    assert found.id == owned_caller.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any('FROM "contacts_contactphone"' in sql for sql in statements)


def test_rules_sharing_a_schedule_share_one_compiled_schedule():
    from dialplan.models import Schedule
    from tests.dialplan.factories import DialplanFactory, make_rule

    office = Schedule.objects.create(name="Office")
    plan = DialplanFactory()
    for n in range(2):
        make_rule(plan, f"after hours {n}", schedule=office, schedule_state="closed", action="transfer", transfer_type="ivr", transfer_to="1")
    first, second = selectors.compile_plan(plan).rules
    assert first.schedule is second.schedule  # the engine then works it out once per call


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
@pytest.mark.django_db(transaction=True)  # the new connection must see the contact
def test_the_prepared_lookup_keeps_one_cursor_per_connection_and_follows_a_reconnect(owned_caller, monkeypatch):
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "prepare_threshold", 5)  # as settings.py sets for kept connections
    connection.ensure_connection()
    facts = selectors.DatabaseFacts()
    assert facts.contact(CALLER).id == owned_caller.pk
    kept = prepared._server_cursors.kept
    assert facts.contact(CALLER).id == owned_caller.pk and prepared._server_cursors.kept is kept
    kept[0].close()  # the server went away: the next request's connection is a new one
    connection.connection = None
    assert facts.contact(CALLER).id == owned_caller.pk
    assert prepared._server_cursors.kept[0] is connection.connection is not kept[0]
