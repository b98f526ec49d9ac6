"""The URL Smartflo calls for each API Dialplan: /dialplan/<token>/ (GET or POST).

Public and CSRF-exempt by necessity: the unguessable token (and the optional custom header) is the
authentication. Thin: the service answers; this view only reads the HTTP request. It never answers 5xx
or anything but JSON: a caller is waiting on the line.
"""

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from core.request_limits import BodyTooLarge, read_body
from dialplan import services

logger = logging.getLogger(__name__)


@csrf_exempt
def answer(request, token):
    method = request.method
    if method not in ("GET", "POST"):
        reply = services.reject(token, method=method, status=405, error=f"{method} is not allowed; use GET or POST")
        response = _response(reply)
        response["Allow"] = "GET, POST"
        return response
    limit = settings.DIALPLAN_MAX_BODY_BYTES
    try:
        body = read_body(request, limit)
    except BodyTooLarge:
        return _response(services.reject(token, method=method, status=413, error=f"body over {limit} bytes"))
    if method != "POST":
        body = b""  # Smartflo's GET carries its variables in the query string only
    try:
        reply = services.answer_request(
            token,
            method=method,
            query=request.GET.dict(),
            body=body,
            content_type=request.content_type or "",
            meta=request.META,
        )
    except Exception:  # answer_request does not raise; this is the last line of defence
        logger.exception("dialplan %s: unexpected failure", token[:6])
        return HttpResponse(b"[]", content_type="application/json")
    return _response(reply)


def _response(reply: services.Reply) -> HttpResponse:
    return HttpResponse(reply.body, status=reply.status, content_type="application/json")


def bench_bare(request):
    """The baseline for bench/dialplan.py: Django's own cost of answering JSON (BENCH_ENDPOINTS only)."""
    return JsonResponse([{"transfer": {"type": "number", "data": ["9812345678"]}}], safe=False)

