"""Reads for the dialplan: compiled rule sets (cached per process, keyed by revision), the caller's
facts for the engine, and request logs."""

import datetime
import re
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from contacts.models import Contact, ContactPhone
from core import phones
from core.prepared import Prepared
from dialplan import answers, engine, validation
from dialplan.models import Dialplan, DialplanRequest, MaskedPair, Region, RegionPrefix, Rule


@dataclass(frozen=True)
class LoadedPlan:
    dialplan_id: int
    revision: int
    header_key: str
    header_value: str
    spec: engine.PlanSpec


# What dialplan.models.new_token makes (secrets.token_urlsafe) fits the column.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")

_cache: dict[str, tuple[float, LoadedPlan]] = {}  # token → (when its revision was last checked, plan)
_cache_lock = threading.Lock()


def plan_for_token(token: str) -> LoadedPlan | None:
    """The compiled dialplan behind a URL token.

    Served from this process's memory; its revision is re-read (one indexed query) at most every
    DIALPLAN_RULES_RECHECK_SECONDS. Changes saved in this process clear the cache at once (signals),
    so only other processes may answer from the old rules, for at most that long.
    """
    if not TOKEN_SHAPE.fullmatch(token):
        return None  # never a query for what no token looks like (a NUL made PostgreSQL raise: a 200, not a 404)
    now = time.monotonic()
    entry = _cache.get(token)
    if entry is not None and now - entry[0] < settings.DIALPLAN_RULES_RECHECK_SECONDS:
        return entry[1]
    row = Dialplan.objects.filter(token=token).values_list("pk", "revision").first()
    if row is None:
        _cache.pop(token, None)
        return None
    if entry is not None and entry[1].dialplan_id == row[0] and entry[1].revision == row[1]:
        loaded = entry[1]
    else:
        loaded = load_plan(Dialplan.objects.get(pk=row[0]))
    with _cache_lock:
        _cache[token] = (now, loaded)
    return loaded


def forget_cached_plans() -> None:
    with _cache_lock:
        _cache.clear()


def load_plan(dialplan: Dialplan) -> LoadedPlan:
    return LoadedPlan(dialplan.pk, dialplan.revision, dialplan.header_key, dialplan.header_value or "", compile_plan(dialplan))


def compile_plan(dialplan: Dialplan) -> engine.PlanSpec:
    rules = (
        dialplan.rules.filter(enabled=True)
        .select_related("recording", "moh", "next_dialplan", "schedule")
        .prefetch_related("caller_labels", "schedule__windows", "schedule__holidays")
    )
    specs, failover, schedules = [], None, {}
    for rule in rules:
        spec = _rule_spec(rule, schedules)
        if rule.is_failover:
            failover = spec
        else:
            specs.append(spec)
    prefixes = tuple(
        sorted(RegionPrefix.objects.values_list("prefix", "region__name"), key=lambda row: len(row[0]), reverse=True)
    )
    return engine.PlanSpec(
        id=dialplan.pk,
        name=dialplan.name,
        active=dialplan.is_active,
        rules=tuple(specs),
        failover=failover,
        default_answer=validation.default_answer(),
        region_prefixes=prefixes,
        region_targets=region_targets(),
    )


def _rule_spec(rule: Rule, schedules: dict) -> engine.RuleSpec:
    """`schedules`: the ScheduleSpecs made so far for this plan, so that rules sharing a schedule share
    one object (the engine works out whether it is open once per call)."""
    answer, problem = validation.action_answer(rule)
    schedule = None
    if rule.schedule_id:
        schedule = schedules.get(rule.schedule_id)
        if schedule is None:
            schedule = schedules[rule.schedule_id] = engine.ScheduleSpec(
                time_zone=rule.schedule.time_zone,
                windows=tuple((w.weekday, w.opens, w.closes) for w in rule.schedule.windows.all()),
                holidays=frozenset(h.date for h in rule.schedule.holidays.all()),
            )
    moh = rule.moh.smartflo_id if rule.moh_id else ""
    return engine.RuleSpec(
        id=rule.pk,
        name=rule.name,
        action=engine.ActionSpec(
            kind=rule.action,
            answer=answer,
            ring_type=rule.ring_type,
            moh=moh,
            skip_active=rule.skip_active,
            problem=problem,
        ),
        caller_known=rule.caller_known,
        label_ids=frozenset(label.pk for label in rule.caller_labels.all()),
        caller_has_owner=rule.caller_has_owner,
        regions=frozenset(r.strip().lower() for r in rule.caller_regions.split(",") if r.strip()),
        called_numbers=frozenset(validation.split_numbers(rule.called_numbers)),
        schedule=schedule,
        schedule_state=rule.schedule_state,
        dtmf_values=frozenset(v.strip() for v in rule.dtmf_values.split(",") if v.strip()),
        pair_match=rule.pair_match,
    )


def agent_target(agent_id: str, extension: str, phone: str) -> engine.Target | None:
    """Smartflo agent id first, then the extension (both are 'agent' transfers), then the phone."""
    if agent_id:
        return engine.Target("agent", agent_id)
    if extension:
        return engine.Target("agent", extension)
    e164 = phones.try_e164(phone or "")
    if e164 and e164.startswith("+91"):
        return engine.Target("number", phones.national_digits(e164))
    return None


