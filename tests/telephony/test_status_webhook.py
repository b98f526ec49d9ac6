"""The Status URL: GET and POST forms, envelopes, `$` names, duplicates, out-of-order deliveries,
missing variables, numbers in every format — stored raw first, applied by the drain."""

import json
import logging
from urllib.parse import urlencode

import pytest

from inbox.models import Channel, Conversation, Message, WebhookEvent
from telephony.models import AgentLine, Call
from tests.factories import ContactPhoneFactory, UserFactory
from tests.telephony.factories import ConnectionFactory

pytestmark = pytest.mark.django_db

HANGUP = {
    "uuid": "a1b2c3", "call_id": "1700000000.123", "direction": "inbound", "call_status": "answered",
    "caller_id_number": "919812345678", "call_to_number": "918069000000", "answered_agent_number": "05000001",
    "start_stamp": "2026-01-10 10:00:00", "answer_stamp": "2026-01-10 10:00:08", "end_stamp": "2026-01-10 10:02:08",
    "duration": "128", "billsec": "120", "hangup_cause": "NORMAL_CLEARING", "hangup_cause_code": "16",
    "recording_url": "https://recordings.smartflo.test/a1b2c3.mp3", "brand_new_field": "kept",
}


@pytest.fixture
def connection(sales_team):
    return ConnectionFactory(team=sales_team)


@pytest.fixture(autouse=True)
def _no_recording_downloads(monkeypatch):
    from telephony import recordings

    monkeypatch.setattr(recordings, "download", lambda url, **kw: (b"ID3" + b"\0" * 64, "audio/mpeg"))


def get(client, connection, params):
    return client.get(f"/telephony/status/{connection.status_token}/?{urlencode(params)}")


def test_get_query_string_is_stored_raw_then_becomes_a_call(client, connection, agent):
    AgentLine.objects.create(user=agent, agent_id="05000001")
    response = get(client, connection, HANGUP)
    assert response.status_code == 200 and response.json()["detail"] == "stored"
    event = WebhookEvent.objects.get(source="smartflo")
    assert event.connection_id == connection.pk and bytes(event.body).decode() == urlencode(HANGUP)
    assert event.status == "processed"
    call = Call.objects.get()
    assert (call.direction, call.status, call.customer_number, call.did_number) == ("inbound", "answered", "+919812345678", "+918069000000")
    assert call.agent == agent and call.talk_time == 120 and call.duration == 128
    assert call.hangup_cause_code == 16 and call.hangup_meaning == "Normal call clearing"
    assert call.started_at.isoformat() == "2026-01-10T04:30:00+00:00"  # IST → UTC
    assert call.raw["brand_new_field"] == "kept"
    assert call.contact.phones.get().number == "+919812345678"
    assert call.recording_status == "ready" and call.recording_mime == "audio/mpeg"


