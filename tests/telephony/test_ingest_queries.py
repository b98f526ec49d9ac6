"""What applying Status URL deliveries and call-record pages costs in queries: a drain batch reads its
connections, calls, contacts, agents and voice conversations up front, so each further call adds only
its own writes (not the ~15 lookups and writes per call the drain made before)."""

from urllib.parse import urlencode

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from inbox.ingest.drain import drain_received
from inbox.models import Conversation, Message, WebhookEvent
from telephony import ingest
from telephony.models import AgentLine, Call
from tests.factories import ContactPhoneFactory, UserFactory
from tests.telephony.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(sales_team):
    return ConnectionFactory(team=sales_team)


@pytest.fixture(autouse=True)
def _no_recording_downloads(monkeypatch):
    from telephony import recordings

    monkeypatch.setattr(recordings, "download", lambda url, **kw: (b"ID3" + b"\0" * 64, "audio/mpeg"))


def hangup(index: int, *, missed: bool = False, known_caller: bool = False, **extra) -> dict:
    return {
        "uuid": f"u-{index}", "call_id": f"c-{index}", "direction": "inbound",
        "call_status": "missed" if missed else "answered",
        "caller_id_number": f"9198{'1' if known_caller else '2'}{index % 7:07d}", "call_to_number": "918069000000",
        "answered_agent_number": "" if missed else f"0500000{index % 3}",
        "start_stamp": "2026-01-10 10:00:00", "end_stamp": "2026-01-10 10:02:08",
        "duration": "128", "billsec": "0" if missed else "120",
        "hangup_cause": "ORIGINATOR_CANCEL" if missed else "NORMAL_CLEARING", **extra,
    }


def store(connection, deliveries):
    WebhookEvent.objects.bulk_create([
        WebhookEvent(source="smartflo", connection=connection, body=urlencode(params).encode(),
                     headers={"Content-Type": "application/x-www-form-urlencoded", "X-Sampark-Method": "GET"})
        for params in deliveries
    ])


def drain_queries(connection, deliveries, django_capture_on_commit_callbacks) -> int:
    store(connection, deliveries)
    with CaptureQueriesContext(db) as queries, django_capture_on_commit_callbacks(execute=False):
        drain_received(batch_size=len(deliveries) or 1)
    assert not WebhookEvent.objects.filter(source="smartflo").exclude(status="processed").exists()
    return len(queries)


@pytest.fixture
def known_world(connection):
    for i in range(3):
        AgentLine.objects.create(user=UserFactory(), agent_id=f"0500000{i}")
    for i in range(7):
        ContactPhoneFactory(number=f"+91981{i:07d}")


def test_a_batch_of_new_answered_calls_costs_a_fixed_read_ahead_plus_one_write_each(connection, known_world, django_capture_on_commit_callbacks):
    small = drain_queries(connection, [hangup(i, known_caller=True) for i in range(5)], django_capture_on_commit_callbacks)
    large = drain_queries(connection, [hangup(i, known_caller=True) for i in range(100, 125)], django_capture_on_commit_callbacks)
    # 20 more calls: only their own INSERT and the drain's savepoint around each event (3 statements)
    assert large - small <= 20 * 3, (small, large)
    assert small <= 18 + 5 * 3, small  # the drain claims, reads ahead, settles and looks again: ~16
    assert Call.objects.filter(contact__isnull=False, agent__isnull=False).count() == 30


def test_new_callers_are_created_in_bulk_not_one_by_one(connection, known_world, django_capture_on_commit_callbacks):
    small = drain_queries(connection, [hangup(i) for i in range(5)], django_capture_on_commit_callbacks)
    large = drain_queries(connection, [hangup(i) for i in range(200, 225)], django_capture_on_commit_callbacks)
    assert large - small <= 20 * 3, (small, large)
    assert Call.objects.filter(contact__isnull=True).count() == 0


def test_duplicates_and_updates_in_one_batch_lock_and_read_once(connection, known_world, django_capture_on_commit_callbacks):
    drain_queries(connection, [hangup(i, known_caller=True) for i in range(10)], django_capture_on_commit_callbacks)
    again = drain_queries(connection, [hangup(i, known_caller=True) for i in range(10)] * 2, django_capture_on_commit_callbacks)
    # every delivery repeats what is stored: nothing to write, only the savepoints
    assert again <= 18 + 20 * 2, again
    assert Call.objects.count() == 10


def test_missed_calls_open_inbox_work_without_per_call_lookups(connection, known_world, django_capture_on_commit_callbacks):
    drain_queries(connection, [hangup(0, missed=True, known_caller=True)], django_capture_on_commit_callbacks)  # the voice channel exists
    small = drain_queries(connection, [hangup(i, missed=True, known_caller=True) for i in range(1, 3)], django_capture_on_commit_callbacks)
    large = drain_queries(connection, [hangup(i, missed=True, known_caller=True) for i in range(3, 23)], django_capture_on_commit_callbacks)
    # each missed call: savepoint, its INSERT, the message, the call's follow-up link, the conversation (≤ 7)
    assert large - small <= 18 * 7, (small, large)
    assert Message.objects.filter(type="call").count() == 23 == Call.objects.exclude(follow_up=None).count()
    assert Conversation.objects.filter(channel__kind="voice").count() == 7


