"""Call recordings: fetched from the provider's expiring link into our storage by a worker, then
played in the browser from our copy (telephony.views.recording, access-checked).

`download()` is the one place that fetches a provider URL, through core.safe_http (public addresses
only, redirects re-checked, size and time caps; the connection's own API base is trusted).
"""

import logging
import mimetypes

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from core import safe_http
from core.tasks import enqueue, enqueue_later
from telephony import events
from telephony.models import Call

logger = logging.getLogger(__name__)

MAX_BYTES = 50 * 1024 * 1024
TIMEOUT = (5, 60)  # connect, read (seconds)
TOTAL_TIMEOUT = 300
RETRY_DELAYS = (60, 300, 1800)  # seconds: temporary failures are tried again three times
AUDIO_TYPES = {
    "audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav",
    "audio/ogg": ".ogg", "audio/mp4": ".m4a", "audio/x-m4a": ".m4a", "audio/aac": ".aac", "audio/webm": ".webm",
}


class FetchError(Exception):
    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.message, self.retryable = message, retryable


class RetryLater(Exception):
    def __init__(self, countdown: float):
        self.countdown = countdown


def download(url: str, *, trusted_origins: tuple[str, ...] = (), max_bytes: int = MAX_BYTES) -> tuple[bytes, str]:
    """GET `url` → (content, declared content type), through the safe fetcher: the link comes from a
    webhook or the call records, so only http(s) to public addresses (redirects re-checked), except the
    origins in `trusted_origins` (the connection's API base, which an admin configured)."""
    try:
        fetched = safe_http.fetch(url, max_bytes=max_bytes, connect_timeout=TIMEOUT[0], read_timeout=TIMEOUT[1],
                                  total_timeout=TOTAL_TIMEOUT, trusted_origins=trusted_origins)
    except safe_http.Refused as exc:
        raise FetchError(f"The recording link was refused: {exc.message}", retryable=False) from exc
    except safe_http.FetchError as exc:
        raise FetchError(f"Could not download the recording: {exc.message}", retryable=exc.retryable) from exc
    return fetched.content, fetched.content_type.lower()


def _trusted_origins(call: Call) -> tuple[str, ...]:
    return (call.connection.base_url,) if call.connection and call.connection.base_url else ()


def audio_type(content: bytes, declared: str) -> str:
    """The audio type we serve it as, from the bytes (declared types are not trusted); '' = not audio."""
    if content[:4] == b"RIFF" and content[8:12] == b"WAVE":
        return "audio/wav"
    if content[:3] == b"ID3" or (len(content) > 1 and content[0] == 0xFF and content[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if content[:4] == b"OggS":
        return "audio/ogg"
    if content[4:8] == b"ftyp":
        return "audio/mp4"
    if content[:4] == b"\x1a\x45\xdf\xa3":
        return "audio/webm"
    return ""


def fetch(call_id: int, *, attempt_retry: bool = True) -> Call:
    with transaction.atomic():
        call = Call.objects.select_for_update(of=("self",)).select_related("connection").get(pk=call_id)
        if call.recording_status == Call.Recording.READY or not call.recording_url:
            return call
        call.recording_status, call.recording_attempts = Call.Recording.DOWNLOADING, call.recording_attempts + 1
        call.save(update_fields=["recording_status", "recording_attempts", "updated_at"])
    url, attempts = call.recording_url, call.recording_attempts
    try:
        content, declared = download(url, trusted_origins=_trusted_origins(call))
        kind = audio_type(content, declared)
        if not kind:
            raise FetchError(f"The recording link did not return audio ({declared or 'no type'}).", retryable=False)
    except FetchError as exc:
        retry = exc.retryable and attempt_retry and attempts <= len(RETRY_DELAYS)
        Call.objects.filter(pk=call_id).update(
            recording_status=Call.Recording.PENDING if retry else Call.Recording.FAILED,
            recording_error=exc.message[:300], updated_at=timezone.now(),
        )
        logger.warning("recording of call %s: %s", call_id, exc.message)
        call.refresh_from_db()
        events.call_updated(call)
        if retry:
            raise RetryLater(RETRY_DELAYS[attempts - 1]) from exc
        return call
    extension = AUDIO_TYPES.get(kind) or mimetypes.guess_extension(kind) or ".bin"
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        call.recording.save(f"call-{call.pk}{extension}", ContentFile(content), save=False)
        call.recording_status, call.recording_error, call.recording_mime = Call.Recording.READY, "", kind
        call.save(update_fields=["recording", "recording_status", "recording_error", "recording_mime", "updated_at"])
        events.call_updated(call)
    return call


SWEEP_FLAG = "telephony:recording-sweep-queued"


def queue_sweep() -> None:
    """Queue one fetch_pending_recordings unless one is queued or running already."""
    from django.core.cache import cache

    if cache.add(SWEEP_FLAG, 1, timeout=600):
        enqueue("telephony.fetch_pending_recordings")


def fetch_pending(limit: int = 10_000) -> int:
    """Fetch every recording waiting for its first try, oldest call first; returns how many were tried."""
    from django.core.cache import cache

    done = 0
    try:
        while done < limit:
            call_id = (
                Call.objects.filter(recording_status=Call.Recording.PENDING, recording_attempts=0)
                .exclude(recording_url="").order_by("pk").values_list("pk", flat=True).first()
            )
            if call_id is None:
                return done
            try:
                fetch(call_id)
            except RetryLater as later:
                enqueue_later("telephony.fetch_recording", (call_id,), later.countdown)
            except Exception:  # one broken recording must not stop the others
                logger.exception("recording of call %s", call_id)
                Call.objects.filter(pk=call_id).update(recording_status=Call.Recording.FAILED, recording_attempts=1)
            done += 1
    finally:
        cache.delete(SWEEP_FLAG)
    return done


def retry(call: Call) -> None:
    Call.objects.filter(pk=call.pk).update(recording_status=Call.Recording.PENDING, recording_error="")
    enqueue("telephony.fetch_recording", call.pk)
