"""Reading what customers and providers send: JSON that cannot crash us, strings every store accepts.

Everything a provider posts is parsed here first (the parse boundary), so the code behind it never
meets what would make a database, a UTF-8 encoder or the interpreter fail outside the per-event
error handling:

- NUL (PostgreSQL text and jsonb refuse it) and lone surrogates such as `\\ud800` (no UTF-8 encoding
  exists for them) become U+FFFD, in keys and values alike;
- nesting deeper than MAX_JSON_DEPTH, `NaN`/`Infinity` (not JSON; PostgreSQL refuses them) and integers
  Python will not read are "not JSON", like any other malformed body;
- numbers too large for a float (`1e999`) are kept as their text.
"""

import json
import math
import re

# Provider payloads are a handful of levels deep (Meta's envelope: 7); anything near Python's recursion
# limit is an attack, not a message.
MAX_JSON_DEPTH = 64

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# What in a body can make json.loads return an unstorable string: a \u0000 or \uD800–\uDFFF escape, a
# surrogate encoded in UTF-8 (json.loads decodes with surrogatepass), and any NUL or surrogate as such
# (a NUL byte also sends every UTF-16/32 body, whose ASCII carries NULs, the careful way). A body with
# none of them and no more brackets than the depth limit needs no walk after json.loads. Over-matching
# (an escaped backslash before "u0000") only costs the walk.
_MAY_NEED_CLEANING_BYTES = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]|\x00")
_MAY_NEED_CLEANING_TEXT = re.compile("\\\\u(?:0000|[dD][89a-fA-F])|[\x00\ud800-\udfff]")


# The largest id a bigint column holds; a larger number in a query string is no row's id.
MAX_ROW_ID = 2**63 - 1


def row_id(value) -> int | None:
    """An id read from a query string or form field: a positive integer a column can hold, else None
    (so `get_object_or_404(Model, pk=row_id(...))` is a 404 and a filter by it matches nothing, where
    text, NUL or a 30-digit number would make the database or int() raise)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value <= MAX_ROW_ID else None
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ROW_ID else None


class NotJSON(ValueError):
    """The body cannot be read as JSON (malformed, too deep, not UTF-8)."""


def clean_text(text: str) -> str:
    """`text` with NUL and lone surrogates replaced by U+FFFD: storable in any database, encodable as UTF-8.

    (json.loads joins a valid surrogate pair into one character, so a surrogate left in a str is lone.)
    """
    return _UNSTORABLE.sub("\ufffd", text) if _UNSTORABLE.search(text) else text


def _not_a_constant(name: str):
    raise NotJSON(f"{name} is not a JSON value")


def _number(text: str):
    value = float(text)
    return value if math.isfinite(value) else text


def loads_json(body: bytes | str, *, max_depth: int = MAX_JSON_DEPTH, depth_checked: bool = False):
    """Parse untrusted JSON; every string in the result is clean (see clean_text). Raises NotJSON.
    `depth_checked`: the body passed loads_json once already (a stored webhook read again), so its
    brackets need no count; the clean walk then runs only for an escape that can make an unstorable string."""
    try:
        data = json.loads(body, parse_constant=_not_a_constant, parse_float=_number)
    except RecursionError:
        raise NotJSON("nested too deep to read") from None
    except NotJSON:
        raise
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, bad UTF-8, integers over 4,300 digits
        raise NotJSON(clean_text(str(exc))[:200]) from None
    if _plain(body, None if depth_checked else max_depth):
        return data
    try:
        return _clean(data, max_depth)
    except _TooDeep:
        raise NotJSON(f"nested more than {max_depth} levels deep") from None


def _plain(body: bytes | str, max_depth: int | None) -> bool:
    """True when json.loads' result is certainly clean and no deeper than `max_depth` (see above; None:
    the depth is known to be within bounds)."""
    if isinstance(body, str):
        shallow = max_depth is None or body.count("{") + body.count("[") <= max_depth
        return shallow and not _MAY_NEED_CLEANING_TEXT.search(body)
    shallow = max_depth is None or body.count(b"{") + body.count(b"[") <= max_depth
    return shallow and not _MAY_NEED_CLEANING_BYTES.search(body)


class _TooDeep(Exception):
    pass


def _clean(value, depth_left: int):
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        if depth_left <= 0:
            raise _TooDeep
        return {clean_text(key): _clean(item, depth_left - 1) for key, item in value.items()}
    if isinstance(value, list):
        if depth_left <= 0:
            raise _TooDeep
        return [_clean(item, depth_left - 1) for item in value]
    return value
