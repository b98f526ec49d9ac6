"""Sending rich RCS messages, saved rich snippets, and the media a card shows.

A rich message is stored as `type="rich"` with the reference's `content` object (built and checked by
tata_rcs), so delivery, retries, ticks and exactly-once are the outbound pipeline's, unchanged.
"""

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from accounts.models import User
from core import filetypes
from core.errors import ApplicationError, NotAllowed
from inbox.outbound import send
from inbox.models import Channel, Conversation, Message
from inbox.providers import tata_rcs
from inbox.rich import spec as specs
from inbox.rich.models import RichMedia, RichSnippet

RICH_TYPE = "rich"
MB = 1024 * 1024
# What a card may show: the image and video formats RCS phones display; sizes kept small enough for
# a phone on a poor network (Google RBM accepts up to 100 MB, which no customer waits for).
CARD_MEDIA = {"image/jpeg": 2 * MB, "image/png": 2 * MB, "image/gif": 2 * MB, "video/mp4": 10 * MB}
SNIPPET_NAME_MAX = 100


# ---------------------------------------------------------------- sending


def can_send_rich(conversation: Conversation) -> str:
    """Why this conversation cannot take a rich message ("" when it can)."""
    channel = conversation.channel
    if channel.kind != Channel.Kind.RCS:
        return "Cards, carousels and suggestions are RCS messages; this is a WhatsApp number."
    if not channel.is_active:
        return f"The number {channel.name} is switched off; nothing can be sent from it."
    if not channel.access_token:
        return f"The number {channel.name} has no RCS access token yet; an admin adds it under Channels."
    return ""


def send_rich(conversation: Conversation, *, by: User | None, spec, source: str | None = None) -> Message:
    """Queue the builder's message on an RCS conversation (ApplicationError naming the limit it breaks)."""
    reason = can_send_rich(conversation)
    if reason:
        raise ApplicationError(reason, code="rcs_unavailable")
    message = specs.to_message(spec)
    return send.send_rcs(conversation, by=by, message=message, type=RICH_TYPE, body=specs.summary(spec, message), source=source)


# ---------------------------------------------------------------- snippets


def snippets_for(user: User) -> QuerySet[RichSnippet]:
    """The shared snippets and the user's own."""
    return RichSnippet.objects.filter(Q(owner__isnull=True) | Q(owner=user)).order_by("owner_id", "name")


def save_snippet(user: User, *, name: str, spec, shared: bool = False) -> RichSnippet:
    """Store a rich message for reuse. Only admins share one team-wide; it is checked like a send."""
    name = (name or "").strip()
    if not name or len(name) > SNIPPET_NAME_MAX:
        raise ApplicationError(f"Name the snippet (up to {SNIPPET_NAME_MAX} characters).")
    if shared and not user.is_admin_role:
        raise NotAllowed("Only admins share snippets with everyone; save it as your own.")
    specs.to_message(spec)  # a snippet that could never be sent is refused now, with the reason
    owner = None if shared else user
    try:
        with transaction.atomic():
            snippet, _ = RichSnippet.objects.update_or_create(name=name, owner=owner, defaults={"spec": spec, "created_by": user})
    except IntegrityError:  # two saves of the same name at once: the other one won
        snippet = RichSnippet.objects.get(name=name, owner=owner)
    return snippet


def snippet_for(user: User, pk: int) -> RichSnippet:
    snippet = snippets_for(user).filter(pk=pk).first()
    if snippet is None:
        raise NotAllowed("No such snippet.", code="not_found")
    return snippet


def delete_snippet(user: User, snippet: RichSnippet) -> None:
    if snippet.owner_id != user.pk and not (snippet.shared and user.is_admin_role):
        raise NotAllowed("Only an admin deletes a shared snippet, and only its owner a personal one.")
    snippet.delete()


# ---------------------------------------------------------------- card media


def store_media(user: User, upload) -> RichMedia:
    """Keep an uploaded image or video for a card; its public link goes into the message."""
    mime = filetypes.sniff_file(upload)
    limit = CARD_MEDIA.get(mime)
    if limit is None:
        raise ApplicationError("A card shows a JPEG, PNG or GIF image, or an MP4 video.", code="media_type")
    if upload.size > limit:
        raise ApplicationError(f"{upload.name} is {upload.size / MB:.1f} MB; card {mime.split('/')[0]}s are at most {limit // MB} MB.", code="media_too_large")
    media = RichMedia(mime_type=mime, size=upload.size, uploaded_by=user)
    media.file.save(upload.name, upload, save=False)
    media.save()
    return media


def media_by_token(token: str) -> RichMedia | None:
    return RichMedia.objects.filter(token=token).first() if token and len(token) <= 64 else None


def check_spec(spec) -> tata_rcs.RcsMessage:
    """The builder's check before a send or a save (the live preview asks it too)."""
    return specs.to_message(spec)
