"""A stored webhook event's body → the provider's typed records (inbox.providers.payloads).

The one place an event's bytes are decoded; the provider modules read the JSON.
"""

from core.untrusted import NotJSON, loads_json
from inbox.models import WebhookEvent
from inbox.providers import tata_rcs, tata_whatsapp
from inbox.providers.payloads import Unprocessable


# Parts of a WhatsApp payload another app reads and applies (imports.coexistence: Meta's history, the
# owner's echoes, the phone's contacts), registered from its AppConfig.ready(): each is called with
# (event, payload) and returns (its records, the rest of the payload or None when nothing is left).
# Their records' appliers are registered in inbox.ingest.apply.APPLIERS and run before the others.
PAYLOAD_SPLITTERS: list = []


def records_of(event: WebhookEvent) -> list:
    """Raises Unprocessable for a body we cannot use (not JSON, not an object, an unknown shape)."""
    payload = parse_body(bytes(event.body))
    if tata_rcs.is_rcs_payload(payload):
        return tata_rcs.parse_webhook(payload)
    records = []
    for split in PAYLOAD_SPLITTERS:
        found, payload = split(event, payload)
        records += found
        if payload is None:
            return records
    records += tata_whatsapp.parse_webhook(payload)
    if not records:
        raise Unprocessable(
            "Not a shape we know: no messages, statuses or calls (WhatsApp) and no entity (RCS). "
            f"Top-level keys: {', '.join(sorted(payload)) or 'none'}."
        )
    return records


def parse_body(body: bytes) -> dict:
    """The stored body as a dict whose strings are all storable (core.untrusted)."""
    try:
        payload = loads_json(body)
    except NotJSON as exc:
        raise Unprocessable(f"The body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise Unprocessable(f"The body is JSON but not an object ({type(payload).__name__}).")
    return payload