# ---------------------------------------------------------------- call-record pages (the backfill)


def records(start: int, n: int, **extra) -> list[dict]:
    return [{"call_id": f"r{i}", "uuid": f"ru{i}", "direction": "inbound", "status": "answered", "answered_seconds": "30",
             "client_number": f"9197000{i:05d}", "did_number": "918069000000", "date": "2026-01-10", "time": "10:00:00",
             "call_duration": "40", "agent_number": f"0500000{i % 3}", **extra} for i in range(start, start + n)]


def page_queries(connection, rows) -> int:
    with CaptureQueriesContext(db) as queries:
        ingest.record_page(connection, rows, follow_ups=False)
    return len(queries)


def test_a_page_of_call_records_costs_the_same_queries_whatever_its_size(connection, known_world):
    # (SQLite splits a large INSERT at its 999-variable limit; PostgreSQL sends one per table)
    assert page_queries(connection, records(0, 10)) <= 12 and page_queries(connection, records(100, 150)) <= 14
    # the same records again, now with what a later CDR adds: one UPDATE for the page, whatever its size
    assert page_queries(connection, records(0, 10, recording_url="")) <= 6 and page_queries(connection, records(100, 150, recording_url="")) <= 8
    assert Call.objects.count() == 160 and not Call.objects.filter(contact=None).exists()
    assert Call.objects.filter(agent__isnull=False).count() == 160 and Call.objects.filter(raw__has_key="recording_url").count() == 160


def test_a_page_updates_only_the_columns_it_changed(connection, known_world):
    ingest.record_page(connection, records(0, 5), follow_ups=False)
    with CaptureQueriesContext(db) as queries:
        ingest.record_page(connection, records(0, 5, hangup_cause="NORMAL_CLEARING"), follow_ups=False)
    (update,) = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert '"hangup_cause"' in update and '"raw"' in update and '"customer_number"' not in update and '"started_at"' not in update
    assert set(Call.objects.values_list("hangup_cause", flat=True)) == {"NORMAL_CLEARING"}


def test_a_page_that_meets_a_unique_conflict_is_applied_again(connection, monkeypatch):
    from django.db import IntegrityError

    from telephony import services

    real, attempts = ingest.record_page, []

    def conflicting_once(*args, **kwargs):
        attempts.append(1)
        if len(attempts) == 1:
            raise IntegrityError("duplicate key value violates unique constraint")
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "record_page", conflicting_once)
    monkeypatch.setattr(services.time, "sleep", lambda seconds: None)
    assert services._record_page_with_retries(connection, records(0, 3), follow_ups=False) == (3, 0)
    assert len(attempts) == 2 and Call.objects.count() == 3


def test_the_next_page_is_fetched_while_this_one_is_applied(connection, monkeypatch):
    import datetime
    import threading

    from django.utils import timezone

    from telephony import services
    from telephony.models import CallImport

    log, second_asked = [], threading.Event()

    class Client:
        def call_records(self, from_date, to_date, *, page, limit):
            log.append(f"fetch {page}")
            if page == 2:
                second_asked.set()
            return 450, records((page - 1) * 200, 200 if page < 3 else 50)

    real = ingest.record_page

    def applying(connection, rows, *, follow_ups):
        assert second_asked.wait(5) or rows[0]["call_id"] != "r0", "page 2 was not asked for while page 1 was applied"
        log.append(f"apply {rows[0]['call_id']}")
        return real(connection, rows, follow_ups=follow_ups)

    monkeypatch.setattr(ingest, "record_page", applying)
    now = timezone.now()
    job = CallImport.objects.create(connection=connection, from_date=now - datetime.timedelta(days=1), to_date=now)
    job = services.run_import(job.pk, client=Client())
    assert job.status == "done" and job.fetched == 450 and job.created == 450 and job.next_page == 4
    assert log.index("fetch 2") < log.index("apply r0") and log.count("fetch 3") == 1 and "fetch 4" not in log


def test_a_delivery_with_a_custom_identifier_is_looked_up_by_it_not_only_by_the_read_ahead(connection, monkeypatch, django_capture_on_commit_callbacks):
    looked_up = []
    real = ingest._locked_call
    monkeypatch.setattr(ingest, "_locked_call", lambda connection, parsed: looked_up.append(parsed.custom_identifier) or real(connection, parsed))
    drain_queries(connection, [hangup(1, custom_identifier="click-1", direction="outbound"), hangup(2)], django_capture_on_commit_callbacks)
    assert looked_up == ["click-1"] and Call.objects.count() == 2
