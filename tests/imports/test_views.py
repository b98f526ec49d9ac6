"""The Import history pages: who may use them, and the upload → questions → progress path."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from imports.models import ImportJob
from inbox.models import Message
from tests.factories import UserFactory
from tests.imports.helpers import CHAT, JPEG, export_txt, export_zip
from tests.inbox.tata_payloads import make_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(sales_team):
    return make_channel(team=sales_team)


def test_agents_cannot_open_any_import_page(logged_in, agent, supervisor):
    job = ImportJob.objects.create(created_by=supervisor, file_name="x.txt", scan={"senders": [["a", 1]]})
    client = logged_in(agent)
    for url in [reverse("imports:upload"), reverse("imports:questions", args=[job.pk]), reverse("imports:job", args=[job.pk]),
                reverse("imports:failures", args=[job.pk])]:  # fmt: skip
        assert client.get(url).status_code == 403
    assert client.post(reverse("imports:cancel", args=[job.pk])).status_code == 403


def test_another_supervisor_cannot_see_a_job_but_an_admin_can(logged_in, supervisor, admin_user):
    job = ImportJob.objects.create(created_by=supervisor, file_name="x.txt", status="done")
    other = UserFactory(username="meera", role="supervisor")
    assert logged_in(other).get(reverse("imports:job", args=[job.pk])).status_code == 404
    assert logged_in(admin_user).get(reverse("imports:job", args=[job.pk])).status_code == 200


def test_upload_questions_and_progress(logged_in, supervisor, channel, django_capture_on_commit_callbacks):
    client = logged_in(supervisor)
    response = client.post(reverse("imports:upload"), {"file": export_zip(CHAT, {"IMG-20240113-WA0003.jpg": JPEG})})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("imports:questions", args=[job.pk])
    page = client.get(response.url).content.decode()
    assert "Sharma Store" in page and "+91 98123 45678" in page and "How are the dates written" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imports:questions", args=[job.pk]),
            {"business_sender": "Sharma Store", "channel": channel.pk, "contact_phone": "", "time_zone": "Asia/Kolkata"},
        )
    assert response.status_code == 302, response.content.decode()
    page = client.get(response.url).content.decode()
    assert 'data-status="done"' in page and "Download failed lines" in page
    csv_text = b"".join(client.get(reverse("imports:failures", args=[job.pk])).streaming_content).decode()
    assert csv_text.splitlines()[1].startswith("7,Bad date or time")


def test_a_bad_upload_is_explained(logged_in, supervisor):
    response = logged_in(supervisor).post(reverse("imports:upload"), {"file": export_txt("not a chat\n")})
    assert response.status_code == 200 and "No WhatsApp messages" in response.content.decode()


def test_the_date_order_is_asked_when_the_file_cannot_tell(logged_in, supervisor):
    client = logged_in(supervisor)
    client.post(reverse("imports:upload"), {"file": export_txt("05/01/2024, 10:00 - Shop: a\n06/02/2024, 10:00 - +919812345678: b\n")})
    page = client.get(reverse("imports:questions", args=[ImportJob.objects.get().pk])).content.decode()
    assert "How are the dates written" in page


def test_management_command_imports_with_a_progress_bar(tmp_path, admin_user, channel, capsys):
    path = tmp_path / "chat.txt"
    path.write_text(CHAT)
    call_command("import_whatsapp_export", str(path), channel=channel.phone_number, business="Sharma Store")
    out = capsys.readouterr()
    assert "5 imported, 0 already there, 1 failed" in out.out and "100%" in out.err
    call_command("import_whatsapp_export", str(path), channel=channel.phone_number, business="Sharma Store")
    assert "0 imported, 5 already there" in capsys.readouterr().out
    assert Message.objects.count() == 5


def test_report_command_guesses_columns_and_dedupes(tmp_path, admin_user, channel, capsys):
    path = tmp_path / "report.csv"
    path.write_text("time,direction,phone,text,wamid\n22/11/2025 14:00,in,919812345678,hi,wamid.A\n22/11/2025 14:01,out,919812345678,hello,\n")
    call_command("import_message_report", str(path), channel=channel.phone_number)
    assert "2 imported" in capsys.readouterr().out
    call_command("import_message_report", str(path), channel=channel.phone_number, map=["time=time", "direction=direction", "phone=phone", "text=text", "wamid=provider_message_id"])
    assert "0 imported, 2 already there" in capsys.readouterr().out


def test_admin_shows_jobs_read_only_with_their_failed_lines(logged_in, admin_user, channel, django_capture_on_commit_callbacks):
    client = logged_in(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:upload"), {"file": export_txt(CHAT)})
    job = ImportJob.objects.get()
    assert client.get(reverse("admin:imports_importjob_changelist")).status_code == 200
    page = client.get(reverse("admin:imports_importjob_change", args=[job.pk])).content.decode()
    assert job.file_name in page
    assert client.get(reverse("admin:imports_importjob_add")).status_code == 403
