"""Smartflo's bi-directional voice streaming: the only module that knows its JSON, both ways.

Smartflo opens a WebSocket per call and sends JSON text frames (Twilio-like): `connected`, `start`
(the stream and call ids, custom parameters), `media` (base64 μ-law 8 kHz, 20 ms = 160 bytes),
`dtmf`, `mark` (a mark we sent was reached in playback) and `stop`. We send `media` to play audio,
`mark` to learn when playback reached a point, `clear` to drop what is queued. Names are read with
or without camelCase (`streamSid` / `stream_sid`) and at the top level or inside the event's own
object; anything else about a frame is hostile until proven otherwise: `read()` raises
`BadFrame` for a frame Sampark cannot act on, and the consumer closes the socket.
"""

import base64
import binascii
import dataclasses
import json
import re


EVENTS = ("connected", "start", "media", "dtmf", "mark", "stop")
DIGITS = frozenset("0123456789*#ABCD")
MAX_MEDIA_BYTES = 1600  # 200 ms of μ-law: Smartflo sends 160 (20 ms); anything far larger is not audio


class BadFrame(ValueError):
    """A frame that is not the streaming protocol (the socket is closed, with this reason)."""


@dataclasses.dataclass(slots=True)  # not frozen: a frozen dataclass costs 4 µs to build, 50 times a second per call
class Frame:
    event: str
    stream_id: str = ""
    call_id: str = ""
    sequence: int | None = None
    audio: bytes = b""  # media: the μ-law bytes
    digit: str = ""  # dtmf
    mark: str = ""  # mark: its name
    custom: dict = dataclasses.field(default_factory=dict)  # start: customParameters (strings only)
    numbers: tuple[str, str] = ("", "")  # start: (from, to) as Smartflo gave them
    reason: str = ""  # stop


def _text(value, limit: int = 128) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return ""
    return value[:limit].replace("\x00", "")  # PostgreSQL refuses NUL in text


def _first(sources: list[dict], *names: str) -> str:
    for source in sources:
        for name in names:
            if name in source:
                text = _text(source[name])
                if text:
                    return text
    return ""


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


# A media frame as Smartflo (and the sandbox) writes it, 50 a second per call: read without building the
# JSON tree. Only this exact shape (compact, these keys in this order, plain strings) is matched; any
# other spelling of a media frame goes through the full parser below, which gives the same Frame.
_MEDIA = re.compile(r'\{"event":"media","sequenceNumber":"(\d{1,12})","streamSid":"([A-Za-z0-9_.:-]{1,128})",'
                    r'"media":\{(?:"(?:track|chunk|timestamp)":"[A-Za-z0-9_]{0,32}",){0,3}"payload":"([A-Za-z0-9+/=]{1,2200})"\}\}')


def read(text: str) -> Frame:
    """One text frame from Smartflo → a Frame. Raises BadFrame for anything else.

    Parsed with the stdlib's json rather than core.untrusted.loads_json, which costs five times more:
    a call sends 50 frames a second, each capped (TELEPHONY_STREAM_MAX_FRAME_BYTES) before parsing,
    and only short strings read out of them (cleaned by `_text`) are ever stored; NaN / Infinity are
    still refused and deep nesting is a BadFrame, not a RecursionError."""
    media = _MEDIA.fullmatch(text)
    if media:
        return Frame("media", stream_id=media[2], sequence=int(media[1]), audio=_media(media[3]))
    try:
        data = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise BadFrame(f"not JSON: {str(exc)[:80]}") from None
    if not isinstance(data, dict):
        raise BadFrame("a frame is a JSON object")
    event = data.get("event")
    if event not in EVENTS:
        raise BadFrame(f"unknown event {str(event)[:40]!r}")
    inner = data.get(event) if isinstance(data.get(event), dict) else {}
    sources = [data, inner]
    sequence = data.get("sequenceNumber", data.get("sequence_number"))
    try:
        sequence = int(sequence) if sequence is not None and not isinstance(sequence, bool) else None
    except (TypeError, ValueError):
        raise BadFrame("sequenceNumber is not a number") from None
    frame = {"event": event, "stream_id": _first(sources, "streamSid", "stream_sid", "streamId", "stream_id"),
             "call_id": _first(sources, "callSid", "call_sid", "callId", "call_id"), "sequence": sequence}
    if event == "media":
        frame["audio"] = _media(inner.get("payload"))
    elif event == "dtmf":
        digit = _first(sources, "digit", "digits")
        if len(digit) != 1 or digit not in DIGITS:
            raise BadFrame("dtmf carries one digit 0-9, *, #")
        frame["digit"] = digit
    elif event == "mark":
        frame["mark"] = _first(sources, "name")
    elif event == "start":
        custom = inner.get("customParameters", inner.get("custom_parameters", {}))
        if not isinstance(custom, dict):
            raise BadFrame("customParameters is an object")
        frame["custom"] = {str(k)[:64]: _text(v, 256) for k, v in list(custom.items())[:32] if _text(v, 256)}
        frame["numbers"] = (_first(sources, "from", "caller", "from_number"), _first(sources, "to", "called", "to_number"))
    elif event == "stop":
        frame["reason"] = _first(sources, "reason")
    if event in ("start", "media", "dtmf", "mark", "stop") and not frame["stream_id"]:
        raise BadFrame(f"{event} without a streamSid")
    return Frame(**frame)


