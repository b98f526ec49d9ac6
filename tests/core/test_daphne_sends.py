"""core.daphne_sends: daphne's sockets write at once when nothing waits (and keep Twisted's buffered
path otherwise), autobahn's log arguments are plain, and small frames unmask in Python exactly as
autobahn's native masker does."""

import os
import socket

import pytest
import txaio

txaio.use_twisted()

from autobahn.websocket import protocol as autobahn_protocol  # noqa: E402
from twisted.internet import tcp  # noqa: E402

from core import daphne_sends  # noqa: E402


class Reactor:
    """Records what a connection asks of the reactor (the real one is never started in tests)."""

    def __init__(self):
        self.writers = []

    def addWriter(self, descriptor):
        self.writers.append(descriptor)

    def removeWriter(self, descriptor):
        self.writers.remove(descriptor)

    def addReader(self, descriptor):
        pass

    def removeReader(self, descriptor):
        pass


@pytest.fixture
def connection():
    daphne_sends.write_when_nothing_waits()
    ours, theirs = socket.socketpair()
    reactor = Reactor()
    conn = tcp.Connection(ours, protocol=None, reactor=reactor)
    conn.connected = True
    theirs.settimeout(2)
    yield conn, theirs, reactor
    ours.close()
    theirs.close()


def test_a_write_with_nothing_queued_reaches_the_socket_without_waiting_for_the_reactor(connection):
    conn, theirs, reactor = connection
    conn.write(b"frame one")
    assert theirs.recv(100) == b"frame one" and reactor.writers == []


def test_a_write_behind_queued_bytes_is_queued_after_them(connection):
    conn, theirs, reactor = connection
    conn._tempDataBuffer.append(b"queued ")
    conn._tempDataLen = 7
    conn.write(b"then this")
    assert reactor.writers == [conn]
    theirs.setblocking(False)
    with pytest.raises(BlockingIOError):
        theirs.recv(100)
    conn.doWrite()
    theirs.setblocking(True)
    assert theirs.recv(100) == b"queued then this"


def test_what_the_socket_cannot_take_now_is_queued_and_sent_when_it_can(connection):
    conn, theirs, reactor = connection
    data = os.urandom(4 << 20)  # more than a socket pair's buffers hold
    conn.write(data)
    assert reactor.writers == [conn] and conn._tempDataLen < len(data)
    received = bytearray()
    while len(received) < len(data):
        received += theirs.recv(1 << 20)
        if conn.reactor.writers:
            conn.doWrite()
    assert bytes(received) == data


def test_autobahns_log_arguments_are_plain_values():
    daphne_sends.plain_autobahn_log_arguments()
    assert autobahn_protocol.hlval(350) == 350
    assert autobahn_protocol.hltype(test_autobahns_log_arguments_are_plain_values).endswith("plain_values")


@pytest.mark.parametrize("pieces", [[354], [1, 3, 350], [5, 100, 249], [0, 354]])
def test_the_python_masker_unmasks_as_autobahns_native_one_in_any_pieces(pieces):
    daphne_sends.small_frames_unmasked_in_python()
    mask, payload = os.urandom(4), os.urandom(sum(pieces))
    ours, native = autobahn_protocol.create_xor_masker(mask, len(payload)), autobahn_protocol.create_xor_masker.native(mask, len(payload))
    assert isinstance(ours, daphne_sends.IntMasker)
    start, unmasked = 0, b""
    for size in pieces:
        unmasked += ours.process(payload[start : start + size])
        start += size
        assert ours.pointer() == start
    assert unmasked == native.process(payload)
    assert bytes(b ^ mask[i % 4] for i, b in enumerate(unmasked)) == payload
    assert not isinstance(autobahn_protocol.create_xor_masker(mask, 1 << 16), daphne_sends.IntMasker)


UTF8_MESSAGES = [
    [b'{"event":"media","payload":"QUJD"}'],
    [b'{"name":"caf', "é\"}".encode()],
    [b'{"name":"caf\xc3', b'\xa9"}'],  # a code point split across frames
    [b'{"name":"caf\xc3'],  # ends inside a code point
    [b"plain ", b"\xff bad"],
    [b"\xed\xa0\x80"],  # a surrogate: not UTF-8
]


@pytest.mark.parametrize("chunks", UTF8_MESSAGES)
def test_the_ascii_first_validator_answers_as_autobahns_native_one(chunks):
    daphne_sends.ascii_validated_without_native_calls()
    ours, native = daphne_sends.AsciiFirstUtf8Validator(), daphne_sends.NATIVE_UTF8_VALIDATOR()
    for validator in (ours, native):
        validator.reset()
    for chunk in chunks:
        mine, theirs = ours.validate(chunk), native.validate(chunk)
        assert mine[:2] == theirs[:2] and mine[3] == theirs[3]
        if not theirs[0]:
            break
    assert autobahn_protocol.Utf8Validator is daphne_sends.AsciiFirstUtf8Validator


class Message:
    """What autobahn's onMessageEnd reads of a protocol."""

    def __init__(self, listeners):
        self._listeners, self.trackedTimings, self.failedByMe, self.message_is_binary = listeners, None, False, False
        self.message_data, self.delivered, self.fired = [b'{"event":', b'"media"}'], [], []

    def _onMessage(self, payload, is_binary):
        self.delivered.append((payload, is_binary))

    def fire(self, event, *args, **kwargs):
        self.fired.append(event)
        return txaio.create_future(result=[])


def test_a_message_nobody_observes_is_delivered_without_firing_and_an_observed_one_still_fires():
    daphne_sends.skip_unobserved_messages()
    unobserved, observed = Message(None), Message({"message": []})
    autobahn_protocol.WebSocketProtocol.onMessageEnd(unobserved)
    autobahn_protocol.WebSocketProtocol.onMessageEnd(observed)
    for message in (unobserved, observed):
        assert message.delivered == [(b'{"event":"media"}', False)] and message.message_data is None
    assert (unobserved.fired, observed.fired) == ([], ["message"])
