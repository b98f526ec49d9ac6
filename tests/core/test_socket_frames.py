"""A frame the websocket cannot read is answered, not fatal (issue #11, finding 19): it used to close
the socket with 1011."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.testing import WebsocketCommunicator

from core.consumers import EventsConsumer

pytestmark = pytest.mark.django_db(transaction=True)

FRAMES = [{"text_data": "not json"}, {"text_data": "[1, 2]"}, {"text_data": "[" * 5000 + "]" * 5000},
          {"text_data": '"\\ud800"'}, {"bytes_data": b"\x00\x01binary"}, {"text_data": "{}"}]


def test_unreadable_frames_get_an_error_frame_and_the_socket_stays_open(agent):
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _frames(agent)).result(timeout=60)


async def _frames(user):
    communicator = WebsocketCommunicator(EventsConsumer.as_asgi(), "/ws/events/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["event"] == "hello"
    for frame in FRAMES[:-1]:
        await communicator.send_to(**frame)
        answer = await communicator.receive_json_from()
        assert answer["event"] == "error", frame
    await communicator.send_to(**FRAMES[-1])  # an object without a known type: nothing to answer
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from())["event"] == "pong"  # still open and working
    await communicator.disconnect()
