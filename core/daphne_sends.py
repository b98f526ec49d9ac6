"""Cheaper frames for daphne's WebSockets, the per-frame cost of a voice stream (bench/voice_stream.py):
a call streams 50 frames a second each way, and one daphne process carries a hundred calls.

- Twisted's TCP transport never writes when asked: it buffers the bytes, registers the socket for
  writability (an epoll_ctl), and on the next loop iteration sends them and unregisters it (another
  epoll_ctl), each step dispatched through Twisted's logging context. `write_when_nothing_waits()`
  sends at once when nothing is queued before the bytes (what asyncio's transports do); the rest of
  a partial send, and any write while bytes wait, takes Twisted's own buffered path, so order, flow
  control and connection-lost handling stay Twisted's.
- autobahn formats its debug-log arguments (ANSI-coloured names, via `click.style`) on every frame it
  sends or receives, whether or not debug logging is on: 12 µs a frame. `plain_autobahn_log_arguments()`
  makes those arguments plain values, which cost nothing; the messages, when enabled, say the same uncoloured.
- autobahn unmasks each frame a client sends with a native masker built through cffi for that frame
  (5 µs for a 350-byte media frame, mostly building it); `IntMasker` does the same XOR with one
  big-integer operation (under 3 µs). Frames of 4 KB and more keep the native one.
- autobahn checks every text frame is UTF-8 through three cffi calls; `AsciiFirstUtf8Validator`
  answers for ASCII (all of the streaming protocol's JSON) with `bytes.isascii` and hands anything
  else to the native validator, so invalid UTF-8 still fails the connection (1007).
- autobahn announces every message to its observers (`fire("message")`) through a Deferred built and
  called back per message even when nothing observes, as under daphne; `skip_unobserved_messages`
  calls the protocol's onMessage alone when nothing listens.
"""

from twisted.internet import tcp

NATIVE_MASKER_FROM = 4096


def write_when_nothing_waits() -> None:
    if getattr(tcp.Connection.write, "writes_when_nothing_waits", False):
        return
    buffered_write = tcp.Connection.write

    def write(self, data) -> None:
        if (data and not self.TLS and self.connected and not self.disconnecting and not self._writeDisconnected
                and not self._tempDataBuffer and len(self.dataBuffer) == self.offset):
            sent = self.writeSomeData(data)
            if isinstance(sent, int) and sent > 0:  # 0: the socket is full; an exception: lost (doWrite reports it)
                if sent == len(data):
                    return
                data = data[sent:]
        buffered_write(self, data)

    write.writes_when_nothing_waits = True
    tcp.Connection.write = write


def _plain_name(obj, *args, **kwargs) -> str:
    return getattr(obj, "__qualname__", "")


def _plain_value(value, *args, **kwargs):
    return value


def plain_autobahn_log_arguments() -> None:
    from autobahn.twisted import websocket
    from autobahn.websocket import protocol

    for module in (protocol, websocket):
        module.hltype, module.hlval = _plain_name, _plain_value


class IntMasker:
    """A WebSocket frame's XOR mask (RFC 6455 5.3) over the payload as it arrives, in any pieces:
    autobahn's masker interface (process, pointer, reset)."""

    __slots__ = ("mask", "position")

    def __init__(self, mask: bytes):
        self.mask, self.position = bytes(mask), 0

    def pointer(self) -> int:
        return self.position

    def reset(self) -> None:
        self.position = 0

    def process(self, data) -> bytes:
        length, shift = len(data), self.position & 3
        key = (self.mask[shift:] + self.mask[:shift]) * (length // 4 + 1)
        self.position += length
        return (int.from_bytes(data, "little") ^ int.from_bytes(key[:length], "little")).to_bytes(length, "little")


def small_frames_unmasked_in_python() -> None:
    from autobahn.websocket import protocol

    native = getattr(protocol.create_xor_masker, "native", protocol.create_xor_masker)

    def create_xor_masker(mask, length=None):
        return IntMasker(mask) if length is not None and length < NATIVE_MASKER_FROM else native(mask, length)

    create_xor_masker.native = native
    protocol.create_xor_masker = create_xor_masker


class AsciiFirstUtf8Validator:
    """autobahn's incremental validator (reset, validate → (valid, ends on a code point, index, total))."""

    __slots__ = ("native", "ascii_so_far", "offset")

    def __init__(self):
        self.native, self.ascii_so_far, self.offset = None, True, 0

    def reset(self) -> None:
        self.ascii_so_far, self.offset = True, 0

    def validate(self, data) -> tuple[bool, bool, int, int]:
        if self.ascii_so_far and bytes(data).isascii():
            self.offset += len(data)
            return True, True, len(data), self.offset
        if self.ascii_so_far:  # ASCII before this leaves a fresh native validator's state as it was
            self.ascii_so_far = False
            self.native = self.native or NATIVE_UTF8_VALIDATOR()
            self.native.reset()
        valid, ends, index, total = self.native.validate(data)
        return valid, ends, index, total + self.offset


NATIVE_UTF8_VALIDATOR = None


def ascii_validated_without_native_calls() -> None:
    global NATIVE_UTF8_VALIDATOR
    from autobahn.websocket import protocol

    if protocol.Utf8Validator is not AsciiFirstUtf8Validator:
        NATIVE_UTF8_VALIDATOR, protocol.Utf8Validator = protocol.Utf8Validator, AsciiFirstUtf8Validator


def skip_unobserved_messages() -> None:
    from autobahn.websocket.protocol import WebSocketProtocol

    if getattr(WebSocketProtocol.onMessageEnd, "skips_unobserved", False):
        return
    observed = WebSocketProtocol.onMessageEnd

    def onMessageEnd(self) -> None:
        if self._listeners is not None or self.trackedTimings:
            return observed(self)
        if not self.failedByMe:
            self._onMessage(b"".join(self.message_data), self.message_is_binary)
        self.message_data = None

    onMessageEnd.skips_unobserved = True
    WebSocketProtocol.onMessageEnd = onMessageEnd


def cheaper_frames() -> None:
    write_when_nothing_waits()
    plain_autobahn_log_arguments()
    small_frames_unmasked_in_python()
    ascii_validated_without_native_calls()
    skip_unobserved_messages()
