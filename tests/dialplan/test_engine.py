"""The pure engine: each condition, each action, failover and the never-raise promise. No database."""

import datetime

import pytest

from dialplan import answers, engine
from dialplan.engine import ActionSpec, CallRequest, ContactFacts, PairFacts, PlanSpec, RuleSpec, ScheduleSpec, Target

NOW = datetime.datetime(2025, 1, 15, 6, 0, tzinfo=datetime.timezone.utc)  # Wednesday 11:30 in Kolkata
CALLER = "+919812345678"
DID = "+918069000000"
IVR = answers.single(answers.transfer("ivr", ["100"]))
AGENT_7 = answers.single(answers.transfer("agent", ["7"]))


class FakeFacts:
    def __init__(self, contacts=None, labels=None, pairs=()):
        self.contacts = contacts or {}
        self.labels = labels or {}
        self.pairs = list(pairs)
        self.asked = []

    def contact(self, number):
        self.asked.append("contact")
        return self.contacts.get(number)

    def label_ids(self, contact_id):
        self.asked.append("labels")
        return frozenset(self.labels.get(contact_id, ()))

    def pair_for_caller(self, number, did, now):
        self.asked.append("pair")
        return next((p for p in self.pairs if number in (p.customer_number, p.agent_number)), None)

    def pair_for_reference(self, reference, did, now):
        self.asked.append("reference")
        return next((p for p in self.pairs if p.id == int(reference)), None)


def fixed(answer):
    return ActionSpec(kind="transfer", answer=answer)


def rule(name="r", action=None, **conditions):
    return RuleSpec(id=hash(name) % 1000, name=name, action=action or fixed(AGENT_7), **conditions)


def plan(*rules, failover=None, active=True, default=(), **extra):
    return PlanSpec(id=1, name="p", active=active, rules=rules, failover=failover, default_answer=list(default), **extra)


def run(p, facts=None, **request):
    request = {"caller": CALLER, "called": DID, **request}
    return engine.evaluate(p, CallRequest(**request), facts or FakeFacts(), NOW)


def test_first_matching_rule_wins_and_order_matters():
    p = plan(rule("a", fixed(IVR), dtmf_values=frozenset({"1"})), rule("b", fixed(AGENT_7)), rule("c", fixed(IVR)))
    result = run(p, last_dtmf="2")
    assert result.answer == AGENT_7 and result.rule_name == "b" and result.outcome == engine.MATCHED
    assert result.trace[0].startswith("a: DTMF")


def test_nothing_matches_gives_failover_then_default():
    failover = rule("fo", fixed(IVR))
    assert run(plan(rule(dtmf_values=frozenset({"9"})), failover=failover)).answer == IVR
    result = run(plan(rule(dtmf_values=frozenset({"9"})), default=[]))
    assert result.answer == [] and result.outcome == engine.FAILOVER


def test_inactive_plan_answers_default():
    result = run(plan(rule(), active=False, default=IVR))
    assert result.answer == IVR and result.outcome == engine.INACTIVE


@pytest.mark.parametrize("known,expected", [("yes", AGENT_7), ("no", IVR)])
def test_caller_known(known, expected):
    facts = FakeFacts(contacts={CALLER: ContactFacts(5, False, None)})
    p = plan(rule(caller_known="yes"), failover=rule("fo", fixed(IVR)))
    assert run(p, facts if known == "yes" else FakeFacts()).answer == expected


def test_unknown_caller_with_no_owner_rule():
    p = plan(rule(caller_known="no"))
    assert run(p).answer == AGENT_7


def test_caller_label():
    facts = FakeFacts(contacts={CALLER: ContactFacts(5, False, None)}, labels={5: {3}})
    assert run(plan(rule(label_ids=frozenset({3, 4}))), facts).outcome == engine.MATCHED
    assert run(plan(rule(label_ids=frozenset({4}))), facts).outcome == engine.FAILOVER


