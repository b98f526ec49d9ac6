"""The one websocket: an authenticated browser hears the groups its user may hear.

Events reach it through the process's relay (core.relay), not a channel of its own.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.selectors import realtime_groups
from core.relay import process_relay
from core.untrusted import NotJSON, loads_json


class EventsConsumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = None  # no channel and receive loop per socket: the relay delivers

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        self.groups_joined = await database_sync_to_async(realtime_groups)(user)
        await self.accept()
        self.relay = process_relay()
        await self.relay.join(self, self.groups_joined)
        await self.send_json({"event": "hello", "payload": {"user": user.pk}})  # from now on it hears its groups

    async def disconnect(self, code):
        if hasattr(self, "relay"):
            await self.relay.leave(self, self.groups_joined)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Frames come from live.js; anything else (binary, not JSON, not an object, nested too deep) is
        answered with an error frame and the socket stays open (it used to close with 1011)."""
        try:
            content = loads_json(text_data) if text_data else None
        except NotJSON:
            content = None
        if not isinstance(content, dict):
            await self.send_json({"event": "error", "payload": {"detail": 'Frames are JSON objects, e.g. {"type": "ping"}.'}})
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":  # every 25 s from live.js
            if hasattr(self, "relay"):
                await self.relay.renew()
            await self.send_json({"event": "pong", "payload": {}})
