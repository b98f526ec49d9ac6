"""The one websocket: an authenticated browser joins the groups its user may hear."""

from collections import deque
from time import monotonic

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.consumer import get_handler_name

from accounts.selectors import realtime_groups


class EventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        self.groups_joined = await database_sync_to_async(realtime_groups)(user)
        # A user in two groups that both receive an event gets it once.
        self.recent_ids = deque(maxlen=256)
        await self._join_groups()
        await self.accept()
        await self.send_json({"event": "hello", "payload": {"user": user.pk}})

    async def dispatch(self, message):
        # Channels' own dispatch first runs close_old_connections() through sync_to_async, on the one
        # thread that also runs Django's sync views (the webhooks). event_message runs once per open
        # browser for every event, so a 50-agent fan-out queued 50 such hops in front of the next
        # webhook. No handler here touches the database except through database_sync_to_async, which
        # closes old connections itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":  # every 25 s from live.js
            await self._renew_groups()
            await self.send_json({"event": "pong", "payload": {}})

    async def _join_groups(self):
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined_at = monotonic()

    async def _renew_groups(self):
        """Memberships expire (the layer's group_expiry, CHANNELS_GROUP_EXPIRY), so that sockets of a
        server that died leave the groups soon; a live socket renews them on its pings. A browser that
        went silent for longer (a frozen tab) may have missed events: it is told to refetch."""
        expiry = self.channel_layer.group_expiry
        silent_for = monotonic() - self.groups_joined_at
        if silent_for < expiry / 5:
            return
        await self._join_groups()
        if silent_for >= expiry:
            await self.send_json({"event": "resync", "payload": {}})

    async def event_message(self, message):
        if message["id"] in self.recent_ids:
            return
        self.recent_ids.append(message["id"])
        await self.send(text_data=message["text"])
