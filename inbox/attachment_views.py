"""A conversation's files: served to whoever may see the conversation, and a failed download retried."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core import filetypes
from core.errors import ApplicationError
from inbox import selectors, services
from inbox.models import Attachment, Message


@require_GET
def attachment_file(request, pk):
    """A stored file, to someone who may see its conversation. The type comes from the file's bytes,
    not the sender's claim: images, audio and video show inline; anything else (SVG, HTML, PDF, Office…)
    is a download. The sandbox CSP keeps even a mis-sniffed file from running script in our origin."""
    visible = selectors.visible_conversations(request.user)
    attachment = get_object_or_404(Attachment.objects.filter(message__conversation__in=visible), pk=pk)
    if not attachment.file:
        raise Http404("This file has not been downloaded yet.")
    handle = attachment.file.open("rb")
    mime = filetypes.sniff_file(handle)
    inline = filetypes.is_inline_safe(mime) and request.GET.get("download") != "1"
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=attachment.file_name or attachment.file.name.rsplit("/", 1)[-1],
        content_type=mime,
    )
    return filetypes.harden_file_response(response)


@require_POST
def retry_attachment(request, pk):
    visible = selectors.visible_conversations(request.user)
    attachment = get_object_or_404(Attachment.objects.filter(message__conversation__in=visible).select_related("message"), pk=pk)
    error = ""
    try:
        services.retry_attachment(attachment, by=request.user)
    except ApplicationError as exc:
        error = exc.message
    if not request.htmx:
        return redirect("inbox:conversation", pk=attachment.message.conversation_id)
    message = Message.objects.select_related("conversation", "sender", "reply_to").get(pk=attachment.message_id)
    return render(request, "inbox/index.html#message", {"message": message, "conversation": message.conversation, "action_error": error})
