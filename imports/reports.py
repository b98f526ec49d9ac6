"""Read message reports (CSV or JSON) exported from the Tata portal or another CRM. Pure: no database.

CSV: a header row, then one message per row (UTF-8, or Excel's Windows-1252). JSON: a list of flat
objects (up to MAX_JSON_BYTES, read whole), or JSON Lines (.jsonl/.ndjson, one object a line, streamed).
Values are read as text; the mapping (column → target) decides what each column means.
"""

import codecs
import csv
import dataclasses
import datetime
import io
import json
import re
from collections.abc import Iterator

MAX_JSON_BYTES = 50 * 1024 * 1024
PREVIEW_ROWS = 5

TARGETS = {
    "time": "Time (required)",
    "direction": "Direction: in or out (required)",
    "phone": "Customer's phone (required)",
    "text": "Text",
    "provider_message_id": "Provider message id (wamid…)",
    "media_url": "Media URL",
    "business_number": "Business number",
}
REQUIRED = ("time", "direction", "phone")
INBOUND_WORDS = {"in", "inbound", "incoming", "received", "receive", "mo", "customer", "user"}
OUTBOUND_WORDS = {"out", "outbound", "outgoing", "sent", "send", "mt", "delivered", "read", "business", "agent"}
TIME_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%Y/%m/%d %H:%M:%S", "%d/%m/%Y, %H:%M")
_SURROGATES = re.compile("[\ud800-\udfff]")


class ReportError(ValueError):
    pass


def kind_of(file_name: str) -> str:
    name = file_name.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    raise ReportError("Upload a .csv, .json or .jsonl report.")


def _text_stream(fileobj) -> io.TextIOBase:
    head = fileobj.read(64 * 1024)
    fileobj.seek(0)
    try:
        head.decode("utf-8-sig")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:
        # A cut in the middle of a character at the end of the sample is still UTF-8.
        encoding = "utf-8-sig" if exc.start >= len(head) - 3 else "cp1252"
    return codecs.getreader(encoding)(fileobj, errors="replace")


def _clean(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return _SURROGATES.sub("\ufffd", str(value)).strip()


def rows(fileobj, kind: str) -> Iterator[tuple[int, dict[str, str] | None, str]]:
    """(row number, {column: text} or None when unreadable, why unreadable)."""
    if kind == "csv":
        reader = csv.DictReader(_text_stream(fileobj))
        for number, row in enumerate(reader, 2):
            if None in row:
                yield number, None, "More values than the header has columns"
            else:
                yield number, {_clean(key): _clean(value) for key, value in row.items() if key is not None}, ""
    elif kind == "jsonl":
        for number, line in enumerate(_text_stream(fileobj), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):
                yield number, None, "Not valid JSON"
                continue
            yield (number, {_clean(k): _clean(v) for k, v in obj.items()}, "") if isinstance(obj, dict) else (number, None, "Not a JSON object")
    else:
        content = fileobj.read(MAX_JSON_BYTES + 1)
        if len(content) > MAX_JSON_BYTES:
            raise ReportError("JSON reports over 50 MB must be JSON Lines (.jsonl), one message a line.")
        try:
            data = json.loads(content.decode("utf-8-sig", errors="replace"))
        except (ValueError, RecursionError) as exc:
            raise ReportError(f"That is not valid JSON: {exc}") from exc
        if isinstance(data, dict):  # {"messages": [...]} or {"data": [...]}
            data = next((v for v in data.values() if isinstance(v, list)), None)
        if not isinstance(data, list):
            raise ReportError("The JSON must be a list of messages.")
        for number, obj in enumerate(data, 1):
            yield (number, {_clean(k): _clean(v) for k, v in obj.items()}, "") if isinstance(obj, dict) else (number, None, "Not a JSON object")


def columns_and_preview(fileobj, kind: str) -> tuple[list[str], list[dict[str, str]]]:
    columns: dict[str, None] = {}
    preview = []
    for _, row, _ in rows(fileobj, kind):
        if row is None:
            continue
        columns.update(dict.fromkeys(row))
        preview.append(row)
        if len(preview) >= PREVIEW_ROWS:
            break
    fileobj.seek(0)
    return list(columns), preview


def guess_mapping(columns: list[str]) -> dict[str, str]:
    """column → target, from the usual header names (the person importing can change it)."""
    hints = {
        "time": ("time", "timestamp", "date", "sent_at", "sent at", "created"),
        "direction": ("direction", "type of message", "in/out", "flow"),
        "phone": ("phone", "mobile", "msisdn", "customer", "wa_id", "to", "from", "contact"),
        "text": ("text", "message", "body", "content"),
        "provider_message_id": ("wamid", "message id", "message_id", "msg id", "id"),
        "media_url": ("media", "url", "attachment"),
        "business_number": ("business", "waba", "sender number", "channel"),
    }
    mapping: dict[str, str] = {}
    for column in columns:
        lowered = column.lower()
        for target, words in hints.items():
            if target not in mapping.values() and any(word == lowered or word in lowered for word in words):
                mapping[column] = target
                break
    return mapping


@dataclasses.dataclass
class ReportMessage:
    row: int
    at: datetime.datetime  # aware when the report said so; naive otherwise (the job's zone applies)
    inbound: bool
    phone: str
    text: str = ""
    provider_message_id: str = ""
    media_url: str = ""
    business_number: str = ""


def read(row_number: int, row: dict[str, str], mapping: dict[str, str]) -> ReportMessage:
    """One report row as a message, or ReportError saying what is wrong with it."""
    values = {target: row.get(column, "") for column, target in mapping.items() if target}
    for target in REQUIRED:
        if not values.get(target):
            raise ReportError(f"No {target}")
    direction = values["direction"].lower()
    if direction in INBOUND_WORDS:
        inbound = True
    elif direction in OUTBOUND_WORDS:
        inbound = False
    else:
        raise ReportError(f"Direction “{values['direction'][:40]}” is neither in nor out")
    return ReportMessage(
        row=row_number,
        at=parse_time(values["time"]),
        inbound=inbound,
        phone=values["phone"],
        text=values.get("text", "")[:4096],
        provider_message_id=values.get("provider_message_id", "")[:255],
        media_url=values.get("media_url", "")[:2000],
        business_number=values.get("business_number", ""),
    )


def parse_time(value: str) -> datetime.datetime:
    value = value.strip()
    if value.isdigit():
        seconds = int(value) / (1000 if len(value) > 11 else 1)
        return datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    for pattern in TIME_FORMATS:
        try:
            return datetime.datetime.strptime(value, pattern)
        except ValueError:
            continue
    raise ReportError(f"Time “{value[:40]}” is not a date and time this importer reads")