def region_targets() -> dict[str, tuple[engine.Target, ...]]:
    targets: dict[str, list] = {}
    rows = Region.objects.filter(agents__is_active=True).values_list(
        "name", "agents__agent_line__agent_id", "agents__agent_line__extension", "agents__phone"
    ).order_by("name", "agents__pk")
    for name, agent_id, extension, phone in rows:
        target = agent_target(agent_id or "", extension or "", phone or "")
        if target:
            targets.setdefault(name.lower(), []).append(target)
    return {name: tuple(values) for name, values in targets.items()}


_contact_row = Prepared(
    lambda number: ContactPhone.objects.filter(number=number).values_list(
        "contact_id",
        "contact__owner_id",
        "contact__owner__is_active",
        "contact__owner__agent_line__agent_id",
        "contact__owner__agent_line__extension",
        "contact__owner__phone",
    )[:1]
)
_label_rows = Prepared(
    lambda contact_id: Contact.labels.through.objects.filter(contact_id=contact_id).values_list("label_id")
)


def _active_pair(where: Q, now: datetime.datetime, did: str, any_did: str):
    """The newest unexpired pair matching `where`, on this DID or on every DID (any_did is "")."""
    return (
        MaskedPair.objects.filter(where)
        .filter(expires_at__gt=now)
        .filter(did__in=[did, any_did])
        .order_by("-created_at", "-pk")
        .values_list("pk", "customer_number", "agent_number")[:1]
    )


_pair_for_caller = Prepared(
    lambda number, number_again, *rest: _active_pair(Q(customer_number=number) | Q(agent_number=number_again), *rest)
)
_pair_for_reference = Prepared(lambda reference, *rest: _active_pair(Q(reference=reference), *rest))


class DatabaseFacts:
    """The engine's view of contacts and masked pairs: one indexed query per fact, asked lazily."""

    def contact(self, number: str) -> engine.ContactFacts | None:
        row = _contact_row.first(number)
        if row is None:
            return None
        contact_id, owner_id, owner_active, agent_id, extension, phone = row
        target = agent_target(agent_id or "", extension or "", phone or "") if owner_id and owner_active else None
        return engine.ContactFacts(id=contact_id, has_owner=owner_id is not None, owner_target=target)

    def label_ids(self, contact_id: int) -> frozenset[int]:
        return frozenset(row[0] for row in _label_rows.all(contact_id))

    def pair_for_caller(self, number, did, now) -> engine.PairFacts | None:
        row = _pair_for_caller.first(number, number, now, did, "")
        return engine.PairFacts(*row) if row else None

    def pair_for_reference(self, reference, did, now) -> engine.PairFacts | None:
        row = _pair_for_reference.first(reference, now, did, "")
        return engine.PairFacts(*row) if row else None


def dialplan_by_smartflo_id(smartflo_id: str) -> Dialplan | None:
    if not smartflo_id:
        return None
    return Dialplan.objects.filter(smartflo_id=smartflo_id).first()


def recent_requests(dialplan: Dialplan, limit: int = 50):
    return dialplan.requests.all()[:limit]


def requests_for_contact(contact: Contact, limit: int):
    numbers = [p.number for p in contact.phones.all()]
    if not numbers:
        return DialplanRequest.objects.none()
    return DialplanRequest.objects.filter(caller__in=numbers).select_related("dialplan")[:limit]


def timeline_source(contact: Contact, viewer, limit: int):
    """Dialplan requests carry no team: whoever may see the contact sees its callers' requests."""
    from contacts.timeline import Entry

    entries = []
    for request in requests_for_contact(contact, limit):
        request.answer_in_words = describe_answer(request.answer) if request.answer is not None else []  # as the simulator says it
        entries.append(Entry(request.received_at, "dialplan_request", request))
    return entries


def describe_answer(answer: list) -> list[str]:
    """The answer as sentences a person reads in the simulator and the logs."""
    lines = []
    for action in answers.actions_of(answer or []):
        if "recording" in action:
            body = action["recording"]
            text = f"Play {'system recording' if body['type'] == 'system' else 'recording from'} {body['data']}"
            if "dtmf" in body:
                d = body["dtmf"]
                text += f", collect up to {d['maxLength']} digits (timeout {d['timeout']} ms, {d['retry']} retries)"
            lines.append(text)
        elif "transfer" in action:
            body = action["transfer"]
            text = f"Transfer to {body['type'].replace('_', ' ')} {', '.join(body['data'])}"
            if body.get("ring_type"):
                text += f", ring {body['ring_type']}"
            if body.get("moh"):
                text += f", hold music {body['moh']}"
            if body.get("skip_active"):
                text += ", skipping busy agents"
            lines.append(text)
        elif "api_dialplan" in action:
            target = dialplan_by_smartflo_id(action["api_dialplan"]["data"])
            lines.append(f"Go to dialplan {target.name if target else action['api_dialplan']['data']}")
    return lines or ["Nothing: Smartflo's failover destination takes the call"]

