"""What a dialplan's rows must satisfy before they are saved, and the answer each rule gives.

The models call these from `clean()` and the services and selectors use them too, so this module
never imports `dialplan.models` at run time: rows are queried through `apps.get_model` (a models
module that imported its own validators back would close an import circle).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q

from core import phones
from dialplan import answers

if TYPE_CHECKING:
    from dialplan.models import Dialplan, MaskedPair, Recording, Rule


def _model(name: str):
    return apps.get_model("dialplan", name)


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


# ---------------------------------------------------------------- rules

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
    if kind == rule.Action.RECORDING:
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
    elif kind == rule.Action.DIALPLAN:
        if not rule.next_dialplan_id:
            raise answers.InvalidAnswer("Pick the dialplan to go to.")
        target = rule.next_dialplan
        answer = answers.single(answers.api_dialplan(smartflo_id(target.smartflo_id, f"Dialplan “{target.name}”", STAND_IN_DIALPLAN_ID)))
    elif kind == rule.Action.TRANSFER:
        if not rule.transfer_type:
            raise answers.InvalidAnswer("Pick the transfer type.")
        wire_type = "agent" if rule.transfer_type == rule.TransferType.EXTENSION else rule.transfer_type
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


def clean_rule(rule: Rule) -> None:
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
    if kind != rule.Action.TRANSFER and (rule.transfer_type or rule.transfer_to):
        add("transfer_to", "A fixed transfer target only goes with “Transfer to a fixed target”.")
    if kind != rule.Action.RECORDING and (rule.recording_id or rule.recording_url or rule.collect_dtmf):
        add("recording", "A recording only goes with “Play a recording”.")
    if kind not in (rule.Action.RECORDING, rule.Action.DIALPLAN) and rule.next_dialplan_id:
        add("next_dialplan", "A transfer ends the dialplan; there is no next dialplan after it.")
    if kind in (rule.Action.RECORDING, rule.Action.DIALPLAN) and (rule.ring_type or rule.moh_id or rule.skip_active):
        add("ring_type", "Ring type, music on hold and skip-active belong to transfers.")
    if kind == rule.Action.TRANSFER_PAIR and rule.pair_match == rule.PairMatch.NONE:
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
                rule.Action.TRANSFER: "transfer_to",
                rule.Action.RECORDING: "recording",
                rule.Action.DIALPLAN: "next_dialplan",
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
    return _model("Dialplan").objects.filter(pk=dialplan_id, is_active=True).exists()


def nesting_problem(source_id: int, target_id: int, *, ignore_rule: int | None = None) -> str:
    """Smartflo nests at most 3 API dialplans; refuse an edge that makes a longer chain or a loop."""
    edges: dict[int, set[int]] = {}
    rows = _model("Rule").objects.filter(next_dialplan__isnull=False, enabled=True)
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


def clean_dialplan(dialplan: Dialplan) -> None:
    if dialplan.header_key and not dialplan.header_value:
        raise ValidationError({"header_value": "Give the header's value too."})
    if len(dialplan.header_value or "") > 1024:
        raise ValidationError({"header_value": "Smartflo allows at most 1024 characters."})
    if dialplan.numbers:
        try:
            dialplan.numbers = ", ".join(normalise_numbers(dialplan.numbers))
        except ValidationError as exc:
            raise ValidationError({"numbers": exc.messages}) from exc
    if dialplan.pk:
        if dialplan.is_active:
            problems = setup_problems(dialplan)
            if problems:
                raise ValidationError({"is_active": ["Finish the setup before switching it on:", *problems]})
        if not dialplan.smartflo_id:
            callers = dialplans_pointing_at(dialplan).filter(is_active=True)
            if callers:
                names = ", ".join(d.name for d in callers)
                raise ValidationError({"smartflo_id": f"Active dialplans send callers here ({names}); it needs its id."})


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
    return _model("Dialplan").objects.filter(rules__next_dialplan=dialplan, rules__enabled=True).exclude(pk=dialplan.pk).distinct()


def clean_recording(recording: Recording) -> None:
    """A recording that switched-on dialplans play must keep its Smartflo id."""
    if recording.pk and not recording.smartflo_id:
        users = _model("Dialplan").objects.filter(is_active=True, rules__enabled=True).filter(
            Q(rules__recording=recording) | Q(rules__moh=recording)
        )
        names = ", ".join(sorted({d.name for d in users}))
        if names:
            raise ValidationError({"smartflo_id": f"Switched-on dialplans play it ({names}); it needs its id."})


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


def default_answer() -> list:
    """The answer for a dialplan that is off or has no rule to give (settings.DIALPLAN_DEFAULT_ANSWER)."""
    return answers.validate(settings.DIALPLAN_DEFAULT_ANSWER)
