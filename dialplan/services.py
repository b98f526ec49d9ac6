"""Everything that changes dialplans or answers a call: validation at save, answering Smartflo,
logging requests, masked pairs, ready-made templates, pruning."""

import dataclasses
import datetime
import hmac
import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core import phones
from core.untrusted import NotJSON, clean_text, loads_json
from dialplan import answers, engine, logwriter, selectors
from dialplan.models import Dialplan, DialplanRequest, MaskedPair, Recording, Region, Rule

logger = logging.getLogger(__name__)

CALL_FIELDS = ("uuid", "call_id", "call_to_number", "caller_id_number", "start_stamp", "last_dtmf", "call_flow")
MAX_LOGGED_PARAMS = 40
MAX_LOGGED_VALUE = 300


# ---------------------------------------------------------------- numbers


def split_numbers(text: str) -> list[str]:
    """Comma-separated numbers as E.164 where they parse (validation already refused the rest)."""
    return [phones.try_e164(n.strip()) or n.strip() for n in (text or "").split(",") if n.strip()]


def normalise_numbers(text: str) -> list[str]:
    numbers, bad = [], []
    for raw in (text or "").split(","):
        raw = raw.strip()
        if not raw:
            continue
        number = phones.try_e164(raw)
        if number is None:
            bad.append(f"“{raw}” is not a valid phone number.")
        elif number not in numbers:
            numbers.append(number)
    if bad:
        raise ValidationError(bad)
    return numbers


# ---------------------------------------------------------------- rules: answers and validation

STAND_IN_RECORDING_ID = "1"
STAND_IN_DIALPLAN_ID = "pending"


def action_answer(rule: Rule, *, stand_in: bool = False) -> tuple[list | None, str]:
    """The fixed answer a rule gives (None for actions resolved per call) and what is missing for it.

    With `stand_in`, ids that only Smartflo can give (recordings, the next dialplan) are replaced by
    stand-ins so the rest of the answer can be checked before they are known.
    Raises answers.InvalidAnswer when the configuration itself is wrong.
    """
    problems = []

    def smartflo_id(value: str, what: str, stand: str) -> str:
        if value:
            return value
        problems.append(f"{what} has no Smartflo id yet.")
        return stand

    kind = rule.action
    if kind == Rule.Action.RECORDING:
        dtmf = answers.Dtmf(rule.dtmf_timeout, rule.dtmf_max_length, rule.dtmf_retry) if rule.collect_dtmf else None
        if rule.recording_id and rule.recording_url:
            raise answers.InvalidAnswer("Pick a system recording or a URL, not both.")
        if rule.recording_id:
            rec = rule.recording
            step = answers.recording("system", smartflo_id(rec.smartflo_id, f"Recording “{rec.name}”", STAND_IN_RECORDING_ID), dtmf)
        elif rule.recording_url:
            step = answers.recording("url", rule.recording_url, dtmf)
        else:
            raise answers.InvalidAnswer("Pick the recording to play (a system recording or a URL).")
        actions = [step]
        if rule.next_dialplan_id:
            target = rule.next_dialplan
            actions.append(answers.api_dialplan(smartflo_id(target.smartflo_id, f"Dialplan “{target.name}”", STAND_IN_DIALPLAN_ID)))
        answer = answers.steps(*actions)
    elif kind == Rule.Action.DIALPLAN:
        if not rule.next_dialplan_id:
            raise answers.InvalidAnswer("Pick the dialplan to go to.")
        target = rule.next_dialplan
        answer = answers.single(answers.api_dialplan(smartflo_id(target.smartflo_id, f"Dialplan “{target.name}”", STAND_IN_DIALPLAN_ID)))
    elif kind == Rule.Action.TRANSFER:
        if not rule.transfer_type:
            raise answers.InvalidAnswer("Pick the transfer type.")
        wire_type = "agent" if rule.transfer_type == Rule.TransferType.EXTENSION else rule.transfer_type
        answer = answers.single(
            answers.transfer(wire_type, rule.transfer_to.split(","), **_transfer_options(rule, smartflo_id))
        )
    else:
        # Resolved per call; check the options now with a stand-in agent.
        answers.transfer("agent", ["1"], **_transfer_options(rule, smartflo_id))
        answer = None
    if problems and not stand_in:
        return None, " ".join(problems)
    return answer, " ".join(problems) if stand_in else ""


