"""CSV / JSON message reports: the mapping step, per-row failures, numbers, media links, and one row
per message whether it came from a report, a live webhook, or both."""

import json
import socket

import pytest
import responses
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core import safe_http
from core.errors import ApplicationError
from imports import services
from imports.models import ImportJob
from inbox.models import Attachment, Message
from tests.inbox.tata_payloads import fixture_json, make_channel, post_payload

pytestmark = pytest.mark.django_db

LIVE = fixture_json("wa_in_text.json")
WAMID = LIVE["messages"]["id"]
CSV = (
    "Sent At,Direction,Mobile,Message,Message Id,Media\n"
    f"2025-11-22T13:56:40+05:30,Incoming,919812345678,\"{LIVE['messages']['text']['body']}\",{WAMID},\n"
    "22/11/2025 14:00,Outgoing,919812345678,\"Shipped today, “on its way”\",wamid.OUT1,\n"
    "22/11/2025 14:01,Outgoing,919812345678,Here is the invoice,,https://files.example.com/invoice.pdf\n"
    "not a time,Incoming,919812345678,hello,,\n"
    "22/11/2025 14:03,sideways,919812345678,hello,,\n"
    "22/11/2025 14:04,Incoming,12,hello,,\n"
    "22/11/2025 14:05,Incoming,919812399999,file,,file:///etc/passwd\n"
)


@pytest.fixture
def channel(sales_team):
    return make_channel(team=sales_team)


@pytest.fixture
def files():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.get("https://files.example.com/invoice.pdf", body=b"%PDF-1.4 invoice", content_type="application/pdf")
        yield mocked


