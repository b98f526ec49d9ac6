"""The Status URL Smartflo calls on every hangup: `/telephony/status/<token>/`, GET or POST.

The token picks the connection (Smartflo signs nothing; the URL is the secret). The request is stored
raw as an inbox WebhookEvent (source "smartflo": a GET's query string is its body) before anything
parses it, and the answer goes back at once; the inbox's drain applies it off the request
(telephony.ingest.apply_event), with the same replay and retry rules as WhatsApp webhooks.

- 200 for anything stored (even without a call id: it is kept, unprocessable, for replay)
- 400 for a POST that says it is JSON and is not (kept as unprocessable)
- 413 for a body over WEBHOOK_MAX_BODY_BYTES; 404 for an unknown token; 405 for other methods
"""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.kept_rows import KeptByToken
from core.request_limits import BodyTooLarge, read_body
from inbox.ingest import drain as inbox_ingest
from inbox.models import WebhookEvent
from inbox.webhooks import _answer, _headers
from telephony.ingest import METHOD_HEADER, QUERY_HEADER, SOURCE
from telephony.models import TelephonyConnection
from telephony.providers import smartflo


def _load_connection_id(token: str):
    return TelephonyConnection.objects.filter(status_token=token).values_list("pk", flat=True).first()


# A Status URL's connection id, kept per process as the inbox keeps a webhook's channel.
connections = KeptByToken(TelephonyConnection, _load_connection_id)
GONE = "No telephony connection has this Status URL."


@csrf_exempt
@require_http_methods(["GET", "POST"])
def status_webhook(request: HttpRequest, token: str) -> JsonResponse:
    connection_id, _ = connections.get(token)
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
            return _answer(400, str(exc), event=event.pk) if connections.insert(event, connection_id) else _answer(404, GONE)
    if not connections.insert(event, connection_id):
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