def _media(payload) -> bytes:
    if not isinstance(payload, str) or not payload:
        raise BadFrame("media without a base64 payload")
    if len(payload) > MAX_MEDIA_BYTES * 4 // 3 + 4:
        raise BadFrame("media payload too large")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise BadFrame("media payload is not base64") from None


# ---------------------------------------------------------------- what we send


def media_text(stream_id: str, payload_b64: str) -> str:
    return media_prefix(stream_id) + payload_b64 + MEDIA_SUFFIX


def media_prefix(stream_id: str) -> str:
    """A stream's media frames differ only in their payload: prefix + payload + MEDIA_SUFFIX."""
    return '{"event":"media","streamSid":%s,"media":{"payload":"' % json.dumps(stream_id)


MEDIA_SUFFIX = '"}}'


def mark_text(stream_id: str, name: str) -> str:
    return json.dumps({"event": "mark", "streamSid": stream_id, "mark": {"name": name}})


def clear_text(stream_id: str) -> str:
    return json.dumps({"event": "clear", "streamSid": stream_id})


def payloads(ulaw_frames: list[bytes]) -> list[str]:
    return [base64.b64encode(chunk).decode("ascii") for chunk in ulaw_frames]


# ---------------------------------------------------------------- what Smartflo sends (the sandbox and tests speak it)


def connected_text() -> str:
    return json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})


def start_text(stream_id: str, call_id: str, *, sequence: int = 1, custom: dict | None = None, numbers=("", "")) -> str:
    return json.dumps({"event": "start", "sequenceNumber": str(sequence), "streamSid": stream_id, "start": {
        "streamSid": stream_id, "callSid": call_id, "accountSid": "sandbox", "tracks": ["inbound"],
        "from": numbers[0], "to": numbers[1], "customParameters": custom or {},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})


def inbound_media_text(stream_id: str, sequence: int, chunk: int, payload_b64: str) -> str:
    return ('{"event":"media","sequenceNumber":"%d","streamSid":%s,"media":{"track":"inbound","chunk":"%d","timestamp":"%d","payload":"%s"}}'
            % (sequence, json.dumps(stream_id), chunk, chunk * 20, payload_b64))


def dtmf_text(stream_id: str, call_id: str, digit: str, *, sequence: int = 0) -> str:
    return json.dumps({"event": "dtmf", "sequenceNumber": str(sequence), "streamSid": stream_id,
                       "dtmf": {"streamSid": stream_id, "callSid": call_id, "digit": digit, "track": "inbound_track"}})


def mark_echo_text(stream_id: str, name: str, *, sequence: int = 0) -> str:
    return json.dumps({"event": "mark", "sequenceNumber": str(sequence), "streamSid": stream_id, "mark": {"name": name}})


def stop_text(stream_id: str, call_id: str, *, sequence: int = 0, reason: str = "callended") -> str:
    return json.dumps({"event": "stop", "sequenceNumber": str(sequence), "streamSid": stream_id,
                       "stop": {"callSid": call_id, "accountSid": "sandbox", "reason": reason}})


def read_outbound(text: str) -> dict:
    """What we sent, as Smartflo (the sandbox, the bench) reads it: {"event", "audio"|"mark"}."""
    data = json.loads(text)
    event = data.get("event")
    if event == "media":
        return {"event": "media", "audio": base64.b64decode(data["media"]["payload"])}
    if event == "mark":
        return {"event": "mark", "mark": data["mark"]["name"]}
    return {"event": event}
