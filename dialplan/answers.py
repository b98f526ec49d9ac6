"""Smartflo API Dialplan answers: built and validated exactly in the reference's format.

An answer is a list. One action is `[{"recording": …}]`, `[{"transfer": …}]` or
`[{"api_dialplan": {"data": "<id>"}}]`; a sequence of steps (a recording, then the next dialplan) is a
list of such lists: `[[{"recording": …}], [{"api_dialplan": …}]]`. Smartflo wants it on one line.
Pure: no database, no HTTP. Every builder raises InvalidAnswer with a message an admin can act on.
"""

import json
import re
from dataclasses import dataclass

DTMF_DEFAULTS = {"timeout": 5000, "maxLength": 10, "retry": 0}
MAX_DTMF_RETRY = 5
MAX_NESTED_DIALPLANS = 3

MULTI_VALUE_TRANSFERS = {"number", "agent"}
SINGLE_VALUE_TRANSFERS = {"ivr", "auto_attendant", "department"}
TRANSFER_TYPES = MULTI_VALUE_TRANSFERS | SINGLE_VALUE_TRANSFERS
RING_TYPES = {"order_by"}

_DIGITS = re.compile(r"^\d+$")
_TEN_DIGITS = re.compile(r"^\d{10}$")
_DIALPLAN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class InvalidAnswer(ValueError):
    pass


@dataclass(frozen=True)
class Dtmf:
    timeout: int = DTMF_DEFAULTS["timeout"]
    max_length: int = DTMF_DEFAULTS["maxLength"]
    retry: int = DTMF_DEFAULTS["retry"]


def recording(kind: str, data, dtmf: Dtmf | None = None) -> dict:
    """`kind` "system" (a Smartflo recording id) or "url" (an external audio URL)."""
    if kind == "system":
        text = str(data).strip()
        if not _DIGITS.match(text):
            raise InvalidAnswer(f"A system recording needs its numeric Smartflo id, not “{data}”.")
        value = int(text)
    elif kind == "url":
        value = str(data).strip()
        if not re.match(r"^https?://\S+$", value):
            raise InvalidAnswer(f"A recording URL must start with http:// or https:// (got “{data}”).")
    else:
        raise InvalidAnswer(f"Recording type must be system or url, not “{kind}”.")
    body = {"type": kind, "data": value}
    if dtmf is not None:
        body["dtmf"] = _dtmf(dtmf)
    return {"recording": body}


