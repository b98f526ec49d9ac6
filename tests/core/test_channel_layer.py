import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.layers import get_channel_layer
from django.conf import settings

from core.channel_layer import GroupsRedisChannelLayer

pytestmark = pytest.mark.skipif(
    not isinstance(get_channel_layer(), GroupsRedisChannelLayer), reason="the Redis channel layer (REDIS_URL set)"
)


def test_group_send_many_reaches_every_member_of_every_group_once():
    layer = GroupsRedisChannelLayer(hosts=settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"], prefix="sampark-test-layer")
    with ThreadPoolExecutor(1) as pool:  # a loop of its own: the main thread may run Playwright's
        pool.submit(asyncio.run, _send_to_groups(layer)).result(timeout=30)


async def _send_to_groups(layer):
    staff, team, elsewhere, supervisor = [await layer.new_channel() for _ in range(4)]
    plain = "test-plain-channel"  # not process-local: it has a Redis key of its own
    await layer.group_add("staff", staff)
    await layer.group_add("staff", supervisor)
    await layer.group_add("team.1", supervisor)
    await layer.group_add("team.1", team)
    await layer.group_add("team.1", plain)
    await layer.group_add("team.2", elsewhere)
    try:
        # From sync code, as publish() sends: blocking, no event loop of its own.
        await asyncio.to_thread(layer.group_send_many, ["staff", "team.1"], {"type": "event.message", "id": "e1"})
        for channel in (staff, supervisor, team, plain):
            assert (await asyncio.wait_for(layer.receive(channel), 2))["id"] == "e1"
        for channel in (supervisor, elsewhere):  # once, even for a member of both groups
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(layer.receive(channel), 0.3)
    finally:
        await layer.flush()


def test_send_many_delivers_each_message_once_in_the_order_sent():
    layer = GroupsRedisChannelLayer(hosts=settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"], prefix="sampark-test-layer")
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _send_a_batch(layer)).result(timeout=30)


async def _send_a_batch(layer):
    both, staff_only = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("staff", both)
    await layer.group_add("staff", staff_only)
    await layer.group_add("team.1", both)
    try:
        sends = [(["staff", "team.1"], {"type": "event.message", "id": f"e{i}"}) for i in range(30)] + [
            (["team.2"], {"type": "event.message", "id": "nobody"})
        ]
        await asyncio.to_thread(layer.send_many, sends)
        for channel in (both, staff_only):
            assert [(await asyncio.wait_for(layer.receive(channel), 2))["id"] for _ in range(30)] == [f"e{i}" for i in range(30)]
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(layer.receive(channel), 0.3)
    finally:
        await layer.flush()


def test_an_idle_receive_outlasts_the_blocking_pop_it_waits_on():
    """redis-py's default read timeout (5 s) equals channels_redis' blocking pop (5 s): idle sockets
    failed their receive at random. The layer's connections wait longer than the pop."""
    from channels_redis.utils import create_pool

    layer = get_channel_layer()
    assert create_pool(layer.hosts[0]).connection_kwargs["socket_timeout"] > layer.brpop_timeout


def test_a_publish_waits_less_for_redis_than_an_idle_receive_may():
    from core.channel_layer import SOCKET_TIMEOUT_SECONDS

    layer = get_channel_layer()
    kwargs = layer._sync_clients[0].connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == SOCKET_TIMEOUT_SECONDS < layer.hosts[0]["socket_timeout"]


def test_two_event_loops_in_one_process_each_relay_events():
    """Daphne's loop in a test server thread and a test's own loop (or two server threads) each run a
    relay. channels_redis refuses receive() from a second loop on one layer instance, so each loop's
    relay reads through a layer of its own."""
    import threading

    from core import events
    from core.relay import process_relay

    class Socket:
        def __init__(self):
            self.received = asyncio.Queue()

        async def send(self, text_data):
            self.received.put_nowait(text_data)

    first_joined, stop_first = threading.Event(), threading.Event()

    async def keep_a_relay_reading():
        await process_relay().join(Socket(), ["staff"])
        first_joined.set()
        while not stop_first.is_set():
            await asyncio.sleep(0.05)

    async def relay_one_event():
        socket = Socket()
        relay = process_relay()
        await relay.join(socket, ["staff"])
        try:
            message = {"type": "event.message", "id": "two-loops", "event": "ping", "text": '"ping"', "groups": ["staff"]}
            await asyncio.to_thread(events._send, message)  # what publish() sends once committed
            return await asyncio.wait_for(socket.received.get(), 5)
        finally:
            await relay.leave(socket, ["staff"])

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(asyncio.run, keep_a_relay_reading())
        assert first_joined.wait(10)
        try:
            assert '"ping"' in pool.submit(asyncio.run, relay_one_event()).result(timeout=30)
        finally:
            stop_first.set()
            first.result(timeout=10)