def test_caller_has_owner():
    owned = FakeFacts(contacts={CALLER: ContactFacts(5, True, Target("agent", "9"))})
    unowned = FakeFacts(contacts={CALLER: ContactFacts(5, False, None)})
    assert run(plan(rule(caller_has_owner="yes")), owned).outcome == engine.MATCHED
    assert run(plan(rule(caller_has_owner="yes")), unowned).outcome == engine.FAILOVER
    assert run(plan(rule(caller_has_owner="no")), unowned).outcome == engine.MATCHED


def test_region_from_geocoder_for_landlines_and_listed_series_for_mobiles():
    patna = "+916122234567"
    assert {"patna", "bihar"} <= engine.regions_of(patna)
    assert run(plan(rule(regions=frozenset({"bihar"}))), caller=patna).outcome == engine.MATCHED
    assert run(plan(rule(regions=frozenset({"bihar"})))).outcome == engine.FAILOVER
    listed = plan(rule(regions=frozenset({"maharashtra"})), region_prefixes=(("+9198123", "Maharashtra"),))
    assert run(listed).outcome == engine.MATCHED


def test_called_did():
    assert run(plan(rule(called_numbers=frozenset({DID})))).outcome == engine.MATCHED
    assert run(plan(rule(called_numbers=frozenset({"+918069999999"})))).outcome == engine.FAILOVER


def test_business_hours_and_holidays_in_the_schedules_time_zone():
    weekdays = tuple((day, datetime.time(9), datetime.time(18)) for day in range(5))
    kolkata = ScheduleSpec("Asia/Kolkata", weekdays, frozenset())
    assert kolkata.is_open(NOW)  # 11:30 IST
    assert not kolkata.is_open(NOW.replace(hour=13))  # 18:30 IST
    new_york = ScheduleSpec("America/New_York", weekdays, frozenset())
    assert not new_york.is_open(NOW)  # 01:00 in New York
    holiday = ScheduleSpec("Asia/Kolkata", weekdays, frozenset({datetime.date(2025, 1, 15)}))
    assert not holiday.is_open(NOW)
    assert run(plan(rule(schedule=kolkata, schedule_state="open"))).outcome == engine.MATCHED
    assert run(plan(rule(schedule=kolkata, schedule_state="closed"))).outcome == engine.FAILOVER
    assert run(plan(rule(schedule=holiday, schedule_state="closed"))).outcome == engine.MATCHED


def test_last_dtmf():
    p = plan(rule("one", fixed(IVR), dtmf_values=frozenset({"1"})), rule("two", dtmf_values=frozenset({"2", "22"})))
    assert run(p, last_dtmf="1").answer == IVR
    assert run(p, last_dtmf="22").answer == AGENT_7
    assert run(p, last_dtmf="3").outcome == engine.FAILOVER


PAIR = PairFacts(42, CALLER, "+919900000001")


def test_masked_pair_conditions_and_connect_the_other_party():
    facts = FakeFacts(pairs=[PAIR])
    connect = rule("connect", ActionSpec(kind="transfer_pair"), pair_match="caller")
    assert run(plan(connect), facts).answer == answers.single(answers.transfer("number", ["9900000001"]))
    assert run(plan(connect), facts, caller="+919900000001").answer == answers.single(answers.transfer("number", ["9812345678"]))
    assert run(plan(connect), FakeFacts()).outcome == engine.FAILOVER
    assert run(plan(rule(pair_match="none")), facts).outcome == engine.FAILOVER
    assert run(plan(rule(pair_match="none")), FakeFacts()).outcome == engine.MATCHED


def test_order_reference_typed_as_dtmf_connects_the_delivery_agent():
    facts = FakeFacts(pairs=[PAIR])
    by_reference = plan(rule("order", ActionSpec(kind="transfer_pair"), pair_match="reference"))
    stranger = "+917000000009"
    result = run(by_reference, facts, caller=stranger, last_dtmf="42")
    assert result.answer == answers.single(answers.transfer("number", ["9900000001"]))
    assert run(by_reference, facts, caller=stranger, last_dtmf="43").outcome == engine.FAILOVER
    assert run(by_reference, facts, caller=stranger, last_dtmf="").outcome == engine.FAILOVER


