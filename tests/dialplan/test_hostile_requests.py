"""Hostile dialplan requests still get a valid answer (issue #11, finding 19)."""

import json

import pytest

from dialplan import logwriter
from dialplan.models import DialplanRequest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("token", ["%00", "abc%00def", "%C3%A9t%C3%A9", "a.b", "x" * 65])
def test_a_token_no_dialplan_could_have_is_not_found_without_asking_the_database(client, token, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):  # the log row at most; the NUL made PostgreSQL's lookup raise → 200 []
        response = client.get(f"/dialplan/{token}/")
    assert response.status_code == 404 and json.loads(response.content)["detail"]
    logwriter.flush()
    assert DialplanRequest.objects.get().outcome == "rejected"


@pytest.mark.parametrize("poison", ["\x00", "\ud800"])
def test_nul_and_lone_surrogates_in_call_variables_are_answered_and_logged(client, plan, poison):
    body = json.dumps({"uuid": "u1" + poison, "caller_id_number": "9812345678", "call_to_number": "8069000000", poison: "x"})
    response = client.post(plan.path, data=body, content_type="application/json")
    assert response.status_code == 200
    assert json.loads(response.content) == [{"transfer": {"type": "ivr", "data": ["22590"]}}]
    logwriter.flush()
    log = DialplanRequest.objects.get()
    assert log.params["uuid"] == "u1\ufffd" and log.call_uuid == "u1\ufffd"


def test_a_deeply_nested_body_gets_the_failover_answer(client, plan):
    response = client.post(plan.path, data="[" * 5_000 + "]" * 5_000, content_type="application/json")
    assert response.status_code == 200
    assert json.loads(response.content) == [{"transfer": {"type": "ivr", "data": ["22590"]}}]
    logwriter.flush()
    assert "not valid JSON" in DialplanRequest.objects.get().error
