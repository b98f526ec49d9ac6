"""Fuzzing the webhook and ingest with mutated, signed provider payloads (issue #11, "done when").

A seeded generator (reproducible: the seed is in the failure message) mutates every WhatsApp and RCS
fixture: type swaps, deletions, deep nesting, NUL and lone surrogates in strings and keys, huge
numbers, odd unicode, wrappers (a list where a string is expected, a string where a dict is), key and
item reordering, and duplicate deliveries. Every post must be answered without a 5xx and stored; every
event must end processed, ignored or unprocessable with a reason of ours (never a Python exception
tripped over a wrong type); and a canary message posted after them all must be applied.
"""

import copy
import json
import os
import random
import re

import pytest
from django.db.models import Count

from inbox.ingest import drain as ingest
from inbox.models import Channel, Message, WebhookEvent
from tests.inbox.tata_payloads import fixture_json, fixture_names, make_channel, post_raw

pytestmark = pytest.mark.django_db

SEED = int(os.environ.get("FUZZ_SEED", "20261202"))
PAYLOADS = int(os.environ.get("FUZZ_PAYLOADS", "5200"))

POISONS = ["\x00", "\ud800", "\udfff", "a\x00b", "\udc00\ud800"]
UNICODE = ["😀", "\u202eevil", "e\u0301\u0301\u0301", "中文字符", "\u200b", "\ufeff", "ᄀᄀᄀ", "𝕏" * 50, "é" * 5000, "\t\n\r"]
HUGE_NUMBERS = [10**40, -(10**40), 1e308, -1e308, 2**63, -(2**63) - 1, 0.1, -0.0]
RAW = {  # spliced into the JSON text: values json.dumps cannot or will not write
    "deep": lambda rng: "[" * (depth := rng.choice([65, 300, 1500, 20_000])) + "]" * depth,
    "inf": lambda rng: rng.choice(["1e999", "-1e999"]),
    "long-int": lambda rng: "9" * rng.choice([4000, 4301, 10_000]),
}


def _random_value(rng: random.Random, depth: int = 0):
    kind = rng.choice(["str", "int", "float", "bool", "none", "list", "dict", "huge", "unicode", "poison"])
    if kind == "str":
        return rng.choice(["", "x", "919812345678", "+919812345678", "wamid.fuzz", "text", "image", "USER_MESSAGE", "read"])
    if kind == "int":
        return rng.randint(-10, 10**12)
    if kind == "float":
        return rng.uniform(-1e6, 1e6)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "huge":
        return rng.choice(HUGE_NUMBERS)
    if kind == "unicode":
        return rng.choice(UNICODE)
    if kind == "poison":
        return rng.choice(POISONS)
    if depth > 2:
        return None
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["id", "type", "from", "text", "body", "x"]): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _slots(value, slots=None):
    """Every (container, key) in the payload."""
    slots = [] if slots is None else slots
    if isinstance(value, dict):
        for key in list(value):
            slots.append((value, key))
            _slots(value[key], slots)
    elif isinstance(value, list):
        for index in range(len(value)):
            slots.append((value, index))
            _slots(value[index], slots)
    return slots


def _poison_text(rng: random.Random, text: str) -> str:
    at = rng.randint(0, len(text))
    return text[:at] + rng.choice(POISONS) + text[at:]


def _poison_everything(rng: random.Random, value):
    if isinstance(value, str):
        return _poison_text(rng, value)
    if isinstance(value, dict):
        return {(_poison_text(rng, k) if rng.random() < 0.2 else k): _poison_everything(rng, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison_everything(rng, v) for v in value]
    return value


def _reorder(rng: random.Random, value):
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _reorder(rng, v) for k, v in items}
    if isinstance(value, list):
        items = [_reorder(rng, v) for v in value]
        rng.shuffle(items)
        return items
    return value