def test_transfer_to_owner_agent_prefers_agent_id_and_falls_through_without_owner():
    owner = rule("owner", ActionSpec(kind="transfer_owner", ring_type="order_by", skip_active=True))
    with_id = FakeFacts(contacts={CALLER: ContactFacts(5, True, Target("agent", "05000001"))})
    result = run(plan(owner), with_id)
    assert result.answer == [{"transfer": {"type": "agent", "data": ["05000001"], "ring_type": "order_by", "skip_active": True}}]
    by_phone = FakeFacts(contacts={CALLER: ContactFacts(5, True, Target("number", "9811111111"))})
    assert run(plan(owner), by_phone).answer[0]["transfer"]["data"] == ["9811111111"]
    no_line = FakeFacts(contacts={CALLER: ContactFacts(5, True, None)})
    result = run(plan(owner, rule("next", fixed(IVR))), no_line)
    assert result.answer == IVR and "owner agent has no line" in result.trace[0]


def test_transfer_to_region_agents_uses_numbers_unless_all_have_ids():
    region = rule("region", ActionSpec(kind="transfer_region"))
    prefixes = (("+9198123", "Maharashtra"),)
    mixed = plan(region, region_prefixes=prefixes, region_targets={"maharashtra": (Target("agent", "1"), Target("number", "9822222222"))})
    assert run(mixed).answer == answers.single(answers.transfer("number", ["9822222222"]))
    ids = plan(region, region_prefixes=prefixes, region_targets={"maharashtra": (Target("agent", "1"), Target("agent", "2"))})
    assert run(ids).answer == answers.single(answers.transfer("agent", ["1", "2"]))
    nobody = plan(region, region_prefixes=prefixes)
    assert run(nobody).outcome == engine.FAILOVER


def test_fixed_action_missing_an_id_falls_through():
    p = plan(rule("broken", ActionSpec(kind="recording", problem="Recording “x” has no Smartflo id yet.")), rule("ok"))
    result = run(p)
    assert result.rule_name == "ok" and "no Smartflo id" in result.trace[0]


class ExplodingFacts(FakeFacts):
    def contact(self, number):
        raise RuntimeError("database gone")


def test_any_failure_becomes_the_failover_answer_never_an_exception():
    p = plan(rule(caller_known="yes"), failover=rule("fo", fixed(IVR)))
    result = run(p, ExplodingFacts())
    assert result.answer == IVR and result.outcome == engine.ERROR and "database gone" in result.error


def test_failing_failover_falls_back_to_the_default():
    p = plan(rule(caller_known="yes"), failover=rule("fo", ActionSpec(kind="transfer_owner", ring_type="")), default=[])
    result = run(p, ExplodingFacts())
    assert result.answer == [] and result.outcome == engine.ERROR


def test_facts_are_fetched_only_when_a_rule_needs_them():
    facts = FakeFacts()
    run(plan(rule(dtmf_values=frozenset({"1"}))), facts, last_dtmf="1")
    assert facts.asked == []
    run(plan(rule(caller_known="yes"), rule(caller_has_owner="no")), facts)
    assert facts.asked == ["contact"]  # asked once, reused


def test_a_schedule_shared_by_rules_is_worked_out_once_per_call(monkeypatch):
    weekdays = tuple((day, datetime.time(9), datetime.time(18)) for day in range(5))
    office = ScheduleSpec("Asia/Kolkata", weekdays, frozenset())
    checked = []
    real = ScheduleSpec.is_open
    monkeypatch.setattr(ScheduleSpec, "is_open", lambda self, now: checked.append(now) or real(self, now))
    p = plan(*(rule(f"closed {n}", schedule=office, schedule_state="closed") for n in range(3)), rule("open", fixed(IVR), schedule=office, schedule_state="open"))
    result = run(p)
    assert result.answer == IVR and result.trace[0] == "closed 0: business hours: open"
    assert len(checked) == 1
    run(p)
    assert len(checked) == 2  # a new call asks again: the hour may have changed

