"""Everything that changes dialplans or answers a call: answering Smartflo, logging requests, masked
pairs, ready-made templates, pruning. What a row must satisfy at save is in `dialplan/validation.py`."""

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
from django.db.models import F
from django.http.request import HttpHeaders
from django.utils import timezone

from core import phones
from core.untrusted import NotJSON, clean_text, loads_json
from dialplan import answers, engine, logwriter, selectors, validation
from dialplan.models import Dialplan, DialplanRequest, MaskedPair, Recording, Region, Rule

logger = logging.getLogger(__name__)

CALL_FIELDS = ("uuid", "call_id", "call_to_number", "caller_id_number", "start_stamp", "last_dtmf", "call_flow")
MAX_LOGGED_PARAMS = 40
MAX_LOGGED_VALUE = 300


def bump_revisions() -> None:
    """Any change to rules, schedules, regions or agents: every cached rule set is recompiled."""
    Dialplan.objects.update(revision=F("revision") + 1)
    selectors.forget_cached_plans()
    transaction.on_commit(selectors.forget_cached_plans)  # a request in between may have cached the old rules


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


def answer_request(token: str, *, method: str, query: dict, body: bytes, content_type: str, meta: dict) -> Reply:
    """Answer one Smartflo request (`meta`: the WSGI environ's variables, where the custom header is).
    Never raises: any failure answers the failover or the default."""
    started = time.perf_counter()
    now = timezone.now()
    log = logwriter.new_row(method=method[:8], received_at=now)
    try:
        loaded = selectors.plan_for_token(token)
    except Exception as exc:  # the database is down: the caller still gets Smartflo's failover
        logger.exception("dialplan %s: could not load rules", token[:6])
        return _reply(log, started, 200, default_answer_safe(), engine.ERROR, error=f"rules unavailable: {exc!r}")
    if loaded is None:
        log["params"] = {"token": clean_text(token[:8]) + "…"}
        return _reply(log, started, 404, None, "rejected", error="unknown dialplan token")
    log["dialplan_id"] = loaded.dialplan_id
    if loaded.header_key:
        sent = meta.get(HttpHeaders.to_wsgi_name(loaded.header_key), "")
        if not hmac.compare_digest(sent.encode(), loaded.header_value.encode()):
            return _reply(log, started, 403, None, "rejected", error=f"header {loaded.header_key} missing or wrong")
    params, problem = parse_params(query, body, content_type)
    request = call_request(params)
    log.update(
        params=params, call_uuid=request.uuid[:100], call_id=request.call_id[:100], caller=request.caller[:40],
        called=request.called[:40], last_dtmf=request.last_dtmf[:40],
    )
    decision = engine.evaluate(loaded.spec, request, selectors.DatabaseFacts(), now)
    log.update(rule_pk=decision.rule_id, rule_name=decision.rule_name[:100], trace=decision.trace)
    error = "; ".join(filter(None, [problem, decision.error]))
    return _reply(log, started, 200, decision.answer, decision.outcome, error=error)


def default_answer_safe() -> list:
    try:
        return validation.default_answer()
    except Exception:
        return []


def _reply(log: dict, started: float, status: int, answer, outcome: str, *, error: str = "") -> Reply:
    if status == 200:
        body = answers.render(answer)
    else:
        body = json.dumps({"detail": error}).encode()
    log.update(status_code=status, answer=answer, outcome=outcome, error=error)
    log["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    logwriter.record(log)
    return Reply(status, body)


def reject(token: str, *, method: str, status: int, error: str) -> Reply:
    """A request refused before its body was read (too large, wrong method): logged all the same."""
    started = time.perf_counter()
    log = logwriter.new_row(method=method[:8], received_at=timezone.now(), params={"token": clean_text(token[:8]) + "…"})
    try:
        log["dialplan_id"] = Dialplan.objects.filter(token=token).values_list("pk", flat=True).first()
    except Exception:
        log["dialplan_id"] = None
    return _reply(log, started, status, None, "rejected", error=error)


# ---------------------------------------------------------------- simulator


@dataclass
class SimulatedStep:
    dialplan: Dialplan
    request: engine.CallRequest
    decision: engine.Decision
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
    decision = engine.evaluate(spec, request, selectors.DatabaseFacts(), timezone.now())
    next_id = answers.next_dialplan_id(decision.answer)
    recordings = [a["recording"] for a in answers.actions_of(decision.answer) if "recording" in a]
    return SimulatedStep(
        dialplan=dialplan,
        request=request,
        decision=decision,
        description=selectors.describe_answer(decision.answer),
        next_dialplan=selectors.dialplan_by_smartflo_id(next_id) if next_id else None,
        collects_dtmf=any("dtmf" in r for r in recordings),
        body=answers.render(decision.answer).decode(),
    )


# ---------------------------------------------------------------- masked pairs


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
