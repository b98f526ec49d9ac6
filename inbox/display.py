"""What a message's bubble shows: `Message.display`, computed once at ingest by the provider's parser.

Rows stored without one (before the field existed, messages we sent, notes, activity lines) get theirs
from the same parsers, reading `content` as they would have at ingest. The bubble (templatetags/bubbles)
renders the result and never reads a provider's JSON itself.
"""

from inbox.models import Message
from inbox.providers import tata_rcs, tata_whatsapp


def display_of(message: Message) -> dict:
    if message.display:
        return message.display
    content = message.content if isinstance(message.content, dict) else {}
    if message.type == "activity":
        return {"kind": "activity"}
    if message.type == "call" and str(content.get("call", "")).isdigit():  # a missed call (telephony.followups)
        return {"kind": "call", "call": int(content["call"])}
    inbound = message.direction == Message.Direction.INBOUND
    return (inbound and tata_rcs.display(content, message.body)) or tata_whatsapp.display(message.type, content, message.body, inbound=inbound)
