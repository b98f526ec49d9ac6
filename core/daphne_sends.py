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


def cheaper_frames() -> None:
    write_when_nothing_waits()
    plain_autobahn_log_arguments()
    small_frames_unmasked_in_python()
