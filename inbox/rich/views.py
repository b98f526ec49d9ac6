"""Thin views of the rich RCS composer: send, check, snippets, card media. JSON in and out (the builder
is static/js/rcs-composer.js); refusals are 422 {"error": "…"} in words the agent can act on."""

from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from core import filetypes
from core.errors import ApplicationError, NotAllowed
from core.untrusted import loads_json
from inbox.rich import service
from inbox.selectors import visible_conversations

MAX_SPEC_BYTES = 64 * 1024


def _spec(request):
    raw = request.POST.get("spec", "")
    if len(raw) > MAX_SPEC_BYTES:
        raise ApplicationError("The rich message is too large to read.")
    try:
        return loads_json(raw)
    except ValueError:
        raise ApplicationError("The rich message could not be read; build it again.") from None


def _refused(exc: ApplicationError) -> JsonResponse:
    status = 404 if exc.code == "not_found" else 403 if isinstance(exc, NotAllowed) else 422
    return JsonResponse({"error": exc.message}, status=status)


@require_POST
def send(request, pk):
    conversation = get_object_or_404(visible_conversations(request.user).select_related("channel", "contact"), pk=pk)
    try:
        message = service.send_rich(conversation, by=request.user, spec=_spec(request))
    except ApplicationError as exc:
        return _refused(exc)
    return JsonResponse({"message": message.pk, "status": message.status})


@require_POST
def check(request):
    """The builder asks before it offers Send: is this message within every limit?"""
    try:
        service.check_spec(_spec(request))
    except ApplicationError as exc:
        return _refused(exc)
    return JsonResponse({"ok": True})


def _snippet_json(snippet, user) -> dict:
    mine = snippet.owner_id == user.pk
    return {"id": snippet.pk, "name": snippet.name, "shared": snippet.shared, "spec": snippet.spec,
            "deletable": mine or (snippet.shared and user.is_admin_role)}


def snippets(request):
    """GET: the shared snippets and the agent's own. POST {name, spec, shared}: save one."""
    if request.method == "POST":
        try:
            snippet = service.save_snippet(request.user, name=request.POST.get("name", ""), spec=_spec(request), shared=request.POST.get("shared") == "1")
        except ApplicationError as exc:
            return _refused(exc)
        return JsonResponse(_snippet_json(snippet, request.user))
    if request.method != "GET":
        return JsonResponse({"error": "GET or POST"}, status=405)
    return JsonResponse({"snippets": [_snippet_json(s, request.user) for s in service.snippets_for(request.user)]})


@require_POST
def snippet_delete(request, pk):
    try:
        service.delete_snippet(request.user, service.snippet_for(request.user, pk))
    except ApplicationError as exc:
        return _refused(exc)
    return JsonResponse({"deleted": pk})


@require_POST
def media_upload(request):
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": "Choose an image or a video."}, status=422)
    try:
        media = service.store_media(request.user, upload)
    except ApplicationError as exc:
        return _refused(exc)
    return JsonResponse({"url": media.media_url})


@require_GET
def media_file(request, token):
    """Public: Tata's RCS platform fetches a card's media from here (the token is the secret)."""
    media = service.media_by_token(token)
    if media is None or not media.file:
        raise Http404("No such media.")
    handle = media.file.open("rb")
    response = FileResponse(handle, content_type=filetypes.sniff_file(handle))
    return filetypes.harden_file_response(response)