def test_post_form_body(client, connection):
    response = client.post(f"/telephony/status/{connection.status_token}/", data=urlencode(HANGUP), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert Call.objects.get().provider_call_id == "1700000000.123"


@pytest.mark.parametrize("envelope", ["data", "event", None])
@pytest.mark.parametrize("dollar", [True, False])
def test_post_json_top_level_or_in_an_envelope_with_or_without_dollar(client, connection, envelope, dollar):
    fields = {(f"${k}" if dollar else k): v for k, v in HANGUP.items()}
    body = {envelope: fields, "ts": 1} if envelope else fields
    response = client.post(f"/telephony/status/{connection.status_token}/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    call = Call.objects.get()
    assert call.customer_number == "+919812345678" and call.status == "answered"


def test_get_with_dollar_names(client, connection):
    get(client, connection, {f"${k}": v for k, v in HANGUP.items()})
    assert Call.objects.get().talk_time == 120


@pytest.mark.parametrize("number", ["919812345678", "+919812345678", "09812345678", "9812345678", "+91 98123 45678", "0091-98123-45678"])
def test_numbers_in_every_format_land_on_one_contact(client, connection, number):
    existing = ContactPhoneFactory(number="+919812345678")
    get(client, connection, {**HANGUP, "caller_id_number": number})
    call = Call.objects.get()
    assert call.customer_number == "+919812345678" and call.contact_id == existing.contact_id


def test_duplicate_deliveries_make_one_call(client, connection):
    for _ in range(3):
        get(client, connection, HANGUP)
    assert Call.objects.count() == 1 and WebhookEvent.objects.filter(status="processed").count() == 3


def test_out_of_order_live_state_after_hangup_changes_nothing(client, connection):
    get(client, connection, HANGUP)
    get(client, connection, {"call_id": HANGUP["call_id"], "call_status": "ringing", "direction": "inbound"})
    call = Call.objects.get()
    assert call.status == "answered" and call.talk_time == 120


def test_webhook_and_cdr_by_uuid_only_then_call_id_meet_on_one_row(client, connection):
    get(client, connection, {k: v for k, v in HANGUP.items() if k != "call_id"})
    get(client, connection, {"call_id": HANGUP["call_id"], "uuid": HANGUP["uuid"], "agent_name": "Rahul"})
    call = Call.objects.get()
    assert call.provider_call_id == HANGUP["call_id"] and call.agent_name == "Rahul" and call.talk_time == 120


def test_a_later_partial_delivery_never_erases_values(client, connection):
    get(client, connection, HANGUP)
    get(client, connection, {"call_id": HANGUP["call_id"], "billsec": "", "recording_url": ""})
    call = Call.objects.get()
    assert call.talk_time == 120 and call.recording_url


def test_missing_variables_are_tolerated(client, connection):
    get(client, connection, {"call_id": "only-an-id"})
    call = Call.objects.get()
    assert call.provider_call_id == "only-an-id" and call.customer_number == "" and call.contact is None


def test_without_any_call_id_the_event_is_kept_unprocessable(client, connection):
    response = get(client, connection, {"caller_id_number": "919812345678"})
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == "unprocessable" and "call_id" in event.error and not Call.objects.exists()


def test_bad_json_is_400_and_kept(client, connection):
    response = client.post(f"/telephony/status/{connection.status_token}/", data=b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert WebhookEvent.objects.get().status == "unprocessable"


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', ("{" * 5000 + "}" * 5000).encode()])
def test_hostile_json_never_500s(client, connection, body):
    response = client.post(f"/telephony/status/{connection.status_token}/", data=body, content_type="application/json")
    assert response.status_code == 400


def test_lone_surrogates_and_wrong_types_are_stored_safely(client, connection):
    body = '{"call_id": "x1", "agent_name": "\\ud800bad", "duration": {"nested": true}, "billsec": [1], "caller_id_number": 919812345678}'
    response = client.post(f"/telephony/status/{connection.status_token}/", data=body, content_type="application/json")
    assert response.status_code == 200
    call = Call.objects.get()
    assert call.agent_name.endswith("bad") and call.duration is None and call.customer_number == "+919812345678"


def test_unknown_token_404_and_wrong_method_405(client, connection):
    assert client.get("/telephony/status/nope/?call_id=1").status_code == 404
    assert client.put(f"/telephony/status/{connection.status_token}/").status_code == 405


def test_oversize_body_is_413(client, connection, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    response = client.post(f"/telephony/status/{connection.status_token}/", data="x=" + "1" * 200, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413 and not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "fields, status",
    [({"call_status": "missed"}, "missed"), ({"call_status": "NOANSWER", "direction": "outbound"}, "no_answer"),
     ({"call_status": "busy"}, "busy"), ({"call_status": "failed"}, "failed"),
     ({"call_status": "", "hangup_cause": "USER_BUSY", "hangup_cause_code": ""}, "busy"), ({"call_status": "", "billsec": "12"}, "answered")],
)
def test_statuses(client, connection, fields, status):
    get(client, connection, {**HANGUP, "billsec": "0", "recording_url": "", **fields})
    assert Call.objects.get().status == status


def test_missed_inbound_call_becomes_inbox_work_once(client, connection, sales_team):
    missed = {**HANGUP, "call_status": "missed", "billsec": "0", "recording_url": "", "answered_agent_number": ""}
    get(client, connection, missed)
    get(client, connection, missed)
    call = Call.objects.get()
    message = Message.objects.get(type="call")
    assert call.follow_up == message and message.content["call"] == call.pk
    conversation = message.conversation
    assert conversation.channel.kind == Channel.Kind.VOICE and conversation.channel.phone_number == "+918069000000"
    assert conversation.team == sales_team and conversation.unread_count == 1 and conversation.status == "open"
    assert "Missed call" in conversation.last_message_preview


def test_a_resolved_missed_call_conversation_reopens_on_the_next_missed_call(client, connection):
    get(client, connection, {**HANGUP, "call_status": "missed", "billsec": "0", "recording_url": ""})
    Conversation.objects.update(status="resolved")
    get(client, connection, {**HANGUP, "call_id": "second", "uuid": "second", "call_status": "missed", "billsec": "0", "recording_url": ""})
    assert Conversation.objects.get().status == "open" and Message.objects.filter(type="call").count() == 2


def test_answered_or_outbound_calls_make_no_inbox_work(client, connection):
    get(client, connection, HANGUP)
    get(client, connection, {**HANGUP, "call_id": "o1", "uuid": "o1", "direction": "outbound", "call_status": "missed", "billsec": "0"})
    assert not Message.objects.filter(type="call").exists()


def test_agent_found_by_phone_when_there_is_no_agent_line(client, connection):
    user = UserFactory(phone="+919900000001")
    get(client, connection, {**HANGUP, "answered_agent_number": "09900000001"})
    assert Call.objects.get().agent == user


def test_replay_of_a_stored_event_is_harmless(client, connection):
    from inbox.ingest.drain import process_event

    get(client, connection, HANGUP)
    process_event(WebhookEvent.objects.get(), force=True)
    assert Call.objects.count() == 1


def test_no_secret_and_no_body_in_the_log(client, connection, caplog):
    with caplog.at_level(logging.DEBUG):
        get(client, connection, HANGUP)
    assert connection.auth_token not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_connection_deleted_in_another_process_while_kept_here_answers_404_not_500(client):
    import uuid

    from telephony import webhooks

    connection = ConnectionFactory()
    webhooks.connections.keep(connection.status_token, uuid.uuid4(), seconds=60)  # kept, since deleted
    assert get(client, connection, HANGUP).status_code == 404
    assert not WebhookEvent.objects.exists()
    assert get(client, connection, HANGUP).status_code == 200  # read again: the connection itself


def test_applying_a_delivery_never_decrypts_the_connections_secrets(client, connection, monkeypatch):
    from core import fields

    decrypted, real = [], fields.decrypt
    monkeypatch.setattr(fields, "decrypt", lambda stored: decrypted.append(stored) or real(stored))
    hangup = {name: value for name, value in HANGUP.items() if name != "recording_url"}  # fetching one does need them
    assert get(client, connection, hangup).status_code == 200
    assert Call.objects.get().status == "answered"
    assert decrypted == []
