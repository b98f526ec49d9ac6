"""The fake Tata omni HTTP API under /sandbox/api/tata/…: the reference's paths and JSON.

Sampark's own client (inbox.providers.tata_whatsapp) talks to it exactly as it talks to Tata when a
channel's API base URL is `<this server>/sandbox/api/tata`. Callbacks go to the channel's webhook
path on the server that received the call.
"""

from functools import wraps

from django.conf import settings
from django.http import FileResponse, Http404, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.untrusted import NotJSON, loads_json
from core.filetypes import harden_file_response
from sandbox import omni
from sandbox.models import SandboxMedia, SandboxTemplate


def webhook_url_for(request, channel) -> str:
    """The channel's webhook on this very server (the sandbox lives in the app it calls back)."""
    return request.build_absolute_uri(reverse("webhooks:tata", args=[channel.webhook_token]))


def tata_api(view):
    """Sandbox on, caller authenticated by its access token, Tata-shaped errors."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.SANDBOX_ENABLED:
            raise Http404("The sandbox is off.")
        try:
            channel = omni.channel_for_authorization(request.headers.get("Authorization"))
            return view(request, channel, *args, **kwargs)
        except omni.SandboxError as exc:
            return JsonResponse(exc.body, status=exc.status)

    return wrapper


def _json_body(request):
    try:
        return loads_json(request.body or b"null")
    except NotJSON:
        raise omni.SandboxError(400, {"error": "INVALID_JSON", "meta": {}, "message": "Body is not JSON", "traceId": omni.trace_id()})


def _send(request, channel, accept):
    request_id, callbacks = accept(channel, _json_body(request), webhook_url=webhook_url_for(request, channel))
    if settings.SANDBOX_STATUS_CALLBACKS:
        omni.deliver_later(webhook_url_for(request, channel), channel.partner_token, callbacks)
    return JsonResponse({"id": request_id})


@tata_api
@require_http_methods(["POST"])
def whatsapp_messages(request, channel):
    return _send(request, channel, omni.accept_whatsapp_send)


@tata_api
@require_http_methods(["POST"])
def rcs_messages(request, channel):
    return _send(request, channel, omni.accept_rcs_send)


@tata_api
@require_http_methods(["POST"])
def media_upload(request, channel, handle=False):
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": "UPLOAD_MEDIA", "meta": {"message": "file is required"}, "message": "Can't upload media", "traceId": omni.trace_id()}, status=424)
    media = omni.store_media(channel, upload, by_business=True)
    return JsonResponse({"id": f"4::{media.media_id}" if handle else media.media_id})


def _media_or_424(channel, media_id: str, error: str, message: str) -> SandboxMedia:
    media = SandboxMedia.objects.filter(media_id=media_id).first()
    if media is None or (media.channel_id and media.channel_id != channel.pk):
        raise omni.SandboxError(424, {
            "error": error,
            "meta": {"message": f"Unsupported request. Object with ID '{media_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", "code": 100},
            "message": message, "traceId": omni.trace_id(),
        })
    return media


@tata_api
@require_http_methods(["GET"])
def media_download(request, channel, media_id):
    media = _media_or_424(channel, media_id, "GET_MEDIA_URL", "Can't retrieve media url")
    link = request.build_absolute_uri(reverse("sandbox:file", args=[omni.media_link_token(media)]))
    return JsonResponse({"url": link, "mime_type": media.mime_type})


@tata_api
@require_http_methods(["DELETE"])
def media_delete(request, channel, media_id):
    media = _media_or_424(channel, media_id, "DELETE_MEDIA", "Can't delete media")
    media.file.delete(save=False)
    media.delete()
    return JsonResponse({"success": True})


@tata_api
@require_http_methods(["GET", "POST"])
def templates(request, channel):
    if request.method == "POST":
        return JsonResponse({"id": omni.create_template(channel, _json_body(request)).template_id})
    items = [omni.template_json(t) for t in SandboxTemplate.objects.filter(channel=channel)]
    return JsonResponse({"data": items, "paging": {"cursors": {"before": "", "after": ""}}})


@tata_api
@require_http_methods(["GET"])
def template_insights(request, channel):
    ids = [i for i in request.GET.get("templateIDs", "").split(",") if i]
    if not ids or not request.GET.get("startDate") or not request.GET.get("endDate"):
        raise omni.SandboxError(400, {"message": "Bad Request Exception", "details": ["startDate, endDate and templateIDs are required"], "traceId": omni.trace_id()})
    points = [{"template_id": i, "start": 0, "end": 0, "sent": 0, "delivered": 0, "read": 0} for i in ids]
    return JsonResponse({"data": {"granularity": request.GET.get("granularity", "DAILY"), "data_points": points}, "paging": {"cursors": {}}})


@tata_api
@require_http_methods(["POST"])
def insights_optin(request, channel):
    return JsonResponse({"success": True})


@tata_api
@require_http_methods(["POST"])
def optin_optout(request, channel):
    body = _json_body(request)
    if not isinstance(body, dict) or body.get("type") not in ("optin", "optout") or not isinstance(body.get("recipient_numbers"), list):
        raise omni.SandboxError(400, {"error": "INVALID_REQUEST", "meta": {}, "message": "recipient_numbers (list) and type optin|optout are required", "traceId": omni.trace_id()})
    return JsonResponse({"success": True})


def media_file(request, token):
    """The short-lived download link media_download hands out (Tata's is a pre-signed S3 URL)."""
    if not settings.SANDBOX_ENABLED:
        raise Http404("The sandbox is off.")
    media = omni.media_for_link(token)
    if media is None:
        return JsonResponse({"message": "Request has expired"}, status=403)
    # The sender's claimed type, as S3 would answer; but on our origin, so never a page of ours.
    response = FileResponse(
        media.file.open("rb"), as_attachment=True, content_type=media.mime_type or "application/octet-stream", filename=media.file_name
    )
    return harden_file_response(response)
