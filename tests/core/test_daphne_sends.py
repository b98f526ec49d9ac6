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