def report(text, name="report.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


@pytest.fixture
def imported(supervisor, channel, django_capture_on_commit_callbacks, files):
    def do(upload, mapping=None):
        job = services.create_report_job(by=supervisor, upload=upload)
        with django_capture_on_commit_callbacks(execute=True):
            services.start_report(job, mapping=mapping or job.mapping, channel=channel, time_zone="Asia/Kolkata", by=supervisor)
        job.refresh_from_db()
        return job

    return do


def test_columns_are_guessed_for_the_mapping_step(supervisor):
    job = services.create_report_job(by=supervisor, upload=report(CSV))
    assert job.mapping == {
        "Sent At": "time", "Direction": "direction", "Mobile": "phone", "Message": "text",
        "Message Id": "provider_message_id", "Media": "media_url",
    }  # fmt: skip
    assert job.scan["preview"][0]["Mobile"] == "919812345678"


def test_report_rows_land_and_bad_rows_are_listed(imported, channel):
    job = imported(report(CSV))
    assert job.status == ImportJob.Status.DONE
    assert (job.imported_count, job.duplicate_count, job.failed_count) == (3, 0, 4)
    reasons = {f.line: f.reason for f in job.failures.all()}
    assert reasons[5].startswith("Time “not a time”")
    assert reasons[6].startswith("Direction “sideways”")
    assert reasons[7].startswith("Phone:")
    assert reasons[8] == "Media URL is not an http or https link"
    rows = list(Message.objects.order_by("timestamp"))
    assert [(m.direction, m.provider_message_id, m.source) for m in rows] == [
        ("in", WAMID, "import"), ("out", "wamid.OUT1", "import"), ("out", None, "import"),
    ]  # fmt: skip
    assert rows[1].body == "Shipped today, “on its way”"
    invoice = Attachment.objects.get()
    assert invoice.status == Attachment.Status.READY and invoice.file.read() == b"%PDF-1.4 invoice" and invoice.kind == "document"
    conversation = rows[0].conversation
    assert (conversation.unread_count, conversation.last_message_at, conversation.last_inbound_at) == (0, None, None)


def test_the_same_report_twice_adds_nothing(imported):
    imported(report(CSV))
    again = imported(report(CSV))
    assert (again.imported_count, again.duplicate_count) == (0, 3)
    assert Message.objects.count() == 3 and Attachment.objects.count() == 1


def test_a_live_webhook_after_the_import_is_the_same_message(client, imported, channel, django_capture_on_commit_callbacks):
    imported(report(CSV))
    with django_capture_on_commit_callbacks(execute=True):
        assert post_payload(client, channel, LIVE).status_code == 200
    assert Message.objects.filter(provider_message_id=WAMID).count() == 1
    assert Message.objects.filter(direction="in").count() == 1


def test_an_import_after_the_live_webhook_keeps_the_live_message(client, imported, channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert post_payload(client, channel, LIVE).status_code == 200
    job = imported(report(CSV))
    assert (job.imported_count, job.duplicate_count) == (2, 1)
    live = Message.objects.get(provider_message_id=WAMID)
    assert live.source == Message.Source.CUSTOMER


def test_rows_go_to_the_business_number_they_name(imported, channel, sales_team):
    other = make_channel(phone="+919876500002", team=sales_team)
    text = "time,direction,phone,text,business\n22/11/2025 14:00,in,919812345678,hi,+919876500002\n22/11/2025 14:01,in,919812345678,hi,+919800000000\n"
    job = imported(report(text), {"time": "time", "direction": "direction", "phone": "phone", "text": "text", "business": "business_number"})
    assert Message.objects.get().channel == other
    assert job.failures.get().reason == "Business number +919800000000 is not one of your numbers"


def test_json_and_json_lines(imported):
    rows = [{"ts": "1763800000", "dir": "in", "from": "919812345678", "body": "json row", "extra": {"nested": [1]}}]
    mapping = {"ts": "time", "dir": "direction", "from": "phone", "body": "text"}
    assert imported(report(json.dumps({"messages": rows}), "r.json"), mapping).imported_count == 1
    lines = json.dumps(rows[0] | {"body": "jsonl row"}) + "\n[1]\n{broken\n"
    job = imported(report(lines, "r.jsonl"), mapping)
    assert (job.imported_count, job.failed_count) == (1, 2)


def test_mapping_must_name_time_direction_and_phone(supervisor, channel):
    job = services.create_report_job(by=supervisor, upload=report(CSV))
    with pytest.raises(ApplicationError, match="Choose a column for: Direction"):
        services.start_report(job, mapping={"Sent At": "time", "Mobile": "phone"}, channel=channel, time_zone="Asia/Kolkata", by=supervisor)
    with pytest.raises(ApplicationError, match="Only one column"):
        services.start_report(
            job, mapping={"Sent At": "time", "Mobile": "phone", "Direction": "direction", "Message": "phone"},
            channel=channel, time_zone="Asia/Kolkata", by=supervisor,
        )  # fmt: skip


def test_media_links_to_private_addresses_are_refused(monkeypatch):
    """Report links go through core.safe_http (tested in depth in tests/access/test_safe_http.py)."""
    def resolves_to(address):
        return lambda host, port, *args, **kwargs: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolves_to("10.0.0.5"))
    with pytest.raises(safe_http.Refused):
        safe_http.fetch("https://intranet.example.com/x.jpg", max_bytes=1024)
    monkeypatch.setattr(socket, "getaddrinfo", resolves_to("127.0.0.1"))
    with pytest.raises(safe_http.Refused):
        safe_http.fetch("http://localhost/x.jpg", max_bytes=1024)
    with pytest.raises(safe_http.Refused):
        safe_http.fetch("ftp://files.example.com/x.jpg", max_bytes=1024)


def test_mapping_page(logged_in, supervisor, channel, django_capture_on_commit_callbacks, files):
    client = logged_in(supervisor)
    client.post(reverse("imports:upload"), {"file": report(CSV)})
    job = ImportJob.objects.get()
    page = client.get(reverse("imports:questions", args=[job.pk])).content.decode()
    assert "Map the columns" in page and "919812345678" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imports:questions", args=[job.pk]),
            {"map_0": "time", "map_1": "direction", "map_2": "phone", "map_3": "text", "map_4": "provider_message_id", "map_5": "",
             "channel": channel.pk, "time_zone": "Asia/Kolkata"},
        )  # fmt: skip
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.imported_count == 4  # the file:// row is plain text without a media column


def test_hostile_json_is_reported_not_crashed(imported, supervisor):
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ApplicationError):
        services.create_report_job(by=supervisor, upload=report(deep, "deep.json"))
    lines = '{"t": "1763800000", "d": "in", "p": "919812345678", "x": "lone \\ud800 surrogate", "\\udc00key": 1}\n' + "[" * 5000 + "\n"
    job = imported(report(lines, "r.jsonl"), {"t": "time", "d": "direction", "p": "phone", "x": "text"})
    assert (job.imported_count, job.failed_count) == (1, 1)
    assert Message.objects.get().body == "lone \ufffd surrogate"
