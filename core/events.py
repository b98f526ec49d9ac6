"""publish(): the only way to reach browsers.

Payloads are built now (serialize now) and sent to Channels groups after the surrounding transaction
commits (send later), so a browser never hears of a row it cannot yet read, nor of one rolled back.
Group names come from accounts.selectors (user.<id>, team.<id>, staff).

Publishing happens in sync code (views, Celery tasks). With Redis (production) the layer sends from
that thread on a blocking client (`GroupsRedisChannelLayer.group_send_many`), all of an event's groups
together. The in-memory layer (embedded defaults) only works on the server's own loop, so it goes
through `async_to_sync`. Inside `sent_together()` (a drain's batch) committed events wait for the block
to end and go out in one `send_many`.
"""

import asyncio
import json
import logging
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
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
    # `groups` tells each server process's relay (core.relay) which of its sockets to hand it to.
    message = {"type": "event.message", "id": event_id, "event": event, "text": text, "groups": groups}
    transaction.on_commit(lambda: _send(message), robust=True)


async def _group_send_all(layer, message: dict, groups: list[str]) -> None:
    results = await asyncio.gather(*(layer.group_send(group, message) for group in groups), return_exceptions=True)
    for group, result in zip(groups, results):
        if isinstance(result, Exception):
            logger.error("publish %s to %s failed: %r", message["event"], group, result)


_held: ContextVar[list | None] = ContextVar("events_held", default=None)


@contextmanager
def sent_together():
    """Events whose transactions commit inside this block are sent when it ends, all together: two
    Redis round trips for a drain's batch instead of two per event. (A rolled-back event never
    committed, so it is not among them.)"""
    if _held.get() is not None:
        yield
        return
    token = _held.set([])
    try:
        yield
    finally:
        held = _held.get()
        _held.reset(token)
        _send_all(held)


def _send_all(messages: list[dict]) -> None:
    messages = [message for message in messages if message["groups"]]
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    if not isinstance(layer, GroupsRedisChannelLayer):
        for message in messages:
            _send(message)
        return
    try:
        layer.send_many([(message["groups"], message) for message in messages])
    except Exception:  # a dead Redis must not break the drain that published
        logger.exception("publish of %s events failed", len(messages))


def _send(message: dict) -> None:
    held = _held.get()
    if held is not None:
        held.append(message)
        return
    groups = message["groups"]
    layer = get_channel_layer()
    if layer is None or not groups:
        return
    try:
        if isinstance(layer, GroupsRedisChannelLayer):
            layer.group_send_many(groups, message)
        else:
            async_to_sync(_group_send_all)(layer, message, groups)
    except Exception:  # a dead Redis must not break the request that published
        logger.exception("publish %s failed", message["event"])


MEMBERSHIP_CHANGED = "membership.changed"


def membership_changed(user_ids) -> None:
    """Tell these users' open sockets to work out their groups again (a team, role or account changed):
    core.relay hands the message to the consumer, which rejoins what the user may hear now."""
    user_ids = sorted(set(user_ids))
    if not user_ids:
        return
    from accounts.selectors import user_group  # accounts builds on core: imported when used

    event_id = uuid.uuid4().hex
    text = json.dumps({"id": event_id, "event": "resync", "ts": timezone.now().isoformat(), "payload": {}})
    message = {
        "type": "event.message", "id": event_id, "event": MEMBERSHIP_CHANGED, "text": text,
        "groups": [user_group(pk) for pk in user_ids], "recheck_groups": True,
    }
    transaction.on_commit(lambda: _send(message), robust=True)
