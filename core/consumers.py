"""The one websocket: an authenticated browser hears the groups its user may hear.

Events reach it through the process's relay (core.relay), not a channel of its own. The groups are
worked out again when the user's teams, role or account change (core.events.membership_changed, sent
by accounts.signals), and on a ping at most every RECHECK_SECONDS, should that message be lost: a
removed agent stops hearing a team within moments, and a deactivated one is disconnected.
"""

from time import monotonic

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.models import User
from accounts.selectors import realtime_groups
from core.relay import process_relay
from core.untrusted import NotJSON, loads_json

RECHECK_SECONDS = 60


def _current_groups(user_id: int) -> list[str] | None:
    """The groups of the user as the database has them now; None if they may no longer sign in."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    return realtime_groups(user) if user is not None else None


class EventsConsumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = None  # no channel and receive loop per socket: the relay delivers

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        self.user_id = user.pk
        self.groups_joined = await database_sync_to_async(realtime_groups)(user)
        self.checked_at = monotonic()
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

    async def recheck_groups(self) -> None:
        """Join the groups the user may hear now and leave the others; a removed user is disconnected.
        The browser is told to resync, so its list drops (or gains) what changed."""
        if not hasattr(self, "relay"):
            return
        self.checked_at = monotonic()
        groups = await database_sync_to_async(_current_groups)(self.user_id)
        if groups is None:
            await self.relay.leave(self, self.groups_joined)
            self.groups_joined = []
            await self.close(code=4401)
            return
        left, joined = set(self.groups_joined) - set(groups), set(groups) - set(self.groups_joined)
        if not left and not joined:
            return
        await self.relay.leave(self, left)
        await self.relay.join(self, joined)
        self.groups_joined = groups
        await self.send_json({"event": "resync", "payload": {}})

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":  # every 25 s from live.js
            if hasattr(self, "relay"):
                await self.relay.renew()
                if monotonic() - self.checked_at >= RECHECK_SECONDS:
                    await self.recheck_groups()
            await self.send_json({"event": "pong", "payload": {}})