def _dtmf(dtmf: Dtmf) -> dict:
    for name, value, low in (("timeout", dtmf.timeout, 1), ("maxLength", dtmf.max_length, 1), ("retry", dtmf.retry, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise InvalidAnswer(f"DTMF {name} must be a whole number ≥ {low}.")
    if dtmf.retry > MAX_DTMF_RETRY:
        raise InvalidAnswer(f"Smartflo allows at most {MAX_DTMF_RETRY} DTMF retries.")
    return {"timeout": dtmf.timeout, "maxLength": dtmf.max_length, "retry": dtmf.retry}


def transfer(kind: str, values, *, ring_type: str = "", moh: str = "", skip_active: bool = False) -> dict:
    """Transfer to numbers (10 digits each), agents (ids or extensions), or one IVR, auto attendant or
    department. ring_type, moh and skip_active apply to number and agent transfers."""
    if kind not in TRANSFER_TYPES:
        raise InvalidAnswer(f"Transfer type must be one of {', '.join(sorted(TRANSFER_TYPES))}, not “{kind}”.")
    values = [str(v).strip() for v in ([values] if isinstance(values, str) else values) if str(v).strip()]
    if not values:
        raise InvalidAnswer("A transfer needs a target.")
    if kind in SINGLE_VALUE_TRANSFERS and len(values) > 1:
        raise InvalidAnswer(f"A {kind.replace('_', ' ')} transfer takes one target, not {len(values)}.")
    if len(set(values)) != len(values):
        raise InvalidAnswer("The same target is listed twice.")
    for value in values:
        if kind == "number" and not _TEN_DIGITS.match(value):
            raise InvalidAnswer(f"Agent numbers are 10-digit mobile numbers; “{value}” is not.")
        if kind != "number" and not _DIGITS.match(value):
            raise InvalidAnswer(f"A {kind.replace('_', ' ')} id is digits only; “{value}” is not.")
    body = {"type": kind, "data": values}
    if kind not in MULTI_VALUE_TRANSFERS and (ring_type or moh or skip_active):
        raise InvalidAnswer("Ring type, music on hold and skip-active apply only to number and agent transfers.")
    if ring_type:
        if ring_type not in RING_TYPES:
            raise InvalidAnswer(f"Unknown ring type “{ring_type}”.")
        body["ring_type"] = ring_type
    if skip_active:
        body["skip_active"] = True
    if moh:
        if not _DIGITS.match(str(moh)):
            raise InvalidAnswer("Music on hold must be the id of a system recording marked as MOH.")
        body["moh"] = str(moh)
    return {"transfer": body}


def api_dialplan(smartflo_id: str) -> dict:
    if not _DIALPLAN_ID.match(str(smartflo_id or "")):
        raise InvalidAnswer("The next dialplan has no valid Smartflo id.")
    return {"api_dialplan": {"data": str(smartflo_id)}}


def single(action: dict) -> list:
    return [action]


def steps(*actions: dict) -> list:
    """Several actions in order: `[[a], [b]]`, as in the reference's nested-dialplan steps."""
    if len(actions) == 1:
        return single(actions[0])
    if any("api_dialplan" in action for action in actions[:-1]):
        raise InvalidAnswer("Going to another dialplan must be the last step.")
    return [[action] for action in actions]


def render(answer: list) -> bytes:
    """The single-line body Smartflo expects."""
    return json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()


def next_dialplan_id(answer: list) -> str | None:
    """The Smartflo id of the dialplan an answer sends the call to next, if any."""
    for action in actions_of(answer):
        if "api_dialplan" in action:
            return action["api_dialplan"]["data"]
    return None


def actions_of(answer: list) -> list[dict]:
    flat = []
    for item in answer:
        flat.extend(item if isinstance(item, list) else [item])
    return flat


def validate(answer) -> list:
    """Check an answer from outside the builders (a configured default, a stored log) and return it.

    An empty list is valid: it tells Smartflo we have nothing to say, so the Failover Destination set
    in the Smartflo portal takes the call.
    """
    if not isinstance(answer, list):
        raise InvalidAnswer("An answer is a JSON list.")
    if not answer:
        return answer
    nested = all(isinstance(item, list) for item in answer)
    if not nested and not (len(answer) == 1 and isinstance(answer[0], dict)):
        raise InvalidAnswer("An answer is [action] or [[action], [action], …].")
    rebuilt = []
    for action in actions_of(answer):
        if not isinstance(action, dict) or len(action) != 1:
            raise InvalidAnswer("Each step holds exactly one of recording, transfer or api_dialplan.")
        (name, body), = action.items()
        if not isinstance(body, dict):
            raise InvalidAnswer(f"“{name}” must be an object.")
        if name == "recording":
            dtmf = body.get("dtmf")
            rebuilt.append(
                recording(
                    body.get("type"),
                    body.get("data", ""),
                    Dtmf(
                        timeout=dtmf.get("timeout", DTMF_DEFAULTS["timeout"]),
                        max_length=dtmf.get("maxLength", DTMF_DEFAULTS["maxLength"]),
                        retry=dtmf.get("retry", DTMF_DEFAULTS["retry"]),
                    )
                    if isinstance(dtmf, dict)
                    else None,
                )
            )
        elif name == "transfer":
            rebuilt.append(
                transfer(
                    body.get("type"),
                    body.get("data") or [],
                    ring_type=body.get("ring_type", ""),
                    moh=body.get("moh", ""),
                    skip_active=bool(body.get("skip_active", False)),
                )
            )
        elif name == "api_dialplan":
            rebuilt.append(api_dialplan(body.get("data")))
        else:
            raise InvalidAnswer(f"Unknown action “{name}”.")
    steps(*rebuilt)
    return answer