def _transfer_options(rule: Rule, smartflo_id) -> dict:
    moh = ""
    if rule.moh_id:
        if not rule.moh.is_moh:
            raise answers.InvalidAnswer(f"“{rule.moh.name}” is not marked as music on hold.")
        moh = smartflo_id(rule.moh.smartflo_id, f"Recording “{rule.moh.name}”", STAND_IN_RECORDING_ID)
    return {"ring_type": rule.ring_type, "moh": moh, "skip_active": rule.skip_active}


def validate_rule(rule: Rule) -> None:
    """Refuse, at save, any rule whose answer Smartflo would not accept."""
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    try:
        rule.called_numbers = ", ".join(normalise_numbers(rule.called_numbers))
    except ValidationError as exc:
        for message in exc.messages:
            add("called_numbers", message)
    for value in (v.strip() for v in rule.dtmf_values.split(",")):
        if value and not all(ch in "0123456789*#" for ch in value):
            add("dtmf_values", f"“{value}” is not DTMF (digits, * and #).")
    rule.caller_regions = ", ".join(r.strip() for r in rule.caller_regions.split(",") if r.strip())
    if bool(rule.schedule_id) != bool(rule.schedule_state):
        add("schedule_state" if rule.schedule_id else "schedule", "Pick both a schedule and when it applies.")

    kind = rule.action
    if kind != Rule.Action.TRANSFER and (rule.transfer_type or rule.transfer_to):
        add("transfer_to", "A fixed transfer target only goes with “Transfer to a fixed target”.")
    if kind != Rule.Action.RECORDING and (rule.recording_id or rule.recording_url or rule.collect_dtmf):
        add("recording", "A recording only goes with “Play a recording”.")
    if kind not in (Rule.Action.RECORDING, Rule.Action.DIALPLAN) and rule.next_dialplan_id:
        add("next_dialplan", "A transfer ends the dialplan; there is no next dialplan after it.")
    if kind in (Rule.Action.RECORDING, Rule.Action.DIALPLAN) and (rule.ring_type or rule.moh_id or rule.skip_active):
        add("ring_type", "Ring type, music on hold and skip-active belong to transfers.")
    if kind == Rule.Action.TRANSFER_PAIR and rule.pair_match == Rule.PairMatch.NONE:
        add("pair_match", "“No active masked pair” leaves no pair to connect.")
    if rule.dialplan_id and rule.next_dialplan_id:
        message = nesting_problem(rule.dialplan_id, rule.next_dialplan_id, ignore_rule=rule.pk)
        if message:
            add("next_dialplan", message)

    if kind and not errors:
        try:
            answer, missing = action_answer(rule, stand_in=True)
        except answers.InvalidAnswer as exc:
            field = {
                Rule.Action.TRANSFER: "transfer_to",
                Rule.Action.RECORDING: "recording",
                Rule.Action.DIALPLAN: "next_dialplan",
            }.get(kind, "ring_type")
            add(field, str(exc))
        else:
            if missing and rule.enabled and rule.dialplan_id and _dialplan_is_on(rule.dialplan_id):
                add("__all__", f"{missing} Fill it in first, or switch the dialplan off while you set it up.")
            if answer is not None:
                answers.validate(answer)
    if errors:
        raise ValidationError(errors)


def _dialplan_is_on(dialplan_id: int) -> bool:
    return Dialplan.objects.filter(pk=dialplan_id, is_active=True).exists()


def nesting_problem(source_id: int, target_id: int, *, ignore_rule: int | None = None) -> str:
    """Smartflo nests at most 3 API dialplans; refuse an edge that makes a longer chain or a loop."""
    edges: dict[int, set[int]] = {}
    rows = Rule.objects.filter(next_dialplan__isnull=False, enabled=True)
    if ignore_rule:
        rows = rows.exclude(pk=ignore_rule)
    for source, target in rows.values_list("dialplan_id", "next_dialplan_id"):
        edges.setdefault(source, set()).add(target)
    edges.setdefault(source_id, set()).add(target_id)
    parents: dict[int, set[int]] = {}
    for source, targets in edges.items():
        for target in targets:
            parents.setdefault(target, set()).add(source)

    def longest(node, graph, seen) -> int:
        if node in seen:
            raise _Loop
        return 1 + max((longest(n, graph, seen | {node}) for n in graph.get(node, ())), default=0)

    try:
        chain = longest(source_id, parents, frozenset()) + longest(target_id, edges, frozenset())
    except _Loop:
        return "This would send callers round in a loop of dialplans."
    if chain > answers.MAX_NESTED_DIALPLANS:
        return (
            f"Smartflo nests at most {answers.MAX_NESTED_DIALPLANS} API dialplans; "
            f"this would make a chain of {chain}."
        )
    return ""


