"""The Status URL Smartflo calls on every hangup: `/telephony/status/<token>/`, GET or POST.

The token picks the connection (Smartflo signs nothing; the URL is the secret). The request is stored
raw as an inbox WebhookEvent (source "smartflo": a GET's query string is its body) before anything
parses it, and the answer goes back at once; the inbox's drain applies it off the request
(telephony.ingest.apply_event), with the same replay and retry rules as WhatsApp webhooks.

- 200 for anything stored (even without a call id: it is kept, unprocessable, for replay)
- 400 for a POST that says it is JSON and is not (kept as unprocessable)
- 413 for a body over WEBHOOK_MAX_BODY_BYTES; 404 for an unknown token; 405 for other methods
"""

from time import monotonic

from django.conf import settings
from django.db import IntegrityError
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.request_limits import BodyTooLarge, read_body
from inbox.ingest import drain as inbox_ingest
from inbox.models import WebhookEvent
from inbox.webhooks import _answer, _headers
from telephony.ingest import METHOD_HEADER, QUERY_HEADER, SOURCE
from telephony.models import TelephonyConnection
from telephony.providers import smartflo


# The connection of a Status URL, kept per process as the inbox keeps a webhook's channel
# (inbox.webhooks._channel): a connection deleted in another process is seen within CONNECTION_CACHE_SECONDS,
# and its deliveries meanwhile answer 404 (the insert finds it gone). A Status URL never changes.
CONNECTION_CACHE_SECONDS = 10.0
_connections: dict[str, tuple[float, object]] = {}
GONE = "No telephony connection has this Status URL."


def _connection_id(token: str):
    kept = _connections.get(token)
    if kept is not None and kept[0] > monotonic():
        return kept[1]
    connection_id = TelephonyConnection.objects.filter(status_token=token).values_list("pk", flat=True).first()
    if connection_id is None:
        _connections.pop(token, None)
    else:
        _connections[token] = (monotonic() + CONNECTION_CACHE_SECONDS, connection_id)
    return connection_id


@receiver([post_save, post_delete], sender=TelephonyConnection)
def _forget_connections(**kwargs) -> None:
    _connections.clear()


def _insert(event: WebhookEvent) -> bool:
    """Store the event; False when its connection is gone (deleted by another process while kept here)."""
    try:
        event.save(force_insert=True)
    except IntegrityError:
        if TelephonyConnection.objects.filter(pk=event.connection_id).exists():
            raise
        _connections.clear()
        return False
    return True


@csrf_exempt
@require_http_methods(["GET", "POST"])
def status_webhook(request: HttpRequest, token: str) -> JsonResponse:
    connection_id = _connection_id(token)
    if connection_id is None:
        return _answer(404, GONE)
    try:
        body = read_body(request, settings.WEBHOOK_MAX_BODY_BYTES)
    except BodyTooLarge as exc:
        return _answer(413, str(exc))
    query = request.META.get("QUERY_STRING", "")
    headers = {**_headers(request), METHOD_HEADER: request.method}
    if request.method == "GET":
        body = query.encode("utf-8", errors="replace")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif query:
        headers[QUERY_HEADER] = query[:4000]
    event = WebhookEvent(source=SOURCE, connection_id=connection_id, headers=headers, body=body)
    if request.method == "POST" and "json" in headers.get("Content-Type", "").lower():
        try:
            smartflo.webhook_variables(body, headers["Content-Type"])
        except ValueError as exc:
            event.status, event.error, event.processed_at = WebhookEvent.Status.UNPROCESSABLE, str(exc), timezone.now()
            return _answer(400, str(exc), event=event.pk) if _insert(event) else _answer(404, GONE)
    if not _insert(event):
        return _answer(404, GONE)
    inbox_ingest.schedule_drain()
    return _answer(200, "stored", event=event.pk)


IDENTIFIER_NAMES = ("custom_identifier", "$custom_identifier", "customIdentifier", "call")


@csrf_exempt
@require_http_methods(["GET"])
def voice_stream_target(request: HttpRequest, token: str, telephony_id: str) -> JsonResponse:
    """The Outbound Voice URL (Smartflo's dynamic, GET Voice Streaming endpoint): asked per call where
    to stream it, answers the WebSocket URL (telephony.streaming), carrying our custom_identifier when
    Smartflo passes it, so the stream's `start` finds its call even without custom parameters."""
    from telephony.automated import stream_url

    connection = TelephonyConnection.objects.filter(status_token=token).first()
    if connection is None:
        return _answer(404, "No telephony connection has this Outbound Voice URL.")
    identifier = next((request.GET[name] for name in IDENTIFIER_NAMES if request.GET.get(name)), "")[:128]
    url = stream_url(connection, identifier)
    return JsonResponse({"success": True, "url": url, "stream_url": url})
