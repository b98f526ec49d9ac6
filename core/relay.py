"""One channel-layer channel per server process, shared by the websockets it serves.

Channels gives every consumer a channel of its own and a receive loop on it. An event for a group
of fifty open browsers then woke fifty loops, each creating and cancelling tasks around the layer's
shared receive lock: about 0.2 ms a socket, most of the time from publish to the last browser. Here
the process holds one channel, joins the groups its sockets need, reads each event once and hands it
to the sockets of the event's groups (publish() names them in the message). Delivery is still the
channel layer's (a Redis list per process, not pub/sub), and memberships still expire unless renewed.
"""

import asyncio
import logging
import weakref
from collections import defaultdict, deque
from time import monotonic

from channels.layers import InMemoryChannelLayer, channel_layers, get_channel_layer
from channels import DEFAULT_CHANNEL_LAYER

logger = logging.getLogger(__name__)

READ_RETRY_SECONDS = 1.0


class Relay:
    def __init__(self, layer):
        self.layer = layer
        self.channel: str | None = None
        self.sockets: dict[str, set] = defaultdict(set)  # group → consumers in it
        self.reader: asyncio.Task | None = None
        self.renewed_at = monotonic()
        self.recent_ids = deque(maxlen=512)  # the in-memory layer delivers once per group
        self.lock = asyncio.Lock()

    async def join(self, socket, groups) -> None:
        async with self.lock:
            if self.reader is None:
                self.channel = await self.layer.new_channel()
                self.reader = asyncio.ensure_future(self._read(self.channel))
                self.renewed_at = monotonic()
            for group in groups:
                if not self.sockets[group]:
                    await self.layer.group_add(group, self.channel)
                self.sockets[group].add(socket)

    async def leave(self, socket, groups) -> None:
        async with self.lock:
            for group in groups:
                members = self.sockets.get(group)
                if members is None:
                    continue
                members.discard(socket)
                if not members:
                    del self.sockets[group]
                    await self.layer.group_discard(group, self.channel)
            if not self.sockets and self.reader is not None:  # the last socket left: stop reading
                self.reader.cancel()
                self.reader = self.channel = None

    async def renew(self) -> None:
        """Renew the process's memberships (a socket's ping calls this; at most every fifth of the
        expiry). If they may have lapsed meanwhile, every socket here is told to refetch."""
        silent_for = monotonic() - self.renewed_at
        if self.reader is None or silent_for < self.layer.group_expiry / 5:
            return
        async with self.lock:
            for group in self.sockets:
                await self.layer.group_add(group, self.channel)
            self.renewed_at = monotonic()
            sockets = set().union(*self.sockets.values())
        if silent_for >= self.layer.group_expiry:
            for socket in sockets:
                await _deliver(socket, '{"event": "resync", "payload": {}}')

    async def _read(self, channel: str) -> None:
        while True:
            try:
                message = await self.layer.receive(channel)
            except Exception:  # Redis went away: keep trying; events meanwhile may be lost
                logger.exception("reading events from the channel layer failed; retrying")
                self.renewed_at = float("-inf")  # the next ping renews the groups and asks for a refetch
                await asyncio.sleep(READ_RETRY_SECONDS)
                continue
            if message["id"] in self.recent_ids:
                continue
            self.recent_ids.append(message["id"])
            audience = set().union(*(self.sockets.get(group, ()) for group in message["groups"]))
            for socket in audience:
                if message.get("recheck_groups"):  # core.events.membership_changed
                    await _recheck(socket)
                else:
                    await _deliver(socket, message["text"])


async def _recheck(socket) -> None:
    try:
        await socket.recheck_groups()
    except Exception:
        logger.exception("could not recheck a websocket's groups")


async def _deliver(socket, text: str) -> None:
    try:
        await socket.send(text_data=text)
    except Exception:  # one broken socket must not stop the others' events
        logger.exception("could not relay an event to a websocket")


_relays: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Relay]" = weakref.WeakKeyDictionary()


def process_relay() -> Relay:
    """The relay of the running event loop (daphne runs one per process; tests run several)."""
    loop = asyncio.get_running_loop()
    if loop not in _relays:
        _relays[loop] = Relay(_layer_for_this_loop())
    return _relays[loop]


def _layer_for_this_loop():
    """channels_redis refuses receive() from a second event loop on one layer instance (a server
    thread's and a test's, say), so each loop's relay reads through a layer of its own. The in-memory
    layer keeps its channels in the instance: it only works shared."""
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        return layer
    return channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