class _Loop(Exception):
    pass


def setup_problems(dialplan: Dialplan) -> list[str]:
    """What is missing before this dialplan's answers are complete (ids only Smartflo can give)."""
    problems = []
    rules = dialplan.rules.filter(enabled=True).select_related("recording", "moh", "next_dialplan")
    for rule in rules:
        try:
            _, missing = action_answer(rule, stand_in=True)
        except answers.InvalidAnswer as exc:
            missing = str(exc)
        if missing:
            problems.append(f"{rule.name}: {missing}")
    return problems


def dialplans_pointing_at(dialplan: Dialplan):
    return Dialplan.objects.filter(rules__next_dialplan=dialplan, rules__enabled=True).exclude(pk=dialplan.pk).distinct()


def clean_recording(recording: Recording) -> None:
    """A recording that switched-on dialplans play must keep its Smartflo id."""
    if recording.pk and not recording.smartflo_id:
        users = Dialplan.objects.filter(is_active=True, rules__enabled=True).filter(
            Q(rules__recording=recording) | Q(rules__moh=recording)
        )
        names = ", ".join(sorted({d.name for d in users}))
        if names:
            raise ValidationError({"smartflo_id": f"Switched-on dialplans play it ({names}); it needs its id."})


def bump_revisions() -> None:
    """Any change to rules, schedules, regions or agents: every cached rule set is recompiled."""
    Dialplan.objects.update(revision=F("revision") + 1)
    selectors.forget_cached_plans()
    transaction.on_commit(selectors.forget_cached_plans)  # a request in between may have cached the old rules


def default_answer() -> list:
    return answers.validate(settings.DIALPLAN_DEFAULT_ANSWER)


# ---------------------------------------------------------------- answering Smartflo


@dataclass
class Reply:
    status: int
    body: bytes


def _clean_key(key) -> str:
    return clean_text(str(key)).strip().lstrip("$").lower()


def _clean_value(value) -> str:
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    text = "" if value is None else clean_text(str(value)).strip()  # NUL and lone surrogates: the log must store it
    # Smartflo leaves a variable it could not fill as its own name ("$last_dtmf").
    return "" if text.startswith("$") and text[1:].replace("_", "").isalnum() else text


def parse_params(query: dict, body: bytes, content_type: str) -> tuple[dict, str]:
    """Smartflo's variables from the query string and a JSON or form body; the problem, if any."""
    params = {_clean_key(k): _clean_value(v) for k, v in query.items()}
    problem = ""
    if body and body.strip():
        data = None
        try:
            data = loads_json(body)
        except (NotJSON, UnicodeDecodeError):
            if "json" in content_type:
                problem = "body is not valid JSON"
            else:
                try:
                    data = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
                except (ValueError, UnicodeDecodeError):
                    problem = "body is neither JSON nor a form"
        if data is not None and not isinstance(data, dict):
            problem, data = "body is not a JSON object", None
        if data:
            for key, value in data.items():
                params[_clean_key(key)] = _clean_value(value)
    params = {k[:60]: v[:MAX_LOGGED_VALUE] for k, v in list(params.items())[:MAX_LOGGED_PARAMS]}
    missing = [name for name in ("uuid", "caller_id_number", "call_to_number") if not params.get(name)]
    if missing and not problem:
        problem = "missing " + ", ".join(missing)
    return params, problem


def call_request(params: dict) -> engine.CallRequest:
    def number(raw):
        return phones.try_e164(raw) or raw

    return engine.CallRequest(
        uuid=params.get("uuid", ""),
        call_id=params.get("call_id", ""),
        caller=number(params.get("caller_id_number", "")),
        called=number(params.get("call_to_number", "")),
        start_stamp=params.get("start_stamp", ""),
        last_dtmf=params.get("last_dtmf", ""),
        call_flow=params.get("call_flow", ""),
    )


