"""The cheap paths of call ingest: COPY of new rows on PostgreSQL (bulk_create elsewhere), the partial
unique indexes named so PostgreSQL uses them, and a drain batch's new calls inserted ahead in one
statement. Each writes what the plain path writes; tests marked `postgres_only` run where the tests
run on PostgreSQL (DATABASE_URL), the others on both."""

import datetime
from urllib.parse import urlencode

import pytest
from django.db import IntegrityError, connection as db, transaction

from contacts.models import Contact, ContactPhone
from inbox.ingest.drain import drain_received
from inbox.models import Message, WebhookEvent
from core import bulk_rows
from telephony import ingest, services
from telephony.models import AgentLine, Call
from tests.factories import UserFactory
from tests.telephony.factories import ConnectionFactory

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(db.vendor != "postgresql", reason="PostgreSQL's COPY and planner")


@pytest.fixture
def connection(sales_team):
    return ConnectionFactory(team=sales_team)


@pytest.fixture(autouse=True)
def _no_recording_downloads(monkeypatch):
    from telephony import recordings

    monkeypatch.setattr(recordings, "download", lambda url, **kw: (b"ID3" + b"\0" * 64, "audio/mpeg"))


def hangup(index: int, *, missed: bool = False, **extra) -> dict:
    return {
        "uuid": f"u-{index}", "call_id": f"c-{index}", "direction": "inbound", "call_status": "missed" if missed else "answered",
        "caller_id_number": f"91982{index:07d}", "call_to_number": "918069000000",
        "answered_agent_number": "" if missed else "05000001", "start_stamp": "2026-01-10 10:00:00",
        "end_stamp": "2026-01-10 10:02:08", "duration": "128", "billsec": "0" if missed else "120",
        "hangup_cause": "ORIGINATOR_CANCEL" if missed else "NORMAL_CLEARING", **extra,
    }


def drain(connection, deliveries) -> None:
    WebhookEvent.objects.bulk_create([
        WebhookEvent(source="smartflo", connection=connection, body=urlencode(params).encode(),
                     headers={"Content-Type": "application/x-www-form-urlencoded", "X-Sampark-Method": "GET"})
        for params in deliveries
    ])
    drain_received(batch_size=len(deliveries))
    assert set(WebhookEvent.objects.filter(source="smartflo").values_list("status", flat=True)) == {"processed"}


COMPARED = [f.attname for f in Call._meta.concrete_fields if f.attname not in ("id", "created_at", "updated_at")]


def stored(call: Call) -> dict:
    return {name: value for name, value in Call.objects.filter(pk=call.pk).values(*COMPARED).get().items()}


# ---------------------------------------------------------------- bulk_rows


def sample_call(connection, n: int, contact=None) -> Call:
    return Call(connection=connection, provider_call_id=f"b-{n}", provider_uuid=f"bu-{n}", status="answered", contact=contact,
                customer_number="+919820000001", started_at=datetime.datetime(2026, 1, 10, 4, 30, tzinfo=datetime.timezone.utc),
                duration=128, talk_time=120, hangup_cause_code=16, raw={"call_id": f"b-{n}", "ünïcode": "✓", "nested": [1, {"a": None}]},
                recording_url="https://example.com/r.mp3", recording_status=Call.Recording.PENDING)


@postgres_only
def test_copy_insert_stores_what_bulk_create_stores_and_sets_the_keys(connection):
    contact = Contact.objects.create(name="A")
    copied, created = sample_call(connection, 1, contact), sample_call(connection, 2, contact)
    bulk_rows.copy_insert(Call, [copied])
    Call.objects.bulk_create([created])
    assert copied.pk and not copied._state.adding and copied.created_at and copied.updated_at
    mine, theirs = stored(copied), stored(created)
    assert {**mine, "provider_call_id": "", "provider_uuid": "", "raw": {}} == {**theirs, "provider_call_id": "", "provider_uuid": "", "raw": {}}
    assert mine["raw"]["ünïcode"] == "✓" and mine["raw"]["nested"] == [1, {"a": None}]
    assert Call.objects.get(pk=copied.pk).created_at == copied.created_at


