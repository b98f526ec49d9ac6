"""publish(): the only way to reach browsers.

Payloads are built now (serialize now) and sent to Channels groups after the surrounding transaction
commits (send later), so a browser never hears of a row it cannot yet read, nor of one rolled back.
Group names come from accounts.selectors (user.<id>, team.<id>, staff).
"""

import json
import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone


logger = logging.getLogger(__name__)


def publish(event: str, payload: dict, groups) -> None:
    groups = sorted(set(groups))
    message = {
        "type": "event.message",
        "id": uuid.uuid4().hex,
        "event": event,
        "ts": timezone.now().isoformat(),
        # Round-trip through JSON now: a later change to the payload's objects cannot leak in.
        "payload": json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
    }
    transaction.on_commit(lambda: _send(message, groups), robust=True)


def _send(message: dict, groups: list[str]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:  # a dead Redis must not break the request that published
            logger.exception("publish %s to %s failed", message["event"], group)
