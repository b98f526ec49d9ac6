"""One row per message, whichever way and in whatever order it comes: export import, report, live
webhook, history webhook, echo, replay; and portal placeholders filled instead of doubled."""

import datetime
import io
import itertools
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from imports import services
from imports.models import ImportJob
from inbox.ingest.statuses import OUTSIDE_BODY
from inbox.models import Conversation, Message, WebhookEvent
from inbox.outbound.rules import window_state
from tests.imports.helpers import export_txt
from tests.inbox.tata_payloads import fixture_json, make_channel, post_payload

pytestmark = pytest.mark.django_db
IST = zoneinfo.ZoneInfo("Asia/Kolkata")
LIVE = fixture_json("wa_in_text.json")
IN_ID, IN_TEXT, IN_AT = LIVE["messages"]["id"], LIVE["messages"]["text"]["body"], int(LIVE["messages"]["timestamp"])
OUT_ID, OUT_TEXT, OUT_AT = "wamid.ECHO-OVERLAP-1", "Your order ships today", IN_AT + 30
STATUS = fixture_json("wa_status_sent.json")  # an id we never sent: becomes a placeholder
PORTAL_ID, PORTAL_AT = STATUS["statuses"][0]["id"], int(STATUS["statuses"][0]["timestamp"])


@pytest.fixture
def channel(sales_team):
    return make_channel(team=sales_team)


@pytest.fixture
def deliver(client, channel, django_capture_on_commit_callbacks):
    def post(payload) -> WebhookEvent:
        with django_capture_on_commit_callbacks(execute=True):
            response = post_payload(client, channel, payload)
        assert response.status_code == 200
        return WebhookEvent.objects.get(pk=response.json()["event"])

    return post


@pytest.fixture
def imported(supervisor, channel, django_capture_on_commit_callbacks):
    def do(upload) -> ImportJob:
        with django_capture_on_commit_callbacks(execute=True):
            if upload.name.endswith(".csv"):
                job = services.create_report_job(by=supervisor, upload=upload)
                services.start_report(job, mapping=job.mapping, channel=channel, time_zone="Asia/Kolkata", by=supervisor)
            else:
                job = services.create_whatsapp_job(by=supervisor, upload=upload)
                services.start(job, services.Answers(channel=channel, business_sender="Sharma Store", date_order="dmy"), by=supervisor)
        job.refresh_from_db()
        assert job.status == ImportJob.Status.DONE, job.failure
        return job

    return do


def local(at: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).astimezone(IST)


def export(*lines: tuple[int, str, str]):
    return export_txt("".join(f"{local(at):%d/%m/%Y, %H:%M} - {who}: {text}\n" for at, who, text in lines))


def echo(provider_id=OUT_ID, text=OUT_TEXT, at=OUT_AT) -> dict:
    return {"messaging_product": "whatsapp", "message_echoes": [{"from": "919876500001", "to": "919812345678", "id": provider_id,
            "timestamp": str(at), "type": "text", "text": {"body": text}}], "businessPhoneNumber": "+919876500001", "id": "echo"}  # fmt: skip


def history(*messages: tuple[str, bool, int, str]) -> dict:
    items = [{"from": "919876500001" if out else "919812345678", "id": pid, "timestamp": str(at), "type": "text", "text": {"body": text},
              "history_context": {"status": "READ"}} for pid, out, at, text in messages]  # fmt: skip
    return {"entry": [{"id": "1", "changes": [{"field": "history", "value": {"messaging_product": "whatsapp", "history": [
        {"metadata": {"phase": 0, "chunk_order": 1, "progress": 100}, "threads": [{"id": "919812345678", "messages": items}]}]}}]}]}  # fmt: skip


# ---------------------------------------------------------------- export + live + history, any order


SOURCES = ["export", "live", "history"]


@pytest.mark.parametrize("order", list(itertools.permutations(SOURCES)), ids="-".join)
def test_export_live_and_history_of_the_same_messages_give_one_row_each_in_any_order(order, deliver, imported):
    def bring(source):
        if source == "export":
            imported(export((IN_AT, "+91 98123 45678", IN_TEXT), (OUT_AT, "Sharma Store", OUT_TEXT)))
        elif source == "live":
            assert deliver(LIVE).status == WebhookEvent.Status.PROCESSED
            assert deliver(echo()).status == WebhookEvent.Status.PROCESSED
        else:
            assert deliver(history((IN_ID, False, IN_AT, IN_TEXT), (OUT_ID, True, OUT_AT, OUT_TEXT))).status == WebhookEvent.Status.PROCESSED

    for source in order + order:  # and each of them twice
        bring(source)
    rows = list(Message.objects.order_by("timestamp", "pk").values_list("direction", "body", "provider_message_id"))
    assert rows == [("in", IN_TEXT, IN_ID), ("out", OUT_TEXT, OUT_ID)]
    assert Conversation.objects.count() == 1


def test_live_after_export_opens_the_window_as_live_messages_do(deliver, imported, channel):
    live = {**LIVE, "messages": {**LIVE["messages"], "timestamp": str(int(datetime.datetime.now(datetime.UTC).timestamp()) - 60)}}
    imported(export((IN_AT, "Sharma Store", "Namaste"), (int(live["messages"]["timestamp"]), "+91 98123 45678", IN_TEXT)))
    conversation = Conversation.objects.get()
    assert not window_state(conversation).open
    deliver(live)
    conversation.refresh_from_db()
    assert window_state(conversation).open
    assert list(Message.objects.filter(direction="in").values_list("source", "provider_message_id")) == [("customer", IN_ID)]