def answer_request(token: str, *, method: str, query: dict, body: bytes, content_type: str, headers) -> Reply:
    """Answer one Smartflo request. Never raises: any failure answers the failover or the default."""
    started = time.perf_counter()
    now = timezone.now()
    log = DialplanRequest(method=method[:8], received_at=now)
    try:
        loaded = selectors.plan_for_token(token)
    except Exception as exc:  # the database is down: the caller still gets Smartflo's failover
        logger.exception("dialplan %s: could not load rules", token[:6])
        return _reply(log, started, 200, default_answer_safe(), engine.ERROR, error=f"rules unavailable: {exc!r}")
    if loaded is None:
        log.params = {"token": clean_text(token[:8]) + "…"}
        return _reply(log, started, 404, None, "rejected", error="unknown dialplan token")
    log.dialplan_id = loaded.dialplan_id
    if loaded.header_key:
        sent = headers.get(loaded.header_key, "")
        if not hmac.compare_digest(sent.encode(), loaded.header_value.encode()):
            return _reply(log, started, 403, None, "rejected", error=f"header {loaded.header_key} missing or wrong")
    params, problem = parse_params(query, body, content_type)
    log.params = params
    request = call_request(params)
    log.call_uuid, log.call_id = request.uuid[:100], request.call_id[:100]
    log.caller, log.called, log.last_dtmf = request.caller[:40], request.called[:40], request.last_dtmf[:40]
    outcome = engine.evaluate(loaded.spec, request, selectors.DatabaseFacts(), now)
    log.rule_pk, log.rule_name, log.trace = outcome.rule_id, outcome.rule_name[:100], outcome.trace
    error = "; ".join(filter(None, [problem, outcome.error]))
    return _reply(log, started, 200, outcome.answer, outcome.outcome, error=error)


def default_answer_safe() -> list:
    try:
        return default_answer()
    except Exception:
        return []


def _reply(log: DialplanRequest, started: float, status: int, answer, outcome: str, *, error: str = "") -> Reply:
    if status == 200:
        body = answers.render(answer)
    else:
        body = json.dumps({"detail": error}).encode()
    log.status_code, log.answer, log.outcome, log.error = status, answer, outcome, error
    log.latency_ms = round((time.perf_counter() - started) * 1000, 2)
    logwriter.record(log)
    return Reply(status, body)


def reject(token: str, *, method: str, status: int, error: str) -> Reply:
    """A request refused before its body was read (too large, wrong method): logged all the same."""
    started = time.perf_counter()
    log = DialplanRequest(method=method[:8], received_at=timezone.now(), params={"token": clean_text(token[:8]) + "…"})
    try:
        log.dialplan_id = Dialplan.objects.filter(token=token).values_list("pk", flat=True).first()
    except Exception:
        log.dialplan_id = None
    return _reply(log, started, status, None, "rejected", error=error)


# ---------------------------------------------------------------- simulator


@dataclass
class SimulatedStep:
    dialplan: Dialplan
    request: engine.CallRequest
    outcome: engine.Outcome
    description: list[str]
    next_dialplan: Dialplan | None
    collects_dtmf: bool
    body: str


def simulate(dialplan: Dialplan, *, caller: str, called: str, last_dtmf: str = "", uuid: str = "") -> SimulatedStep:
    """What Smartflo would get from this dialplan for this call: the same compiled rules and engine as
    the public view, without writing a log row."""
    # A draft is simulated as if switched on: seeing what its rules would do is the point.
    spec = dataclasses.replace(selectors.load_plan(dialplan).spec, active=True)
    request = call_request(
        {"uuid": uuid, "caller_id_number": caller, "call_to_number": called, "last_dtmf": last_dtmf.strip()}
    )
    outcome = engine.evaluate(spec, request, selectors.DatabaseFacts(), timezone.now())
    next_id = answers.next_dialplan_id(outcome.answer)
    recordings = [a["recording"] for a in answers.actions_of(outcome.answer) if "recording" in a]
    return SimulatedStep(
        dialplan=dialplan,
        request=request,
        outcome=outcome,
        description=selectors.describe_answer(outcome.answer),
        next_dialplan=selectors.dialplan_by_smartflo_id(next_id) if next_id else None,
        collects_dtmf=any("dtmf" in r for r in recordings),
        body=answers.render(outcome.answer).decode(),
    )


# ---------------------------------------------------------------- masked pairs


def clean_masked_pair(pair: MaskedPair) -> None:
    errors = {}
    for field in ("customer_number", "agent_number", "did"):
        value = getattr(pair, field)
        if value:
            number = phones.try_e164(value)
            if number is None:
                errors[field] = f"“{value}” is not a valid phone number."
            else:
                setattr(pair, field, number)
    if not errors and pair.customer_number == pair.agent_number:
        errors["agent_number"] = "The two parties must have different numbers."
    if errors:
        raise ValidationError(errors)


def create_masked_pair(
    *, customer_number: str, agent_number: str, expires_at: datetime.datetime, reference: str = "", did: str = ""
) -> MaskedPair:
    pair = MaskedPair(
        customer_number=customer_number, agent_number=agent_number, expires_at=expires_at, reference=reference, did=did
    )
    pair.full_clean()
    pair.save()
    return pair


