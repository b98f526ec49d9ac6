"""Inbound media: fetch a message's file into our storage, and try again on request.

WhatsApp media ids expire after 7 days and RCS files after about 60, so files are fetched as soon as
the message arrives (the task inbox.download_attachment) and served to agents from our own storage.
An Attachment moves pending → downloading → ready / failed; every move is announced as a
`message.updated` so the thread shows "downloading…" and "failed — retry" live.
"""

import base64
import binascii
import hashlib
import mimetypes
import os

from django.core.files.base import ContentFile
from django.db.models import F
from django.utils.text import get_valid_filename

from core import filetypes
from core.errors import Conflict
from core.tasks import enqueue
from inbox import events
from inbox.models import Attachment
from inbox.providers import tata_whatsapp
from inbox.providers.tata_whatsapp import TataError

MAX_MEDIA_BYTES = 100 * 1024 * 1024  # WhatsApp's own ceiling (documents); larger files never arrive as media
INLINE_KINDS = ("image", "sticker", "video", "audio")  # shown in the thread, if their bytes are such media
AUTO_RETRY_DELAYS = [60, 300, 1800]  # seconds; media endpoints block after repeated errors, so back off
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/aac": ".aac",
    "audio/amr": ".amr",
    "video/mp4": ".mp4",
    "video/3gpp": ".3gp",
    "application/pdf": ".pdf",
}


class RetryLater(Exception):
    """A temporary failure; the task should run again after `countdown` seconds."""

    def __init__(self, countdown: int):
        super().__init__(countdown)
        self.countdown = countdown


def fetch_attachment(attachment_id: int, *, auto_retry: bool = False) -> Attachment | None:
    """Download one pending attachment. Returns None if it was not pending (another worker has it,
    or it is already stored). Raises RetryLater when `auto_retry` and the failure may clear by itself.
    """
    claimed = Attachment.objects.filter(pk=attachment_id, status=Attachment.Status.PENDING).update(
        status=Attachment.Status.DOWNLOADING, attempts=F("attempts") + 1, error=""
    )
    if not claimed:
        return None
    attachment = Attachment.objects.select_related("message__channel", "message__conversation").get(pk=attachment_id)
    events.message_updated(attachment.message)
    try:
        content, content_type = _download(attachment)
        _check_sha256(attachment, content)
    except TataError as exc:
        retry_in = _retry_delay(attachment) if auto_retry and exc.retryable else None
        if retry_in is not None:
            _settle(attachment, Attachment.Status.PENDING, f"{exc.message} — trying again in {retry_in // 60 or 1} min.")
            raise RetryLater(retry_in) from exc
        _settle(attachment, Attachment.Status.FAILED, exc.message)
        return attachment
    claimed = (attachment.mime_type or content_type or filetypes.OCTET_STREAM).split(";")[0].strip()
    # What the bytes are decides how the file is shown (inbox.views.attachment_file decides again when
    # serving). Documents the sniffer does not know (Office, text) keep the sender's name for their type.
    sniffed = filetypes.sniff(content[: filetypes.HEAD_BYTES])
    mime = sniffed if sniffed != filetypes.OCTET_STREAM or attachment.kind in INLINE_KINDS else claimed
    attachment.file.save(_file_name(attachment, mime), ContentFile(content), save=False)
    attachment.size = len(content)
    attachment.mime_type = mime[:100]
    attachment.status = Attachment.Status.READY
    attachment.error = ""
    attachment.save(update_fields=["file", "size", "mime_type", "status", "error"])
    events.message_updated(attachment.message)
    return attachment


def retry_attachment(attachment: Attachment) -> Attachment:
    """Queue a failed download again (the agent's "retry")."""
    if attachment.status == Attachment.Status.READY:
        raise Conflict("This file is already downloaded.")
    if attachment.status == Attachment.Status.DOWNLOADING:
        raise Conflict("This file is downloading right now.")
    Attachment.objects.filter(pk=attachment.pk).update(status=Attachment.Status.PENDING, error="")
    attachment.refresh_from_db()
    events.message_updated(attachment.message)
    enqueue("inbox.download_attachment", attachment.pk)
    return attachment


def _download(attachment: Attachment) -> tuple[bytes, str]:
    channel = attachment.message.channel
    if attachment.provider_media_id:
        link = tata_whatsapp.get_media_url(channel.api_base_url, channel.authorization, attachment.provider_media_id)
        url = link["url"]
        if link.get("mime_type") and not attachment.mime_type:
            attachment.mime_type = str(link["mime_type"])[:100]
    elif attachment.source_url:
        url = attachment.source_url
    else:
        raise TataError("The provider sent neither a media id nor a link for this file.", retryable=False)
    return tata_whatsapp.download_media(
        url, base_url=channel.api_base_url, authorization=channel.authorization, max_bytes=MAX_MEDIA_BYTES
    )


def _check_sha256(attachment: Attachment, content: bytes) -> None:
    """WhatsApp sends the file's SHA-256 (base64); a mismatch means a corrupt or wrong file."""
    expected = attachment.sha256.strip()
    if not expected:
        return
    digest = hashlib.sha256(content).digest()
    try:
        decoded = base64.b64decode(expected, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) == 32:
        matches = decoded == digest
    elif len(expected) == 64:
        matches = expected.lower() == digest.hex()
    else:
        return  # not a SHA-256 we can read: nothing to compare against
    if not matches:
        raise TataError("The downloaded file does not match the checksum WhatsApp sent.", retryable=True)


def _retry_delay(attachment: Attachment) -> int | None:
    index = attachment.attempts - 1
    return AUTO_RETRY_DELAYS[index] if index < len(AUTO_RETRY_DELAYS) else None


def _settle(attachment: Attachment, status: str, error: str) -> None:
    attachment.status, attachment.error = status, error[:2000]
    attachment.save(update_fields=["status", "error", "mime_type"])
    events.message_updated(attachment.message)


def _file_name(attachment: Attachment, mime: str) -> str:
    if attachment.file_name:
        return get_valid_filename(os.path.basename(attachment.file_name))[:150] or "file"
    extension = EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ""
    return f"{attachment.kind}-{attachment.pk}{extension}"
