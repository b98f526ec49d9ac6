"""publish(): the only way to reach browsers.

Payloads are built now (serialize now) and sent to Channels groups after the surrounding transaction
commits (send later), so a browser never hears of a row it cannot yet read, nor of one rolled back.
Group names come from accounts.selectors (user.<id>, team.<id>, staff).

Sending from sync code: channels_redis keeps its connections per event loop, and `async_to_sync` in a
thread with no loop (a Celery worker, an in-process task) makes a fresh loop, so every publish would
connect to Redis anew. Publishes therefore run on one long-lived loop per process, whose connections
stay open; all of an event's groups go out together. The in-memory layer (embedded defaults) only
works on the server's own loop, so it keeps `async_to_sync`.
"""

import asyncio
import json
import logging
import threading
import uuid

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.channel_layer import GroupsRedisChannelLayer

logger = logging.getLogger(__name__)


def publish(event: str, payload: dict, groups) -> None:
    groups = sorted(set(groups))
    event_id = uuid.uuid4().hex
    # What the browser receives, serialized now: once, not once per open socket, and a later change
    # to the payload's objects cannot leak in.
    text = json.dumps({"id": event_id, "event": event, "ts": timezone.now().isoformat(), "payload": payload}, cls=DjangoJSONEncoder)
    message = {"type": "event.message", "id": event_id, "event": event, "text": text}
    transaction.on_commit(lambda: _send(message, groups), robust=True)


SEND_TIMEOUT_SECONDS = 5
_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _publisher_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="publish-loop", daemon=True).start()
        return _loop


async def _group_send_all(layer, message: dict, groups: list[str]) -> None:
    if isinstance(layer, GroupsRedisChannelLayer):  # production: all groups in two round trips
        await layer.group_send_many(groups, message)
        return
    results = await asyncio.gather(*(layer.group_send(group, message) for group in groups), return_exceptions=True)
    for group, result in zip(groups, results):
        if isinstance(result, Exception):
            logger.error("publish %s to %s failed: %r", message["event"], group, result)


def _send(message: dict, groups: list[str]) -> None:
    layer = get_channel_layer()
    if layer is None or not groups:
        return
    try:
        if isinstance(layer, InMemoryChannelLayer):
            async_to_sync(_group_send_all)(layer, message, groups)
        else:
            future = asyncio.run_coroutine_threadsafe(_group_send_all(layer, message, groups), _publisher_loop())
            future.result(timeout=SEND_TIMEOUT_SECONDS)
    except Exception:  # a dead Redis must not break the request that published
        logger.exception("publish %s failed", message["event"])
