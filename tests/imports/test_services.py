"""Landing exported chats: where messages go, what they leave alone, and that nothing lands twice."""

import csv
import datetime
import io
import zoneinfo

import pytest
from django.utils import timezone

from contacts.models import ContactPhone
from core.errors import ApplicationError, NotAllowed
from imports import readers, services
from imports.models import ImportJob
from inbox.models import Attachment, Message
from inbox.outbound.rules import window_state
from tests.imports.helpers import CHAT, JPEG, export_txt, export_zip
from tests.inbox.tata_payloads import capture_events, fixture_json, make_channel, post_payload

pytestmark = pytest.mark.django_db
IST = zoneinfo.ZoneInfo("Asia/Kolkata")


@pytest.fixture
def channel(sales_team):
    return make_channel(team=sales_team)


def run_import(supervisor, channel, upload, *, business="Sharma Store", phone="", order=""):
    job = services.create_whatsapp_job(by=supervisor, upload=upload)
    services.start(job, services.Answers(channel=channel, business_sender=business, contact_phone=phone, date_order=order), by=supervisor)
    job.refresh_from_db()
    return job


@pytest.fixture
def imported(supervisor, channel, django_capture_on_commit_callbacks):
    def do(upload, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            job = run_import(supervisor, channel, upload, **kwargs)
        job.refresh_from_db()
        return job

    return do


def test_zip_export_lands_in_the_contacts_conversation_in_order_with_media(imported, channel, monkeypatch, supervisor):
    sent = capture_events(monkeypatch)
    job = imported(export_zip(CHAT, {"IMG-20240113-WA0003.jpg": JPEG}))
    assert job.status == ImportJob.Status.DONE
    assert (job.imported_count, job.duplicate_count, job.failed_count) == (5, 0, 1)
    contact = ContactPhone.objects.get(number="+919812345678").contact
    conversation = contact.conversations.get(channel=channel)
    rows = list(conversation.messages.order_by("timestamp", "id"))
    assert [(m.direction, m.type, m.body) for m in rows] == [
        ("out", "text", "Namaste! How can we help?"),
        ("in", "text", "Is the blue kurta in stock?\nSize M please"),
        ("out", "image", "This one?"),
        ("in", "unsupported", "This message was deleted"),
        ("out", "text", "Yes, both sizes"),
    ]
    assert {m.source for m in rows} == {Message.Source.IMPORT}
    assert rows[0].timestamp == datetime.datetime(2024, 1, 12, 10, 15, tzinfo=IST)
    assert rows[4].content["import"]["edited"] is True
    attachment = Attachment.objects.get(message=rows[2])
    assert attachment.status == Attachment.Status.READY and attachment.file.read() == JPEG
    # No work, no list movement, no window, no live message events.
    assert (conversation.unread_count, conversation.assignee_id, conversation.last_message_at, conversation.last_inbound_at) == (0, None, None, None)
    assert conversation.status == "resolved"  # made by the import: history, not work
    assert not [e for e in sent if e[0] != "import.progress"]
    progress = [payload for event, payload, groups in sent if event == "import.progress"]
    assert progress[-1]["status"] == "done" and progress[-1]["imported"] == 5
    assert {tuple(groups) for event, _, groups in sent} == {(f"user.{supervisor.pk}",)}


def test_failed_lines_download_as_csv_with_line_numbers(imported):
    job = imported(export_txt(CHAT))
    rows = list(csv.reader(io.StringIO("\n".join(",".join(f'"{c}"' for c in map(str, r)) for r in services.failures_csv_rows(job)))))
    assert rows[0] == ["line", "reason", "text"]
    assert rows[1][0] == "7" and rows[1][1].startswith("Bad date or time")


def test_media_missing_from_a_txt_export_is_named_not_lost(imported, channel):
    imported(export_txt(CHAT))
    message = Message.objects.get(body__startswith="IMG-20240113-WA0003.jpg")
    assert message.type == "unsupported" and "not included in the export" in message.body and "This one?" in message.body


def test_the_same_file_twice_adds_nothing(imported):
    first = imported(export_zip(CHAT, {"IMG-20240113-WA0003.jpg": JPEG}))
    again = imported(export_zip(CHAT, {"IMG-20240113-WA0003.jpg": JPEG}))
    assert (again.imported_count, again.duplicate_count) == (0, first.imported_count)
    assert Message.objects.count() == 5 and Attachment.objects.count() == 1


def test_an_overlapping_export_adds_only_what_is_new(imported):
    imported(export_txt(CHAT))
    more = CHAT + "14/01/2024, 11:00 - +91 98123 45678: Thank you!\n"
    job = imported(export_txt(more))
    assert (job.imported_count, job.duplicate_count) == (1, 5)


def test_a_message_that_arrived_live_is_kept_once(client, imported, channel, django_capture_on_commit_callbacks):
    live = fixture_json("wa_in_text.json")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_payload(client, channel, live).status_code == 200
    at = timezone.localtime(datetime.datetime.fromtimestamp(int(live["messages"]["timestamp"]), datetime.UTC), IST)
    chat = (
        f"{at:%d/%m/%Y, %H:%M} - Sharma Store: Hello!\n"
        f"{at:%d/%m/%Y, %H:%M} - +91 98123 45678: {live['messages']['text']['body']}\n"
    )
    job = imported(export_txt(chat))
    assert (job.imported_count, job.duplicate_count) == (1, 1)
    assert Message.objects.filter(direction="in").count() == 1


def test_recent_imported_inbound_message_does_not_open_the_window(imported, channel):
    recent = timezone.localtime(timezone.now() - datetime.timedelta(hours=1), IST)
    job = imported(export_txt(f"{recent:%d/%m/%Y, %H:%M} - +91 98123 45678: hi\n13/01/2024, 10:00 - Sharma Store: x\n"))
    conversation = job.contact.conversations.get(channel=channel)
    assert not window_state(conversation).open


def test_ambiguous_dates_need_an_answer(supervisor, channel):
    job = services.create_whatsapp_job(by=supervisor, upload=export_txt("05/01/2024, 10:00 - Shop: a\n06/02/2024, 10:00 - Asha: b\n"))
    assert job.scan["date_order"] is None
    with pytest.raises(ApplicationError, match="day-first or month-first"):
        services.start(job, services.Answers(channel=channel, business_sender="Shop", contact_phone="+919812345678"), by=supervisor)


def test_a_saved_name_needs_a_phone_number(imported, supervisor, channel):
    upload = export_txt("13/01/2024, 10:00 - Shop: a\n13/01/2024, 10:01 - Asha Verma: b\n")
    job = services.create_whatsapp_job(by=supervisor, upload=upload)
    with pytest.raises(ApplicationError, match="without a number"):
        services.start(job, services.Answers(channel=channel, business_sender="Shop"), by=supervisor)
    job = imported(export_txt("13/01/2024, 10:00 - Shop: a\n13/01/2024, 10:01 - Asha Verma: b\n"), business="Shop", phone="98123 45678")
    assert job.contact.name == "Asha Verma" and job.contact.phones.get().number == "+919812345678"


def test_group_chats_are_refused(supervisor, channel):
    job = services.create_whatsapp_job(by=supervisor, upload=export_txt("13/01/2024, 10:00 - Shop: a\n13/01/2024, 10:01 - A: b\n13/01/2024, 10:02 - B: c\n"))
    with pytest.raises(ApplicationError, match="one-to-one"):
        services.start(job, services.Answers(channel=channel, business_sender="Shop", contact_phone="+919812345678"), by=supervisor)


def test_agents_cannot_import(agent):
    with pytest.raises(NotAllowed):
        services.create_whatsapp_job(by=agent, upload=export_txt(CHAT))


def test_not_an_export_is_refused(supervisor):
    with pytest.raises(ApplicationError, match="No WhatsApp messages"):
        services.create_whatsapp_job(by=supervisor, upload=export_txt("hello\nworld\n"))
    with pytest.raises(ApplicationError, match="no chat"):
        services.create_whatsapp_job(by=supervisor, upload=_zip_without_text())


def _zip_without_text():
    import zipfile

    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", JPEG)
    return SimpleUploadedFile("x.zip", buffer.getvalue())


def test_cancel_stops_after_the_batch_in_hand(supervisor, channel, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    monkeypatch.setattr("core.tasks.enqueue", lambda *a, **k: None)
    monkeypatch.setattr(services, "enqueue", lambda *a, **k: None)
    chat = "".join(f"13/01/2024, 10:{i:02d} - +91 98123 45678: message {i}\n" for i in range(10)) + "13/01/2024, 11:00 - Shop: ok\n"
    job = services.create_whatsapp_job(by=supervisor, upload=export_txt(chat))
    services.start(job, services.Answers(channel=channel, business_sender="Shop"), by=supervisor)

    def cancel_after_first(progress):
        services.cancel(progress, by=supervisor)

    job = services.run(job.pk, on_progress=cancel_after_first)
    assert job.status == ImportJob.Status.CANCELLED
    assert Message.objects.count() == 2


def test_only_the_creator_or_an_admin_may_cancel(supervisor, admin_user, channel):
    from tests.factories import UserFactory

    other = UserFactory(username="meera", role="supervisor")
    job = services.create_whatsapp_job(by=supervisor, upload=export_txt(CHAT))
    with pytest.raises(NotAllowed):
        services.cancel(job, by=other)
    assert services.cancel(job, by=admin_user).status == ImportJob.Status.CANCELLED


def test_a_zip_with_too_many_files_is_refused(supervisor, monkeypatch):
    monkeypatch.setattr(readers, "MAX_ZIP_ENTRIES", 1)
    with pytest.raises(ApplicationError, match="too many files"):
        services.create_whatsapp_job(by=supervisor, upload=export_zip(CHAT, {"IMG-20240113-WA0003.jpg": JPEG}))


def test_an_existing_conversation_keeps_its_status(imported, channel):
    from contacts.services import find_or_create_by_phone
    from inbox.models import Conversation

    contact, _ = find_or_create_by_phone("+919812345678")
    Conversation.objects.create(channel=channel, contact=contact, status="pending")
    imported(export_txt(CHAT))
    assert Conversation.objects.get().status == "pending"