# ---------------------------------------------------------------- templates


TEMPLATES = {
    "masking": "Number masking",
    "registered": "Registered callers to their agent",
    "regional": "Regional routing",
    "delivery": "Delivery-agent connect",
}


def _unique_name(name: str) -> str:
    candidate, n = name, 2
    while Dialplan.objects.filter(name=candidate).exists():
        candidate, n = f"{name} ({n})", n + 1
    return candidate


def _recording(name: str) -> Recording:
    return Recording.objects.get_or_create(name=name)[0]


def _dialplan(name: str, description: str) -> Dialplan:
    return Dialplan.objects.create(name=_unique_name(name), description=description, is_active=False)


def _rule(dialplan: Dialplan, position: int, name: str, **fields) -> Rule:
    rule = Rule(dialplan=dialplan, position=position, name=name, **fields)
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def create_from_template(kind: str) -> Dialplan:
    """One of the reference's four solutions, switched off until its Smartflo ids are filled in.
    Returns the dialplan to point the DID at."""
    if kind == "masking":
        plan = _dialplan(
            TEMPLATES[kind],
            "Customer and delivery agent reach each other through this DID; neither sees the other's number.",
        )
        _rule(plan, 10, "Connect the other party", pair_match=Rule.PairMatch.CALLER, action=Rule.Action.TRANSFER_PAIR)
        _rule(plan, 0, "No active pair", is_failover=True, action=Rule.Action.RECORDING, recording=_recording("Masking: no active order"))
        return plan
    if kind == "registered":
        plan = _dialplan(
            TEMPLATES[kind],
            "Known callers with an owner go straight to their agent; everyone else gets Smartflo's failover "
            "destination (set it to your IVR).",
        )
        _rule(plan, 10, "Owner agent", caller_has_owner="yes", action=Rule.Action.TRANSFER_OWNER, ring_type="order_by")
        return plan
    if kind == "regional":
        agents = _dialplan(TEMPLATES[kind] + ": agents", "Second step: the agents of the caller's region.")
        _rule(agents, 10, "Agents of the caller's region", action=Rule.Action.TRANSFER_REGION, ring_type="order_by")
        plan = _dialplan(TEMPLATES[kind], "A welcome in the caller's language, then the agents of their region.")
        regions = list(Region.objects.all()[:10]) or [
            Region.objects.get_or_create(name=name)[0] for name in ("Maharashtra", "Karnataka", "Tamil Nadu")
        ]
        for position, region in enumerate(regions, start=1):
            _rule(
                plan,
                position * 10,
                f"{region.name} callers",
                caller_regions=region.name,
                action=Rule.Action.RECORDING,
                recording=_recording(f"Welcome: {region.name}"),
                next_dialplan=agents,
            )
        _rule(plan, 0, "Everyone else", is_failover=True, action=Rule.Action.RECORDING, recording=_recording("Welcome"), next_dialplan=agents)
        return plan
    if kind == "delivery":
        connect = _dialplan(TEMPLATES[kind] + ": by order number", "Second step: the order number typed by the caller.")
        _rule(connect, 10, "Order found", pair_match=Rule.PairMatch.REFERENCE, action=Rule.Action.TRANSFER_PAIR)
        _rule(connect, 0, "Order not found", is_failover=True, action=Rule.Action.RECORDING, recording=_recording("Delivery: order not found"))
        plan = _dialplan(TEMPLATES[kind], "Callers with an active delivery connect at once; others type their order number.")
        _rule(plan, 10, "Caller has an active delivery", pair_match=Rule.PairMatch.CALLER, action=Rule.Action.TRANSFER_PAIR)
        _rule(
            plan,
            0,
            "Ask for the order number",
            is_failover=True,
            action=Rule.Action.RECORDING,
            recording=_recording("Delivery: enter your order number"),
            collect_dtmf=True,
            dtmf_timeout=6000,
            dtmf_max_length=10,
            dtmf_retry=2,
            next_dialplan=connect,
        )
        return plan
    raise ValidationError(f"Unknown template “{kind}”.")


# ---------------------------------------------------------------- housekeeping


def prune_requests(*, older_than_days: int | None = None, batch: int = 5000) -> int:
    """Delete request logs older than the retention period, in batches. Returns how many."""
    days = settings.DIALPLAN_LOG_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - datetime.timedelta(days=days)
    deleted = 0
    while True:
        ids = list(DialplanRequest.objects.filter(received_at__lt=cutoff).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += DialplanRequest.objects.filter(pk__in=ids).delete()[0]
