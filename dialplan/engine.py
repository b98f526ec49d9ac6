"""The rules engine: a call request in, a Smartflo answer out. Pure: no HTTP, no database.

The caller's facts (contact, labels, owner, masked pairs) come from a `Facts` object the caller of
`evaluate` supplies (selectors.DatabaseFacts in production, a fake in tests); they are asked for only
when a rule needs them. Rules are tried in order; the first whose conditions all hold and whose action
can be built answers. A rule whose action cannot be built for this call (the contact has no owner, the
region has no agents) is skipped with the reason in the trace. When nothing matches, or anything at
all goes wrong, the dialplan's failover rule answers, and if even that fails the global default does.
`evaluate` never raises.
"""

import datetime
import functools
import zoneinfo
from dataclasses import dataclass, field
from typing import Protocol

import phonenumbers
from phonenumbers import geocoder

from dialplan import answers

MATCHED, FAILOVER, ERROR, INACTIVE = "matched", "failover", "error", "inactive"


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class CallRequest:
    """What Smartflo tells us, normalised: numbers in E.164 when they parse, else as sent."""

    uuid: str = ""
    call_id: str = ""
    caller: str = ""
    called: str = ""
    start_stamp: str = ""
    last_dtmf: str = ""
    call_flow: str = ""


@dataclass(frozen=True)
class Target:
    """How Smartflo reaches one agent: ("agent", id-or-extension) or ("number", 10 digits)."""

    kind: str
    value: str


@dataclass(frozen=True)
class ContactFacts:
    id: int
    has_owner: bool
    owner_target: Target | None


@dataclass(frozen=True)
class PairFacts:
    id: int
    customer_number: str
    agent_number: str


class Facts(Protocol):
    def contact(self, number: str) -> ContactFacts | None: ...

    def label_ids(self, contact_id: int) -> frozenset[int]: ...

    def pair_for_caller(self, number: str, did: str, now: datetime.datetime) -> PairFacts | None: ...

    def pair_for_reference(self, reference: str, did: str, now: datetime.datetime) -> PairFacts | None: ...


# ---------------------------------------------------------------- compiled configuration


@dataclass(frozen=True)
class ScheduleSpec:
    time_zone: str
    windows: tuple[tuple[int, datetime.time, datetime.time], ...]  # (weekday, opens, closes)
    holidays: frozenset[datetime.date]

    def is_open(self, now: datetime.datetime) -> bool:
        local = now.astimezone(zoneinfo.ZoneInfo(self.time_zone))
        if local.date() in self.holidays:
            return False
        moment = local.time()
        return any(day == local.weekday() and opens <= moment < closes for day, opens, closes in self.windows)


@dataclass(frozen=True)
class ActionSpec:
    kind: str  # recording | transfer | transfer_owner | transfer_region | transfer_pair | dialplan
    answer: list | None = None  # prebuilt for fixed actions
    ring_type: str = ""
    moh: str = ""
    skip_active: bool = False
    problem: str = ""  # why a fixed action cannot be built (a missing Smartflo id)


@dataclass(frozen=True)
class RuleSpec:
    id: int
    name: str
    action: ActionSpec
    caller_known: str = ""
    label_ids: frozenset[int] = frozenset()
    caller_has_owner: str = ""
    regions: frozenset[str] = frozenset()  # lower-case
    called_numbers: frozenset[str] = frozenset()
    schedule: ScheduleSpec | None = None
    schedule_state: str = ""
    dtmf_values: frozenset[str] = frozenset()
    pair_match: str = ""

    @functools.cached_property
    def dtmf_listed(self) -> str:
        """The DTMF values as the trace shows them; made once, not for every call the rule fails."""
        return str(sorted(self.dtmf_values))

    @property
    def needs_contact(self) -> bool:
        return bool(self.caller_known or self.label_ids or self.caller_has_owner) or self.action.kind == "transfer_owner"


@dataclass(frozen=True)
class PlanSpec:
    id: int
    name: str
    active: bool
    rules: tuple[RuleSpec, ...]
    failover: RuleSpec | None
    default_answer: list
    region_prefixes: tuple[tuple[str, str], ...] = ()  # (prefix, region name), longest first
    region_targets: dict = field(default_factory=dict)  # lower-case region → tuple[Target, ...]


