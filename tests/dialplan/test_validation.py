"""Invalid configurations are refused when the admin saves, not when a call arrives."""

import pytest
from django.core.exceptions import ValidationError

from dialplan.models import Dialplan, Recording, Rule
from tests.dialplan.factories import DialplanFactory, RecordingFactory, make_rule

pytestmark = pytest.mark.django_db


def refused(dialplan, **fields):
    with pytest.raises(ValidationError) as info:
        make_rule(dialplan, **fields)
    return info.value.message_dict


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"action": "transfer", "transfer_type": "ivr", "transfer_to": "1, 2"}, "transfer_to"),
        ({"action": "transfer", "transfer_type": "department", "transfer_to": "1,2"}, "transfer_to"),
        ({"action": "transfer", "transfer_type": "number", "transfer_to": "98123"}, "transfer_to"),
        ({"action": "transfer", "transfer_type": "", "transfer_to": "1"}, "transfer_to"),
        ({"action": "transfer", "transfer_type": "ivr", "transfer_to": "1", "ring_type": "order_by"}, "transfer_to"),
        ({"action": "recording"}, "recording"),
        ({"action": "recording", "recording_url": "https://x.in/a.wav", "collect_dtmf": True, "dtmf_retry": 6}, "dtmf_retry"),
        ({"action": "dialplan"}, "next_dialplan"),
        ({"action": "transfer_owner", "transfer_type": "ivr", "transfer_to": "1"}, "transfer_to"),
        ({"action": "transfer_pair", "pair_match": "none"}, "pair_match"),
        ({"action": "transfer_owner", "dtmf_values": "1a"}, "dtmf_values"),
        ({"action": "transfer_owner", "called_numbers": "12"}, "called_numbers"),
        ({"action": "transfer_owner", "schedule_state": "open"}, "schedule"),
    ],
)
def test_invalid_rules_are_refused(fields, field):
    errors = refused(DialplanFactory(), **fields)
    assert field in errors


def test_moh_must_be_marked_as_moh():
    plain = RecordingFactory(is_moh=False)
    errors = refused(DialplanFactory(), action="transfer", transfer_type="agent", transfer_to="1", moh=plain)
    assert "not marked as music on hold" in str(errors)
    make_rule(DialplanFactory(), action="transfer", transfer_type="agent", transfer_to="1", moh=RecordingFactory(is_moh=True))


def test_valid_rules_normalise_their_numbers():
    rule = make_rule(DialplanFactory(), action="transfer_owner", called_numbers="080 6900 0000, +918069000000")
    assert rule.called_numbers == "+918069000000"


def chain(n):
    plans = [DialplanFactory() for _ in range(n)]
    for source, target in zip(plans, plans[1:]):
        make_rule(source, action="dialplan", next_dialplan=target)
    return plans


def test_three_nested_dialplans_are_allowed_and_a_fourth_is_refused():
    first, second, third = chain(3)
    fourth = DialplanFactory()
    errors = refused(third, action="dialplan", next_dialplan=fourth)
    assert "at most 3" in errors["next_dialplan"][0]
    # Nor may a new dialplan lead into the chain's start.
    errors = refused(fourth, action="recording", recording=RecordingFactory(), next_dialplan=first)
    assert "at most 3" in errors["next_dialplan"][0]


def test_loops_are_refused():
    first, second = chain(2)
    assert "loop" in refused(second, action="dialplan", next_dialplan=first)["next_dialplan"][0]
    assert "loop" in refused(first, action="dialplan", next_dialplan=first)["next_dialplan"][0]


def test_missing_smartflo_ids_block_switching_on_but_not_drafting():
    draft = DialplanFactory(is_active=False)
    target = DialplanFactory(smartflo_id="", is_active=False)
    unuploaded = Recording.objects.create(name="not uploaded yet")
    make_rule(draft, action="recording", recording=unuploaded, next_dialplan=target)
    draft.is_active = True
    with pytest.raises(ValidationError) as info:
        draft.full_clean()
    assert "no Smartflo id" in str(info.value)
    # In a switched-on dialplan the rule itself is refused.
    live = DialplanFactory()
    with pytest.raises(ValidationError):
        make_rule(live, action="recording", recording=unuploaded)


def test_ids_in_use_cannot_be_cleared():
    recording = RecordingFactory()
    target = DialplanFactory()
    source = DialplanFactory()
    make_rule(source, action="recording", recording=recording, next_dialplan=target)
    recording.smartflo_id = ""
    with pytest.raises(ValidationError):
        recording.full_clean()
    target.smartflo_id = ""
    with pytest.raises(ValidationError):
        target.full_clean()


def test_one_failover_rule_per_dialplan():
    plan = DialplanFactory()
    make_rule(plan, "fo", is_failover=True, action="transfer", transfer_type="ivr", transfer_to="1")
    with pytest.raises(ValidationError):
        make_rule(plan, "fo2", is_failover=True, action="transfer", transfer_type="ivr", transfer_to="2")


def test_header_needs_a_value():
    plan = Dialplan(name="h", header_key="X-Token")
    with pytest.raises(ValidationError):
        plan.full_clean()


def test_rule_text_fields_are_tidied():
    rule = make_rule(DialplanFactory(), action="transfer_region", caller_regions=" Bihar ,, Maharashtra ")
    assert rule.caller_regions == "Bihar, Maharashtra"
    assert Rule.objects.get(pk=rule.pk).action == "transfer_region"