def mutate(rng: random.Random, payload: dict) -> bytes:
    payload = copy.deepcopy(payload)
    raw: dict[str, str] = {}
    for _ in range(rng.choice([1, 1, 2, 3])):
        operation = rng.choice(
            ["swap", "swap", "swap", "delete", "wrap", "poison", "poison-all", "unicode", "huge", "raw", "reorder", "id-type"]
        )
        if operation == "poison-all":
            payload = _poison_everything(rng, payload)
            continue
        if operation == "reorder":
            payload = _reorder(rng, payload)
            continue
        slots = _slots(payload)
        if not slots:
            break
        container, key = rng.choice(slots)
        value = container[key]
        if operation == "swap":
            container[key] = _random_value(rng)
        elif operation == "id-type":  # ids, numbers and timestamps as other scalars
            container[key] = rng.choice([12345, 1.5, True, None, [value], {"id": value}, str(value), -1])
        elif operation == "delete":
            del container[key]
        elif operation == "wrap":
            container[key] = rng.choice([[value], {"value": value}, json.dumps(value), [value, value]])
        elif operation == "poison" and isinstance(value, str):
            container[key] = _poison_text(rng, value)
        elif operation == "unicode":
            container[key] = rng.choice(UNICODE) + (value if isinstance(value, str) else "")
        elif operation == "huge":
            container[key] = rng.choice(HUGE_NUMBERS)
        elif operation == "raw":
            name = rng.choice(list(RAW))
            marker = f"__raw_{len(raw)}__"
            text = RAW[name](rng)
            raw[marker] = text
            container[key] = marker
    body = json.dumps(payload)  # escapes NUL and lone surrogates as \u0000 / \ud800, as providers would
    for marker, text in raw.items():
        body = body.replace(f'"{marker}"', text)
    return body.encode()


def _corpus() -> list[tuple[str, dict]]:
    return [(name, fixture_json(name)) for name in fixture_names("wa_") + fixture_names("rcs_")]


# Reasons of ours, not an exception tripped over inside the code (AttributeError, TypeError, KeyError…).
PYTHON_ERROR = re.compile(r"^(Set aside: .*: )?[A-Z]\w*(Error|Exception|Exit)\b|^KeyboardInterrupt")


def test_thousands_of_mutated_signed_payloads_never_5xx_are_all_stored_and_settled_and_the_canary_lands(client):
    rng = random.Random(SEED)
    whatsapp = make_channel(phone="+919876500001")
    rcs = make_channel(Channel.Kind.RCS, phone="+919876500002")
    corpus = _corpus()
    answers: dict[int, int] = {}
    bodies: list[bytes] = []
    posted = 0
    while posted < PAYLOADS:
        name, payload = rng.choice(corpus)
        body = mutate(rng, payload)
        channel = rcs if name.startswith("rcs_") else whatsapp
        for _ in range(2 if rng.random() < 0.05 else 1):  # duplicate deliveries
            response = post_raw(client, channel, body)
            answers[response.status_code] = answers.get(response.status_code, 0) + 1
            assert response.status_code < 500, f"seed {SEED}, post {posted}: {response.status_code} for {body[:300]!r}"
            bodies.append(body)
            posted += 1
    assert WebhookEvent.objects.count() == posted  # every body stored, whatever the answer…
    stored = sorted(bytes(body) for body in WebhookEvent.objects.values_list("body", flat=True))
    assert stored == sorted(bodies), f"seed {SEED}: a stored body differs from the bytes posted"  # …byte for byte
    assert set(answers) <= {200, 400}, answers

    canary = fixture_json("wa_in_text.json")
    canary["messages"]["id"] = "wamid.canary-after-the-fuzz"
    assert post_raw(client, whatsapp, json.dumps(canary).encode()).status_code == 200

    ingest.drain_received()

    statuses = dict(WebhookEvent.objects.values_list("status").annotate(n=Count("pk")))
    assert set(statuses) <= {"processed", "ignored", "unprocessable"}, statuses
    tripped = [
        (pk, error) for pk, error in WebhookEvent.objects.filter(status="unprocessable").values_list("pk", "error")
        if PYTHON_ERROR.match(error)
    ]
    assert not tripped, f"seed {SEED}: {len(tripped)} events tripped over a wrong type, e.g. {tripped[:5]}"
    assert not WebhookEvent.objects.filter(status="unprocessable", error="").exists()
    assert Message.objects.filter(provider_message_id="wamid.canary-after-the-fuzz").exists()
    assert statuses.get("processed", 0) > posted // 10  # the fuzz still reaches the code that applies events