# ---------------------------------------------------------------- decision


@dataclass
class Decision:
    """What the engine answers for one call, and why: `outcome` is one of the kinds a log row stores
    (DialplanRequest.Outcome: matched, failover, error, inactive)."""

    answer: list
    outcome: str
    rule_id: int | None = None
    rule_name: str = ""
    trace: list[str] = field(default_factory=list)
    error: str = ""


class Unresolvable(Exception):
    """This rule's action cannot be built for this call; try the next rule."""


# ---------------------------------------------------------------- evaluation


class _Call:
    """One evaluation: the request plus facts fetched at most once."""

    _unset = object()

    def __init__(self, plan: PlanSpec, request: CallRequest, facts: Facts, now: datetime.datetime):
        self.plan, self.request, self.facts, self.now = plan, request, facts, now
        self._contact = self._labels = self._pair = self._reference_pair = self._regions = self._unset
        self._open: dict[int, bool] = {}

    def is_open(self, schedule: ScheduleSpec) -> bool:
        """Whether a schedule is open now, worked out once per call however many rules share it."""
        key = id(schedule)
        if key not in self._open:
            self._open[key] = schedule.is_open(self.now)
        return self._open[key]

    @property
    def contact(self) -> ContactFacts | None:
        if self._contact is self._unset:
            self._contact = self.facts.contact(self.request.caller) if self.request.caller else None
        return self._contact

    @property
    def labels(self) -> frozenset[int]:
        if self._labels is self._unset:
            self._labels = self.facts.label_ids(self.contact.id) if self.contact else frozenset()
        return self._labels

    @property
    def pair(self) -> PairFacts | None:
        if self._pair is self._unset:
            caller = self.request.caller
            self._pair = self.facts.pair_for_caller(caller, self.request.called, self.now) if caller else None
        return self._pair

    @property
    def reference_pair(self) -> PairFacts | None:
        if self._reference_pair is self._unset:
            digits = self.request.last_dtmf
            self._reference_pair = (
                self.facts.pair_for_reference(digits, self.request.called, self.now) if digits.isdigit() else None
            )
        return self._reference_pair

    @property
    def regions(self) -> frozenset[str]:
        if self._regions is self._unset:
            self._regions = regions_of(self.request.caller, self.plan.region_prefixes)
        return self._regions


def regions_of(number: str, prefixes: tuple[tuple[str, str], ...] = ()) -> frozenset[str]:
    """Lower-case names of where a number is from: a listed number series first, then the geocoder
    ("Patna, Bihar" gives "patna, bihar", "patna" and "bihar"), then the country."""
    names = set()
    for prefix, region in prefixes:
        if number.startswith(prefix):
            names.add(region.lower())
            break
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return frozenset(names)
    description = geocoder.description_for_number(parsed, "en")
    if description:
        names.add(description.lower())
        names.update(part.strip().lower() for part in description.split(",") if part.strip())
    country = geocoder.country_name_for_number(parsed, "en")
    if country:
        names.add(country.lower())
    return frozenset(names)


def _yes_no(wanted: str, actual: bool) -> bool:
    return not wanted or (wanted == "yes") == actual


def failed_condition(rule: RuleSpec, call: _Call) -> str:
    """'' when every condition holds, else the first that does not (for the trace)."""
    request = call.request
    if rule.called_numbers and request.called not in rule.called_numbers:
        return "called DID differs"
    if rule.dtmf_values and request.last_dtmf not in rule.dtmf_values:
        return f"DTMF “{request.last_dtmf}” not in {rule.dtmf_listed}"
    if rule.schedule is not None and rule.schedule_state:
        is_open = call.is_open(rule.schedule)
        if is_open != (rule.schedule_state == "open"):
            return "business hours: " + ("open" if is_open else "closed")
    if rule.caller_known and not _yes_no(rule.caller_known, call.contact is not None):
        return "caller is " + ("a known contact" if call.contact else "unknown")
    if rule.caller_has_owner and not _yes_no(rule.caller_has_owner, bool(call.contact and call.contact.has_owner)):
        return "owner agent: " + ("yes" if call.contact and call.contact.has_owner else "no")
    if rule.label_ids and not (rule.label_ids & call.labels):
        return "caller lacks the labels"
    if rule.regions and not (rule.regions & call.regions):
        return f"caller's region is {', '.join(sorted(call.regions)) or 'unknown'}"
    if rule.pair_match == "caller" and call.pair is None:
        return "no active masked pair for the caller"
    if rule.pair_match == "none" and call.pair is not None:
        return "the caller has an active masked pair"
    if rule.pair_match == "reference" and call.reference_pair is None:
        return f"no active masked pair with reference “{request.last_dtmf}”"
    return ""


