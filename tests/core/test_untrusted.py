"""core.untrusted.loads_json(depth_checked=True): a stored body read again gives what loads_json gave."""

import json

import pytest

from core.untrusted import NotJSON, loads_json

BODIES = [
    b'{"a": "plain", "b": [1, 2.5, 1e999, {"c": null}]}',
    b'{"nul": "x\\u0000y", "lone": "\\ud800", "pair": "\\ud83d\\ude00", "KEY\\u0000": "\\uDBFF"}',
    json.dumps({"text": "नमस्ते ✓", "n": [True, False]}).encode(),
    b'{"escaped backslash": "\\\\u0000 is text"}',
]


@pytest.mark.parametrize("body", BODIES)
def test_reads_what_loads_json_reads(body):
    assert loads_json(body, depth_checked=True) == loads_json(body)


def test_strings_from_escapes_are_cleaned():
    assert loads_json(b'["\\u0000", "\\udfff"]', depth_checked=True) == ["\ufffd", "\ufffd"]


@pytest.mark.parametrize("body", [b"{", b"NaN", b'{"a": Infinity}'])
def test_what_is_not_json_raises_not_json(body):
    with pytest.raises(NotJSON):
        loads_json(body, depth_checked=True)
