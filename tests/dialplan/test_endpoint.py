"""The URL Smartflo calls: GET and POST, the custom header, hostile input, logging, real facts."""

import datetime
import json
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from contacts.models import Label
from dialplan import logwriter, services
from telephony.models import AgentLine
from dialplan.models import DialplanRequest, MaskedPair, Region, RegionPrefix
from tests.dialplan.factories import DialplanFactory, make_rule
from tests.factories import ContactFactory, ContactPhoneFactory

pytestmark = pytest.mark.django_db

CALLER = "+919812345678"
DID = "+918069000000"
PARAMS = {
    "uuid": "7611",
    "call_id": "1642000000.000012",
    "call_to_number": "+91-8069000000",
    "caller_id_number": "+91-9812345678",
    "start_stamp": "2025-01-15 10:30:00",
}
IVR = [{"transfer": {"type": "ivr", "data": ["22590"]}}]


def post(client, plan, data, **extra):
    body = data if isinstance(data, (bytes, str)) else json.dumps(data)
    return client.post(plan.path, data=body, content_type=extra.pop("content_type", "application/json"), **extra)


def answer(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert b"\n" not in response.content
    return json.loads(response.content)


def test_post_json_and_get_query_string_both_answer(client, plan):
    make_rule(plan, "press 1", dtmf_values="1", action="transfer", transfer_type="agent", transfer_to="05000001")
    assert answer(post(client, plan, {**PARAMS, "last_dtmf": "1"}))[0]["transfer"]["data"] == ["05000001"]
    assert answer(client.get(plan.path, {**PARAMS, "last_dtmf": "1"}))[0]["transfer"]["data"] == ["05000001"]
    form = urlencode({**PARAMS, "last_dtmf": "1"})
    assert answer(post(client, plan, form, content_type="application/x-www-form-urlencoded"))[0]["transfer"]["data"] == ["05000001"]


def test_unfilled_smartflo_variables_are_treated_as_empty(client, plan):
    make_rule(plan, "typed something", dtmf_values="1", action="transfer", transfer_type="agent", transfer_to="1")
    assert answer(post(client, plan, {**PARAMS, "last_dtmf": "$last_dtmf", "$uuid": "9"})) == IVR
    log = DialplanRequest.objects.get()
    assert log.last_dtmf == "" and log.call_uuid == "9"


def test_every_request_is_logged_with_rule_answer_and_latency(client, plan):
    make_rule(plan, "everyone", action="transfer", transfer_type="number", transfer_to="9810000000")
    post(client, plan, PARAMS)
    log = DialplanRequest.objects.get()
    assert log.dialplan == plan and log.outcome == "matched" and log.rule_name == "everyone"
    assert log.caller == CALLER and log.called == DID and log.call_uuid == "7611"
    assert log.answer == [{"transfer": {"type": "number", "data": ["9810000000"]}}]
    assert log.params["call_id"] == "1642000000.000012" and log.latency_ms > 0


def test_wrong_token_is_404_and_logged(client):
    response = client.post("/dialplan/not-a-token/", data=json.dumps(PARAMS), content_type="application/json")
    assert response.status_code == 404 and json.loads(response.content)["detail"]
    log = DialplanRequest.objects.get()
    assert log.outcome == "rejected" and log.status_code == 404 and log.dialplan is None


def test_custom_header_is_checked(client):
    plan = DialplanFactory(header_key="x-sampark-key", header_value="s3cret")  # any case, as typed in Smartflo
    make_rule(plan, "all", action="transfer", transfer_type="ivr", transfer_to="1")
    assert post(client, plan, PARAMS).status_code == 403
    assert post(client, plan, PARAMS, HTTP_X_SAMPARK_KEY="wrong").status_code == 403
    assert answer(post(client, plan, PARAMS, HTTP_X_SAMPARK_KEY="s3cret"))
    assert list(DialplanRequest.objects.values_list("status_code", flat=True).order_by("pk")) == [403, 403, 200]
    assert "s3cret" not in json.dumps(list(DialplanRequest.objects.values("params", "error")))


def test_huge_bodies_are_refused_with_413_and_logged(client, plan, settings):
    settings.DIALPLAN_MAX_BODY_BYTES = 1024
    response = post(client, plan, {**PARAMS, "pad": "x" * 5000})
    assert response.status_code == 413
    assert DialplanRequest.objects.get().status_code == 413


def test_other_methods_get_405(client, plan):
    response = client.put(plan.path, data="{}", content_type="application/json")
    assert response.status_code == 405 and response["Allow"] == "GET, POST"


@pytest.mark.parametrize(
    "body,content_type",
    [
        (b"{not json", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"\xff\xfe\x00garbage\x80", "application/json"),
        (b"\xff\xfe\x00garbage\x80", "text/plain"),
        (b'"just a string"', "application/json"),
        (b"", "application/json"),
        (json.dumps(PARAMS).encode("utf-16"), "application/json"),
        (b'{"uuid": {"nested": [1, 2]}, "caller_id_number": 12345}', "application/json"),
    ],
)
def test_malformed_bodies_get_the_failover_answer_and_are_logged(client, plan, body, content_type):
    response = post(client, plan, body, content_type=content_type)
    assert answer(response) == IVR
    log = DialplanRequest.objects.get()
    assert log.outcome == "failover" and log.status_code == 200


def test_utf16_json_is_understood(client, plan):
    make_rule(plan, "all", caller_known="no", action="transfer", transfer_type="number", transfer_to="9810000000")
    assert answer(post(client, plan, json.dumps(PARAMS).encode("utf-16")))[0]["transfer"]["type"] == "number"


def test_missing_fields_are_logged_as_such(client, plan):
    assert answer(post(client, plan, {"uuid": "1"})) == IVR
    assert "missing caller_id_number, call_to_number" in DialplanRequest.objects.get().error


def test_a_broken_database_still_gets_an_answer(client, plan, monkeypatch):
    from dialplan import selectors

    def broken(token):
        raise RuntimeError("connection refused")

    monkeypatch.setattr(selectors, "plan_for_token", broken)
    assert answer(post(client, plan, PARAMS)) == []
    assert DialplanRequest.objects.get().outcome == "error"


def test_switched_off_dialplan_answers_the_default(client, settings):
    settings.DIALPLAN_DEFAULT_ANSWER = IVR
    plan = DialplanFactory(is_active=False)
    make_rule(plan, "all", action="transfer", transfer_type="agent", transfer_to="1")
    assert answer(post(client, plan, PARAMS)) == IVR
    assert DialplanRequest.objects.get().outcome == "inactive"


def test_rule_changes_reach_the_cached_rule_set(client, plan):
    rule = make_rule(plan, "all", action="transfer", transfer_type="agent", transfer_to="1")
    assert answer(post(client, plan, PARAMS))[0]["transfer"]["data"] == ["1"]
    rule.transfer_to = "2"
    rule.full_clean()
    rule.save()
    assert answer(post(client, plan, PARAMS))[0]["transfer"]["data"] == ["2"]
    label = Label.objects.create(name="VIP")
    rule.caller_labels.add(label)
    assert answer(post(client, plan, PARAMS)) == IVR  # the caller has no such label


def test_answer_path_is_a_handful_of_queries(client, plan, django_assert_max_num_queries):
    make_rule(plan, "owner", caller_has_owner="yes", action="transfer_owner")
    make_rule(plan, "vip", caller_known="yes", action="transfer", transfer_type="ivr", transfer_to="5", position=20)
    post(client, plan, PARAMS)  # compiles and caches
    with django_assert_max_num_queries(3):  # revision check, contact, log insert
        post(client, plan, PARAMS)


# ---------------------------------------------------------------- real facts


def test_known_contact_owner_label_region_and_pairs_from_the_database(client, plan, agent, teammate):
    contact = ContactFactory(owner=agent)
    ContactPhoneFactory(contact=contact, number=CALLER)
    vip = Label.objects.create(name="VIP")
    contact.labels.add(vip)
    AgentLine.objects.create(user=agent, agent_id="05000001")
    teammate.phone = "+919833333333"
    teammate.save()
    maharashtra = Region.objects.create(name="Maharashtra")
    maharashtra.agents.add(teammate)
    RegionPrefix.objects.create(region=maharashtra, prefix="+9198123")

    vip_rule = make_rule(plan, "vip", position=1, action="transfer", transfer_type="ivr", transfer_to="7")
    vip_rule.caller_labels.add(vip)
    assert answer(post(client, plan, PARAMS))[0]["transfer"]["data"] == ["7"]
    vip_rule.delete()

    owner_rule = make_rule(plan, "owner", position=2, caller_has_owner="yes", action="transfer_owner")
    assert answer(post(client, plan, PARAMS)) == [{"transfer": {"type": "agent", "data": ["05000001"]}}]
    from dialplan import selectors

    assert selectors._contact_row.sql and selectors._label_rows.sql  # compiled once, not per call
    owner_rule.delete()

    make_rule(plan, "region", position=3, caller_regions="Maharashtra", action="transfer_region")
    assert answer(post(client, plan, PARAMS)) == [{"transfer": {"type": "number", "data": ["9833333333"]}}]


def test_owner_without_agent_line_is_reached_on_their_phone(client, plan, agent):
    agent.phone = "+919844444444"
    agent.save()
    contact = ContactFactory(owner=agent)
    ContactPhoneFactory(contact=contact, number=CALLER)
    make_rule(plan, "owner", caller_has_owner="yes", action="transfer_owner", skip_active=True)
    assert answer(post(client, plan, PARAMS)) == [{"transfer": {"type": "number", "data": ["9844444444"], "skip_active": True}}]


def test_masked_pairs_expire_and_can_be_limited_to_a_did(client, plan):
    make_rule(plan, "connect", pair_match="caller", action="transfer_pair")
    pair = services.create_masked_pair(
        customer_number="09812345678", agent_number="+91 99000 00001", expires_at=timezone.now() + datetime.timedelta(hours=2)
    )
    assert pair.customer_number == CALLER
    assert answer(post(client, plan, PARAMS)) == [{"transfer": {"type": "number", "data": ["9900000001"]}}]
    agent_calls = {**PARAMS, "caller_id_number": "9900000001"}
    assert answer(post(client, plan, agent_calls)) == [{"transfer": {"type": "number", "data": ["9812345678"]}}]
    MaskedPair.objects.update(did="+918069999999")
    assert answer(post(client, plan, PARAMS)) == IVR
    MaskedPair.objects.update(did=DID, expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert answer(post(client, plan, PARAMS)) == IVR


def test_deferred_log_writer_writes_in_bulk(client, plan, settings):
    settings.TASKS_INLINE = False
    settings.DIALPLAN_LOG_DEFERRED = True
    settings.DIALPLAN_LOG_FLUSH_SECONDS = 60  # the test flushes by hand
    for _ in range(3):
        post(client, plan, PARAMS)
    assert DialplanRequest.objects.count() == 0
    logwriter.flush()  # COPY on PostgreSQL, bulk_create elsewhere: the same columns either way
    assert DialplanRequest.objects.count() == 3
    log = DialplanRequest.objects.first()
    assert (log.dialplan, log.method, log.caller, log.called, log.outcome) == (plan, "POST", CALLER, DID, "failover")
    assert log.params["uuid"] == "7611" and log.answer == IVR and log.trace[-1] == "fallback: failover answer"
    assert log.received_at.tzinfo is not None and log.latency_ms > 0 and log.rule_pk is not None


def test_a_failed_bulk_write_falls_back_to_single_rows(plan, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("one bad row")

    monkeypatch.setattr(logwriter, "_insert_all", fail)
    logwriter._buffer.rows.append(logwriter.new_row(dialplan_id=plan.pk, received_at=timezone.now(), method="GET", outcome="matched"))
    logwriter.flush()
    assert DialplanRequest.objects.count() == 1 and logwriter._buffer.rows == []


def test_unwritable_rows_are_retried_then_logged_in_full(plan, settings, monkeypatch, caplog):
    settings.DIALPLAN_LOG_FLUSH_ATTEMPTS = 2
    monkeypatch.setattr(logwriter, "_write", lambda rows: list(rows))  # the database refuses everything
    row = logwriter.new_row(dialplan_id=plan.pk, received_at=timezone.now(), method="POST", outcome="matched", caller=CALLER)
    logwriter._buffer.rows.append(row)
    logwriter.flush()
    assert logwriter._buffer.rows == [row]  # kept for the retry
    logwriter.flush()
    assert logwriter._buffer.rows == []
    assert "dialplan-request-unsaved" in caplog.text and CALLER in caplog.text


def test_logs_outlive_deleted_rules_and_dialplans(client, plan):
    rule = make_rule(plan, "all", action="transfer", transfer_type="ivr", transfer_to="3")
    post(client, plan, PARAMS)
    log = DialplanRequest.objects.get()
    assert log.rule_pk == rule.pk
    rule.delete()
    plan.delete()
    log.refresh_from_db()
    assert log.dialplan is None and log.rule_name == "all"
