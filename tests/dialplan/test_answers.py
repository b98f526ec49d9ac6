"""Every response shape, compared with the reference's own examples (smartflo-api-dialplan.txt)."""

import json

import pytest

from dialplan import answers
from dialplan.answers import Dtmf, InvalidAnswer


def same(built, reference_text):
    assert built == json.loads(reference_text)


def test_recording_with_dtmf_matches_reference_and_renders_on_one_line():
    built = answers.single(answers.recording("system", "1234", Dtmf(timeout=6000, max_length=4, retry=2)))
    same(built, '[{ "recording": { "type": "system", "data": 1234, "dtmf": { "timeout": 6000, "maxLength": 4, "retry": 2 } } }]')
    body = answers.render(built)
    assert b"\n" not in body
    assert body == b'[{"recording":{"type":"system","data":1234,"dtmf":{"timeout":6000,"maxLength":4,"retry":2}}}]'


def test_dtmf_defaults_are_the_references():
    built = answers.recording("system", 7, Dtmf())
    assert built["recording"]["dtmf"] == {"timeout": 5000, "maxLength": 10, "retry": 0}


def test_url_recording():
    assert answers.recording("url", "https://cdn.example.in/hi.wav") == {
        "recording": {"type": "url", "data": "https://cdn.example.in/hi.wav"}
    }


@pytest.mark.parametrize(
    "kind,data,dtmf",
    [
        ("system", "abc", None),
        ("url", "ftp://x/y.wav", None),
        ("tts", "hello", None),
        ("system", "1", Dtmf(retry=6)),
        ("system", "1", Dtmf(timeout=0)),
        ("system", "1", Dtmf(max_length=0)),
    ],
)
def test_invalid_recordings_are_refused(kind, data, dtmf):
    with pytest.raises(InvalidAnswer):
        answers.recording(kind, data, dtmf)


def test_transfer_by_number_matches_reference():
    built = answers.single(answers.transfer("number", ["9810000000"], ring_type="order_by", skip_active=True))
    same(built, '[{"transfer": {"type": "number", "data": ["9810000000"], "ring_type":"order_by", "skip_active":true}}]')


def test_transfer_to_agents_with_moh_matches_reference():
    built = answers.single(
        answers.transfer("agent", ["05000001", "05000002", "05000003"], ring_type="order_by", skip_active=True, moh="1235")
    )
    same(
        built,
        '[{"transfer": {"type": "agent", "data": ["05000001", "05000002", "05000003"], "ring_type": "order_by",'
        ' "skip_active":true, "moh": "1235"}}]',
    )


def test_departments_of_numbers_matches_reference():
    built = answers.single(
        answers.transfer("number", ["9988776655", "9988776654", "9988776653"], ring_type="order_by", skip_active=True, moh="1235")
    )
    same(
        built,
        '[{"transfer": {"type": "number", "data": ["9988776655", "9988776654", "9988776653"], "ring_type": "order_by",'
        ' "skip_active":true, "moh": "1235"}}]',
    )


@pytest.mark.parametrize("kind", ["ivr", "auto_attendant", "department"])
def test_single_target_transfers_match_reference(kind):
    same(answers.single(answers.transfer(kind, ["22590"])), '[{"transfer": {"type": "%s", "data": ["22590"]}}]' % kind)


@pytest.mark.parametrize(
    "kind,values,options",
    [
        ("ivr", ["1", "2"], {}),  # several values only for number and agent
        ("department", ["1", "2"], {}),
        ("number", ["98100"], {}),  # not 10 digits
        ("number", ["+919810000000"], {}),
        ("agent", ["05-01"], {}),
        ("agent", [], {}),
        ("agent", ["1", "1"], {}),
        ("queue", ["1"], {}),
        ("ivr", ["1"], {"ring_type": "order_by"}),
        ("agent", ["1"], {"ring_type": "shuffle"}),
        ("agent", ["1"], {"moh": "hold.wav"}),
    ],
)
def test_invalid_transfers_are_refused(kind, values, options):
    with pytest.raises(InvalidAnswer):
        answers.transfer(kind, values, **options)


def test_nested_dialplan_matches_reference():
    same(answers.single(answers.api_dialplan("6140fff5dba07c19f853ac81")), '[{"api_dialplan": {"data": "6140fff5dba07c19f853ac81"}}]')


def test_recording_then_next_dialplan_matches_reference_step():
    built = answers.steps(
        answers.recording("system", "156848", Dtmf(6000, 4, 2)), answers.api_dialplan("6733074ecbb570864f06bc14")
    )
    same(
        built,
        """[
        [{"recording": {"type": "system", "data": 156848, "dtmf":{"timeout": 6000, "maxLength": 4, "retry": 2}}}],
        [{"api_dialplan": {"data": "6733074ecbb570864f06bc14"}}]
        ]""",
    )
    assert answers.next_dialplan_id(built) == "6733074ecbb570864f06bc14"


def test_next_dialplan_must_come_last():
    with pytest.raises(InvalidAnswer):
        answers.steps(answers.api_dialplan("a1"), answers.recording("system", "1"))


def test_validate_accepts_reference_examples_and_empty():
    assert answers.validate([]) == []
    answers.validate(json.loads('[{"api_dialplan": {"data": "6140fff5dba07c19f853ac81"}}]'))
    answers.validate(json.loads('[[{"recording": {"type": "system", "data": 1, "dtmf": {"timeout": 6000}}}], [{"api_dialplan": {"data": "x1"}}]]'))


@pytest.mark.parametrize(
    "answer",
    [{}, "[]", [{"play": {}}], [{"transfer": {"type": "ivr", "data": ["1", "2"]}}], [{"recording": 1}], [1], [{"a": 1, "b": 2}]],
)
def test_validate_refuses_what_smartflo_would_not_accept(answer):
    with pytest.raises(InvalidAnswer):
        answers.validate(answer)