def _transfer_to(targets, action: ActionSpec) -> list:
    """One transfer to agents: by agent id when every agent has one, else by their numbers."""
    targets = list(dict.fromkeys(targets))
    agents = [t.value for t in targets if t.kind == "agent"]
    numbers = [t.value for t in targets if t.kind == "number"]
    kind, values = ("agent", agents) if agents and len(agents) == len(targets) else ("number", numbers)
    if not values:
        raise Unresolvable("no agent with a Smartflo id or a phone number")
    extra = {"ring_type": action.ring_type, "moh": action.moh, "skip_active": action.skip_active}
    return answers.single(answers.transfer(kind, values, **extra))


def build_answer(rule: RuleSpec, call: _Call) -> list:
    action = rule.action
    if action.problem:
        raise Unresolvable(action.problem)
    if action.answer is not None:
        return action.answer
    if action.kind == "transfer_owner":
        owner = call.contact.owner_target if call.contact else None
        if owner is None:
            reason = "the caller has no owner agent" if not (call.contact and call.contact.has_owner) else "the owner agent has no line"
            raise Unresolvable(reason)
        return _transfer_to([owner], action)
    if action.kind == "transfer_region":
        targets = [t for region in sorted(call.regions) for t in call.plan.region_targets.get(region, ())]
        if not targets:
            raise Unresolvable(f"no agents for the caller's region ({', '.join(sorted(call.regions)) or 'unknown'})")
        return _transfer_to(targets, action)
    if action.kind == "transfer_pair":
        pair = call.reference_pair if rule.pair_match == "reference" else call.pair or call.reference_pair
        if pair is None:
            raise Unresolvable("no active masked pair")
        other = pair.customer_number if call.request.caller == pair.agent_number else pair.agent_number
        digits = _national_ten_digits(other)
        if not digits:
            raise Unresolvable(f"the other party's number {other} is not a 10-digit Indian number")
        return _transfer_to([Target("number", digits)], action)
    raise Unresolvable(f"unknown action {action.kind}")


def _national_ten_digits(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ""
    national = str(number.national_number)
    return national if len(national) == 10 else ""


def evaluate(plan: PlanSpec, request: CallRequest, facts: Facts, now: datetime.datetime) -> Decision:
    trace: list[str] = []
    call = _Call(plan, request, facts, now)
    if not plan.active:
        return Decision(plan.default_answer, INACTIVE, trace=["dialplan is off: default answer"])
    try:
        for rule in plan.rules:
            reason = failed_condition(rule, call)
            if reason:
                trace.append(f"{rule.name}: {reason}")
                continue
            try:
                answer = build_answer(rule, call)
            except Unresolvable as exc:
                trace.append(f"{rule.name}: matched, but {exc}")
                continue
            trace.append(f"{rule.name}: matched")
            return Decision(answer, MATCHED, rule.id, rule.name, trace)
        trace.append("no rule matched")
        return _failover(plan, call, trace, FAILOVER, "")
    except Exception as exc:  # the caller is on the line: any failure becomes the failover answer
        trace.append(f"error: {exc!r}")
        return _failover(plan, call, trace, ERROR, f"{type(exc).__name__}: {exc}")


def _failover(plan: PlanSpec, call: _Call, trace: list[str], outcome: str, error: str) -> Decision:
    try:
        if plan.failover is not None:
            answer = build_answer(plan.failover, call)
            trace.append(f"{plan.failover.name}: failover answer")
            return Decision(answer, outcome, plan.failover.id, plan.failover.name, trace, error)
        trace.append("no failover rule: default answer")
    except Exception as exc:
        trace.append(f"failover failed ({exc}): default answer")
        error = error or f"failover: {exc}"
        if outcome == FAILOVER and not isinstance(exc, Unresolvable):
            outcome = ERROR
    return Decision(plan.default_answer, outcome, None, "", trace, error)

