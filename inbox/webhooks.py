"""The public endpoint Tata omni posts to: inbound messages, status callbacks, RCS events.

One URL per channel (`/webhooks/tata/<token>/`, shown in admin): the unguessable token picks the
channel, `x-hub-signature-256` proves the body came from Tata. The raw request is stored as a
WebhookEvent before anything parses it, and the answer goes back at once; ingest drains `received`
events in batches off the request (`inbox.ingest.drain.schedule_drain`: a Celery worker with a broker,
in-process otherwise). A worker that dies leaves events `received`; the periodic drain and
`manage.py replay_webhooks` apply them later. Answers, in the
provider's language:

- 200 for anything stored (even a shape we cannot read yet: it is kept for replay)
- 403 for a bad or missing signature (stored as `rejected`, only the first REJECTED_BODY_KEPT bytes:
  anyone can post there, and the error says how much was cut); a channel without a partner token
  refuses every post unless an admin ticked "accept unsigned posts"
- 400 for a body that is not JSON, nested too deep, or multipart (stored as `unprocessable`)
- 413 for a body over WEBHOOK_MAX_BODY_BYTES (not stored: we refuse to read it)
- 404 for a token no active channel has (a channel deactivated in another process: within
  CHANNEL_CACHE_SECONDS, see `_channel`)
"""

from typing import NamedTuple

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.kept_rows import KeptByToken
from core.request_limits import BodyTooLarge, read_body
from core.untrusted import NotJSON, clean_text, loads_json
from inbox.ingest.drain import schedule_drain
from inbox.models import Channel, WebhookEvent
from inbox.providers import tata_whatsapp

# Enough to debug a delivery; never cookies or credentials.
KEPT_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "X-Hub-Signature-256", "X-Forwarded-For", "X-Request-Id")


def _answer(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"detail": message, **extra}, status=status)


def _headers(request: HttpRequest) -> dict:
    return {name: clean_text(request.headers[name])[:500] for name in KEPT_HEADERS if name in request.headers}


# Enough of a refused post to see what it was (a misconfigured partner token, a probe); never megabytes
# from whoever found the URL.
REJECTED_BODY_KEPT = 4096


class _Channel(NamedTuple):
    pk: int
    kind: str
    partner_token: str
    accept_unsigned_posts: bool


def _load_channel(token: str) -> _Channel | None:
    row = (
        Channel.objects.filter(webhook_token=token, is_active=True)
        .values_list("pk", "kind", "partner_token", "accept_unsigned_posts")
        .first()
    )
    return _Channel(*row) if row else None


# A post the kept partner token refuses is checked against the stored channel before it is refused, so
# a token rotated in another process is seen at once; other changes within the cache's seconds.
channels = KeptByToken(Channel, _load_channel)

GONE = "No active channel has this webhook URL."


def _refusal(channel: _Channel, body: bytes, signature: str | None) -> str:
    """Why this post is refused ("" when its signature holds, or the channel accepts unsigned posts)."""
    if channel.partner_token:
        if tata_whatsapp.signature_matches(body, channel.partner_token, signature):
            return ""
        return "Missing x-hub-signature-256 header." if not signature else "Signature does not match the partner token."
    return "" if channel.accept_unsigned_posts else "This channel has no partner token to check signatures with; posts are refused."


@csrf_exempt
@require_POST
def tata_webhook(request: HttpRequest, token: str) -> JsonResponse:
    channel, kept = channels.get(token)
    if channel is None:
        return _answer(404, GONE)
    try:
        body = read_body(request, settings.WEBHOOK_MAX_BODY_BYTES)
    except BodyTooLarge as exc:
        return _answer(413, str(exc))

    signature = request.headers.get(tata_whatsapp.SIGNATURE_HEADER)
    refusal = _refusal(channel, body, signature)
    if refusal and kept:  # the token may have been rotated (or the channel changed) in another process
        channel, _ = channels.get(token, fresh=True)
        if channel is None:
            return _answer(404, GONE)
        refusal = _refusal(channel, body, signature)
    event = WebhookEvent(source=f"tata_{channel.kind}", channel_id=channel.pk, headers=_headers(request), body=body)
    if refusal:
        event.status = WebhookEvent.Status.REJECTED
        event.error = refusal
        answer = event.error
        if len(body) > REJECTED_BODY_KEPT:
            event.body = body[:REJECTED_BODY_KEPT]
            event.error += f" Only the first {REJECTED_BODY_KEPT} of {len(body)} bytes are kept."
        event.processed_at = timezone.now()
        return _answer(403, answer) if channels.insert(event, channel.pk) else _answer(404, GONE)
    try:
        loads_json(body)
    except NotJSON as exc:
        event.status = WebhookEvent.Status.UNPROCESSABLE
        event.error = f"The body is not JSON: {exc}."
        event.processed_at = timezone.now()
        return _answer(400, event.error, event=event.pk) if channels.insert(event, channel.pk) else _answer(404, GONE)

    if not channels.insert(event, channel.pk):
        return _answer(404, GONE)
    schedule_drain()
    return _answer(200, "stored", event=event.pk)


@csrf_exempt
@require_POST
def bench_bare_insert(request: HttpRequest) -> JsonResponse:
    """The benchmark's ceiling: the least a Django view can do with a webhook (insert the raw body).
    Mounted only with BENCH_ENDPOINTS=true; bench/ingest.py compares the real endpoint against it."""
    event = WebhookEvent.objects.create(source="bench", headers={}, body=request.body, status=WebhookEvent.Status.IGNORED)
    return _answer(200, "stored", event=event.pk)