@postgres_only
def test_copy_insert_raises_integrity_error_on_a_unique_conflict(connection):
    bulk_rows.copy_insert(Call, [sample_call(connection, 1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_rows.copy_insert(Call, [sample_call(connection, 1)])


def test_insert_sets_primary_keys_on_every_database(connection):
    calls = [sample_call(connection, n) for n in range(3)]
    bulk_rows.insert(Call, calls)
    assert sorted(c.pk for c in calls) == sorted(Call.objects.values_list("pk", flat=True))


def test_insert_copies_only_batches_worth_the_extra_round_trip(connection, monkeypatch):
    copied = []
    real = bulk_rows.copy_insert
    monkeypatch.setattr(bulk_rows, "copy_insert", lambda model, objs: (copied.append(len(objs)), real(model, objs))[1])
    bulk_rows.insert(Call, [sample_call(connection, n) for n in range(bulk_rows.COPY_MIN_ROWS - 1)])
    bulk_rows.insert(Call, [sample_call(connection, n) for n in range(100, 100 + bulk_rows.COPY_MIN_ROWS)])
    assert copied == ([bulk_rows.COPY_MIN_ROWS] if db.vendor == "postgresql" else [])
    assert Call.objects.count() == 2 * bulk_rows.COPY_MIN_ROWS - 1


# ---------------------------------------------------------------- the backfill's pages


def records(start: int, n: int) -> list[dict]:
    return [{"call_id": f"r{i}", "uuid": f"ru{i}", "direction": "inbound", "status": "answered", "answered_seconds": "30",
             "client_number": f"9197000{i:05d}", "did_number": "918069000000", "date": "2026-01-10", "time": "10:00:00",
             "call_duration": "40", "agent_number": "05000001"} for i in range(start, start + n)]


def test_a_page_creates_contacts_with_their_phones_and_links_the_calls(connection):
    AgentLine.objects.create(user=UserFactory(), agent_id="05000001")
    ContactPhone.objects.create(contact=Contact.objects.create(name="Known"), number="+919700000001")
    assert ingest.record_page(connection, records(0, 5), follow_ups=False) == (5, 0)
    for call in Call.objects.all():
        assert call.contact.phones.get().number == call.customer_number and call.agent_id
    assert Contact.objects.get(phones__number="+919700000001").name == "Known"
    assert ingest.record_page(connection, records(0, 5), follow_ups=False) == (0, 0)


@postgres_only
def test_a_page_that_meets_a_number_stored_meanwhile_is_applied_again(connection, monkeypatch):
    """COPY cannot skip a conflicting row: the page fails whole and the retry finds the stored contact."""
    racer = Contact.objects.create(name="Racer")
    ContactPhone.objects.create(contact=racer, number="+919700000000")
    real, attempts = ingest._create_contacts, []

    def racing(numbers, known, **kwargs):
        attempts.append(numbers)
        if len(attempts) == 1:  # the page read its numbers just before another process stored this one
            numbers = [*numbers, "+919700000000"]
        return real(numbers, known, **kwargs)

    monkeypatch.setattr(ingest, "_create_contacts", racing)
    monkeypatch.setattr(services.time, "sleep", lambda seconds: None)
    assert services._record_page_with_retries(connection, records(0, 3), follow_ups=False) == (3, 0)
    assert len(attempts) == 2
    assert Call.objects.get(provider_call_id="r0").contact == racer
    assert ContactPhone.objects.filter(number="+919700000000").count() == 1


@postgres_only
def test_the_call_lookup_of_a_page_uses_the_partial_unique_indexes(connection):
    """More than 100 ids: PostgreSQL no longer proves `IN (…)` implies `<> ''` by itself."""
    ids = {f"id-{n}" for n in range(200)}
    query = Call.objects.filter(ingest.named_by(ids, {f"uuid-{n}" for n in range(200)})).order_by()
    with db.cursor() as cursor:
        # Only bitmap scans on indexes the conditions can use (or the seq scan, when none can).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "call_unique_call_id" in plan and "call_unique_uuid" in plan, plan


# ---------------------------------------------------------------- a drain batch's new calls, inserted ahead


def test_new_calls_of_a_batch_are_inserted_ahead_in_one_statement(connection, django_capture_on_commit_callbacks, monkeypatch):
    AgentLine.objects.create(user=UserFactory(), agent_id="05000001")
    inserts = []
    real = bulk_rows.insert
    monkeypatch.setattr(bulk_rows, "insert", lambda model, objs: (inserts.append(len(objs)), real(model, objs))[1])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        drain(connection, [hangup(i) for i in range(6)] + [hangup(0, recording_url="https://rec.example/0.mp3")])
    assert inserts == [6]  # the repeat of call 0 merges into the row inserted ahead
    call = Call.objects.get(provider_call_id="c-0")
    assert call.recording_url == "https://rec.example/0.mp3" and call.agent_id and call.contact.phones.get().number == "+919820000000"
    assert Call.objects.filter(contact__isnull=False, agent__isnull=False, status="answered").count() == 6
    assert len(callbacks) >= 7  # every event published its call


def test_a_call_inserted_ahead_is_what_the_event_alone_stores(connection, monkeypatch):
    AgentLine.objects.create(user=UserFactory(), agent_id="05000001")
    deliveries = [hangup(1, recording_url="https://rec.example/1.mp3"), hangup(2, missed=True), hangup(3, direction="outbound")]
    drain(connection, deliveries)
    ahead = {c.provider_call_id: stored(c) for c in Call.objects.all()}
    Call.objects.all().delete()
    WebhookEvent.objects.all().delete()
    monkeypatch.setattr(ingest.CallBatch, "insert_new_calls", lambda batch, calls: None)
    drain(connection, deliveries)
    alone = {c.provider_call_id: stored(c) for c in Call.objects.all()}
    for values in (*ahead.values(), *alone.values()):
        values.pop("follow_up_id")
    assert ahead == alone
    assert Call.objects.get(provider_call_id="c-1").recording_status in ("pending", "ready")


def test_missed_calls_inserted_ahead_still_open_their_follow_ups(connection):
    drain(connection, [hangup(i, missed=True) for i in range(4)])
    assert Call.objects.exclude(follow_up=None).count() == 4
    assert Message.objects.filter(type="call").count() == 4


def test_a_recording_of_a_call_inserted_ahead_is_fetched(connection, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        drain(connection, [hangup(1, recording_url="https://rec.example/1.mp3"), hangup(2), hangup(3)])
    assert Call.objects.get(provider_call_id="c-1").recording_status == "ready"


def test_when_inserting_ahead_fails_each_event_stores_its_own_call(connection, monkeypatch):
    def conflict(model, objs):
        raise IntegrityError("another drain stored one of them first")

    monkeypatch.setattr(bulk_rows, "insert", conflict)
    drain(connection, [hangup(i) for i in range(5)] + [hangup(7, missed=True)])
    assert Call.objects.count() == 6 and Call.objects.exclude(follow_up=None).count() == 1


def test_the_missed_calls_of_a_batch_are_linked_to_their_follow_ups_in_one_update(connection):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(db) as queries:
        drain(connection, [hangup(i, missed=True) for i in range(5)])
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "telephony_call"')]
    assert len(updates) == 1 and "follow_up_id" in updates[0]
    for call in Call.objects.all():
        assert call.follow_up.content["call"] == call.pk and call.follow_up.conversation.contact_id == call.contact_id


def test_a_follow_up_opened_outside_a_drain_is_linked_at_once(connection):
    WebhookEvent.objects.create(source="smartflo", connection=connection, body=urlencode(hangup(1, missed=True)).encode(),
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    ingest.apply_event(WebhookEvent.objects.get())
    assert Call.objects.get().follow_up.type == "call"


def test_a_batch_with_fewer_new_calls_than_the_savepoint_is_worth_inserts_them_one_by_one(connection, monkeypatch):
    inserts = []
    monkeypatch.setattr(bulk_rows, "insert", lambda model, objs: inserts.append(len(objs)))
    drain(connection, [hangup(i) for i in range(ingest.INSERT_AHEAD_MIN_CALLS - 1)])
    assert inserts == [] and Call.objects.count() == ingest.INSERT_AHEAD_MIN_CALLS - 1