def test_a_report_with_ids_and_history_with_the_same_ids_are_one_row(deliver, imported):
    report = f'time,direction,phone,text,message id\n{local(IN_AT):%d/%m/%Y %H:%M},in,+919812345678,"{IN_TEXT}",{IN_ID}\n'
    imported(SimpleUploadedFile("report.csv", report.encode()))
    deliver(history((IN_ID, False, IN_AT, IN_TEXT)))
    deliver(LIVE)
    assert list(Message.objects.values_list("provider_message_id", flat=True)) == [IN_ID]


# ---------------------------------------------------------------- portal-sent placeholders filled


def test_status_for_an_unknown_id_makes_a_placeholder_that_a_report_fills(deliver, imported):
    deliver(STATUS)
    placeholder = Message.objects.get()
    assert placeholder.body == OUTSIDE_BODY
    report = f"time,direction,phone,text,message id\n{local(PORTAL_AT):%d/%m/%Y %H:%M},out,+919812345678,Diwali offer: 20% off,{PORTAL_ID}\n"
    job = imported(SimpleUploadedFile("report.csv", report.encode()))
    assert (job.imported_count, job.duplicate_count) == (1, 0)
    filled = Message.objects.get()
    assert (filled.pk, filled.body, filled.type, filled.status, filled.source) == (placeholder.pk, "Diwali offer: 20% off", "text", "sent", "campaign")
    assert imported(SimpleUploadedFile("report.csv", report.encode())).duplicate_count == 1  # and again: nothing new


def test_an_export_fills_the_placeholder_of_the_same_minute(deliver, imported):
    deliver(STATUS)
    placeholder = Message.objects.get()
    job = imported(export((PORTAL_AT - 5, "Sharma Store", "Diwali offer: 20% off"), (PORTAL_AT + 7200, "+91 98123 45678", "Thanks")))
    assert (job.imported_count, job.duplicate_count) == (2, 0)
    assert Message.objects.count() == 2
    placeholder.refresh_from_db()
    assert (placeholder.body, placeholder.provider_message_id) == ("Diwali offer: 20% off", PORTAL_ID)
    again = imported(export((PORTAL_AT - 5, "Sharma Store", "Diwali offer: 20% off"), (PORTAL_AT + 7200, "+91 98123 45678", "Thanks")))
    assert again.duplicate_count == 2 and Message.objects.count() == 2


def test_an_echo_fills_the_placeholder_its_status_made_first(deliver):
    deliver(STATUS)
    placeholder = Message.objects.get()
    deliver(echo(provider_id=PORTAL_ID, text="Typed on the phone", at=PORTAL_AT))
    deliver(STATUS)
    filled = Message.objects.get()
    assert (filled.pk, filled.body, filled.source, filled.status) == (placeholder.pk, "Typed on the phone", "phone", "sent")


def test_history_fills_the_placeholder_of_its_id(deliver):
    deliver(STATUS)
    deliver(history((PORTAL_ID, True, PORTAL_AT, "From the app")))
    assert list(Message.objects.values_list("body", "provider_message_id")) == [("From the app", PORTAL_ID)]


# ---------------------------------------------------------------- replay


def test_replay_by_time_range_and_channel_rebuilds_deleted_conversations_and_is_safe_twice(deliver, channel, sales_team, django_capture_on_commit_callbacks):
    other = make_channel(phone="+919876500002", team=sales_team)
    for payload in (LIVE, echo(), history(("wamid.H-REPLAY", True, IN_AT - 600, "Earlier")), STATUS):
        deliver(payload)
    before = sorted(Message.objects.values_list("provider_message_id", "direction", "body", "source"))
    assert len(before) == 4
    Conversation.objects.all().delete()
    since = (WebhookEvent.objects.order_by("received_at").first().received_at - datetime.timedelta(seconds=1)).isoformat()
    out = io.StringIO()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("replay_webhooks", "--since", since, "--channel", channel.phone_number, stdout=out)
        assert sorted(Message.objects.values_list("provider_message_id", "direction", "body", "source")) == before
    assert "Replayed 4 event(s)" in out.getvalue()
    call_command("replay_webhooks", "--channel", str(other.pk), "--until", since, stdout=out)
    assert "Replayed 0 event(s)" in out.getvalue()


def test_admin_replays_a_time_range(client, admin_user, channel, deliver):
    deliver(LIVE)
    Conversation.objects.all().delete()
    client.force_login(admin_user)
    url = reverse("admin:inbox_webhookevent_replay_range")
    assert client.get(url).status_code == 200
    assert url in client.get(reverse("admin:inbox_webhookevent_changelist")).content.decode()
    response = client.post(url, {"channel": channel.pk})
    assert response.status_code == 302
    assert Message.objects.filter(provider_message_id=IN_ID).count() == 1
    client.post(url, {"channel": channel.pk})
    assert Message.objects.filter(provider_message_id=IN_ID).count() == 1
    assert client.post(url, {}).status_code == 200  # nothing chosen: asked again, nothing replayed
