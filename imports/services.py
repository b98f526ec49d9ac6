"""Bring a business's earlier messages into the inbox from files it exported by hand.

A job goes: upload (the file is kept and scanned once) → answers (which participant is the business,
which number, the contact's phone, the date order when the file cannot tell) → run (a Celery task
reads the file again, in batches). Imported messages keep their original times and directions and
are marked Source.IMPORT. They change nothing else in the inbox: no unread count, no assignment, no
message.created event, no last-activity time (the list never jumps to an old conversation) and no
24-hour window (`last_inbound_at` is left alone, so an old inbound message never lets an agent send
free text; a template is always possible).

Dedupe: every imported row carries `import_key`, a hash of (contact, minute, direction, text),
unique per number, so the same file imported twice adds nothing; a batch is also compared with the
live rows of the same conversation in its time range, so a message that arrived by webhook and is in
the export is kept once.
"""

import contextlib
import dataclasses
import datetime
import hashlib
import io
import logging
import mimetypes
import os
import zipfile
import zoneinfo
from collections.abc import Callable, Iterator

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_group
from contacts.services import find_or_create_by_phone
from core import events, phones
from core.errors import ApplicationError, NotAllowed
from core.tasks import enqueue
from imports import whatsapp_export as wa
from imports.models import ImportFailure, ImportJob
from imports.selectors import can_import_history
from inbox.models import Attachment, Channel, Message
from inbox.services import conversation_for

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
MAX_UPLOAD = 1024 * 1024 * 1024  # the zip of a long chat with its photos
MAX_MEDIA_FILE = 100 * 1024 * 1024  # WhatsApp's own limit for documents
MAX_TEXT_SIZE = 2 * 1024 * 1024 * 1024  # a chat text larger than this (uncompressed) is not an export


# ---------------------------------------------------------------- reading the upload


class ExportFile:
    """The uploaded .txt, or the .zip holding the chat's .txt and its media files."""

    def __init__(self, fileobj):
        self._fileobj = fileobj
        self._zip: zipfile.ZipFile | None = None
        self._media: dict[str, zipfile.ZipInfo] = {}
        self._text_member: zipfile.ZipInfo | None = None
        if zipfile.is_zipfile(fileobj):
            fileobj.seek(0)
            self._zip = zipfile.ZipFile(fileobj)
            texts = [info for info in self._zip.infolist() if info.filename.lower().endswith(".txt") and not info.is_dir()]
            if not texts:
                raise ApplicationError("This zip holds no chat (.txt file). Upload the zip WhatsApp's “Export chat” made.")
            # iOS names it _chat.txt; Android "WhatsApp Chat with …txt". Media files may also be .txt.
            chats = [t for t in texts if os.path.basename(t.filename) == "_chat.txt" or "chat" in t.filename.lower()]
            self._text_member = (chats or texts)[0]
            if self._text_member.file_size > MAX_TEXT_SIZE:
                raise ApplicationError("The chat text in this zip is too large to be a WhatsApp export.")
            self._media = {
                os.path.basename(info.filename): info for info in self._zip.infolist() if info is not self._text_member and not info.is_dir()
            }
        fileobj.seek(0)

    @property
    def has_media(self) -> bool:
        return bool(self._media)

    @contextlib.contextmanager
    def lines(self) -> Iterator[Iterator[str]]:
        raw = self._zip.open(self._text_member) if self._zip else self._fileobj
        if not self._zip:
            raw.seek(0)
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline=None)
        try:
            yield iter(text)
        finally:
            text.detach()
            if self._zip:
                raw.close()

    def media(self, name: str) -> bytes | None:
        """The bytes of a media file the chat names, if the zip has it (and it is of a sane size)."""
        info = self._media.get(os.path.basename(name))
        if info is None or info.file_size > MAX_MEDIA_FILE:
            return None
        with self._zip.open(info) as member:
            content = member.read(MAX_MEDIA_FILE + 1)
        return content if len(content) <= MAX_MEDIA_FILE else None


# ---------------------------------------------------------------- the job's life


def create_whatsapp_job(*, by: User, upload) -> ImportJob:
    """Keep the upload and scan it once: who wrote, and whether the dates are day- or month-first."""
    if not can_import_history(by):
        raise NotAllowed("Only supervisors and admins can import message history.")
    name = os.path.basename(upload.name or "export.txt")[:255]
    if not name.lower().endswith((".txt", ".zip")):
        raise ApplicationError("Upload the .txt or .zip file WhatsApp's “Export chat” made.")
    if upload.size > MAX_UPLOAD:
        raise ApplicationError(f"That file is larger than {MAX_UPLOAD // 1024 // 1024} MB.")
    try:
        export = ExportFile(upload)
        with export.lines() as lines:
            scan = wa.scan(lines)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ApplicationError(f"That file could not be read: {exc}") from exc
    if not scan.senders:
        raise ApplicationError("No WhatsApp messages were found in that file. Is it a chat export?")
    upload.seek(0)
    job = ImportJob(created_by=by, file_name=name, kind=ImportJob.Kind.WHATSAPP_EXPORT)
    job.scan = {
        "date_order": scan.date_order,
        "senders": [[sender, count] for sender, count in scan.senders.most_common()],
        "lines": scan.lines,
        "has_media": export.has_media,
    }
    job.date_order = scan.date_order or ""
    job.file.save(name, upload, save=False)
    job.save()
    return job


@dataclasses.dataclass
class Answers:
    channel: Channel
    business_sender: str
    contact_phone: str = ""
    date_order: str = ""
    time_zone: str = ""


def senders(job: ImportJob) -> list[str]:
    return [name for name, _ in job.scan.get("senders", [])]


def other_participant(job: ImportJob, business_sender: str) -> str | None:
    others = [name for name in senders(job) if name != business_sender]
    return others[0] if len(others) == 1 else None


def start(job: ImportJob, answers: Answers, *, by: User, run_now: bool = False) -> ImportJob:
    """Check the answers, find or create the contact, and queue the import (or leave it for the
    caller to run, as the management command does)."""
    _check_owner(job, by)
    if job.status != ImportJob.Status.NEEDS_ANSWERS:
        raise ApplicationError("This import has already started.")
    if answers.business_sender not in senders(job):
        raise ApplicationError("Choose which participant is the business.")
    other = [name for name in senders(job) if name != answers.business_sender]
    if len(other) != 1:
        raise ApplicationError(
            "Only one-to-one chats can be imported: this export has "
            f"{len(other) + 1} people writing ({', '.join(senders(job)[:5])}…)."
        )
    customer = other[0]
    raw_phone = answers.contact_phone.strip() or customer
    number = phones.try_e164(raw_phone)
    if number is None:
        raise ApplicationError(f"The export shows “{customer}” without a number. Type their phone number.")
    order = job.scan.get("date_order") or answers.date_order
    if order not in (wa.DMY, wa.MDY):
        raise ApplicationError("Every date in this file could be day-first or month-first. Say which it is.")
    try:
        zoneinfo.ZoneInfo(answers.time_zone or job.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ApplicationError("Choose the time zone the phone was set to.") from exc
    name = "" if phones.try_e164(customer) else customer
    contact, _ = find_or_create_by_phone(number, name=name)
    job.channel = answers.channel
    job.business_sender = answers.business_sender
    job.contact = contact
    job.date_order = order
    job.time_zone = answers.time_zone or job.time_zone
    job.status = ImportJob.Status.QUEUED
    job.save()
    if not run_now:
        from imports.tasks import run_import

        enqueue(run_import, job.pk)
    return job


def cancel(job: ImportJob, *, by: User) -> ImportJob:
    """Stop a queued or running import after the batch in hand; what was imported stays."""
    _check_owner(job, by)
    updated = ImportJob.objects.filter(pk=job.pk, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]).update(
        status=ImportJob.Status.CANCELLING
    )
    if not updated and job.status == ImportJob.Status.NEEDS_ANSWERS:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CANCELLED, finished_at=timezone.now())
    job.refresh_from_db()
    announce(job)
    return job


def _check_owner(job: ImportJob, by: User | None) -> None:
    if by is not None and not (can_import_history(by) and (by.is_admin_role or job.created_by_id == by.pk)):
        raise NotAllowed("This import belongs to someone else.")


def announce(job: ImportJob) -> None:
    if job.created_by_id:
        events.publish("import.progress", progress_payload(job), [user_group(job.created_by_id)])


def progress_payload(job: ImportJob) -> dict:
    return {
        "job": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "percent": job.percent,
        "processed": job.processed,
        "total": job.total,
        "imported": job.imported_count,
        "duplicates": job.duplicate_count,
        "failed": job.failed_count,
        "finished": job.finished,
    }


# ---------------------------------------------------------------- the run (a Celery task calls this)


def import_key(contact_id: int, at: datetime.datetime, direction: str, text: str) -> str:
    minute = at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M")
    return hashlib.sha256(f"{contact_id}\x1f{minute}\x1f{direction}\x1f{text}".encode()).hexdigest()


@dataclasses.dataclass
class _Row:
    record: wa.ChatMessage
    message: Message
    media: bytes | None = None


def run(job_id: int, *, on_progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    job = ImportJob.objects.select_related("channel", "contact").get(pk=job_id)
    if job.status == ImportJob.Status.CANCELLING:
        return _finish(job, ImportJob.Status.CANCELLED)
    if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
        return job  # already finished (a redelivered task)
    if job.channel is None or job.contact is None:
        job.failure = "The number or the contact was deleted before the import ran."
        return _finish(job, ImportJob.Status.FAILED)
    job.status, job.started_at = ImportJob.Status.RUNNING, timezone.now()
    job.processed = job.imported_count = job.duplicate_count = job.failed_count = 0
    job.save(update_fields=["status", "started_at", "processed", "imported_count", "duplicate_count", "failed_count"])
    job.failures.all().delete()
    importer = _Importer(job)
    with job.file.open("rb") as fileobj:
        export = ExportFile(fileobj)
        importer.export = export
        with export.lines() as lines:
            for record in wa.parse(lines, date_order=job.date_order):
                importer.take(record)
                if importer.full:
                    importer.flush()
                    if not _report(job, on_progress):
                        return _finish(job, ImportJob.Status.CANCELLED)
        job.processed = job.total
        importer.flush()
    _report(job, on_progress)
    return _finish(job, ImportJob.Status.DONE)


def _report(job: ImportJob, on_progress) -> bool:
    """Save and announce the counts; False when someone asked to cancel."""
    ImportJob.objects.filter(pk=job.pk).update(
        processed=job.processed,
        imported_count=job.imported_count,
        duplicate_count=job.duplicate_count,
        failed_count=job.failed_count,
    )
    job.status = ImportJob.objects.values_list("status", flat=True).get(pk=job.pk)
    announce(job)
    if on_progress:
        on_progress(job)
    return job.status != ImportJob.Status.CANCELLING


def _finish(job: ImportJob, status: str) -> ImportJob:
    job.status, job.finished_at = status, timezone.now()
    job.save()
    announce(job)
    return job


class _Importer:
    """Collects parsed records and writes them a batch at a time."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.export: ExportFile | None = None
        self.zone = zoneinfo.ZoneInfo(job.time_zone)
        self.conversation = conversation_for(job.contact, job.channel)
        self.records: list[wa.ChatMessage] = []
        self.failures: list[ImportFailure] = []

    @property
    def full(self) -> bool:
        return len(self.records) >= BATCH_SIZE

    def take(self, record) -> None:
        self.job.processed = record.line
        if isinstance(record, wa.Malformed):
            self.failures.append(ImportFailure(job=self.job, line=record.line, reason=record.reason[:300], text=record.text[:2000]))
        elif isinstance(record, wa.ChatMessage):
            self.records.append(record)
        # System lines (encryption notice, "X added Y") are not messages between the two sides.

    def flush(self) -> None:
        rows = [row for row in map(self._row, self.records) if row is not None]
        self.records = []
        fresh = self._drop_duplicates(rows)
        with transaction.atomic():
            Message.objects.bulk_create([row.message for row in fresh], ignore_conflicts=True)
            self._attach_media([row for row in fresh if row.media is not None])
            ImportFailure.objects.bulk_create(self.failures)
        self.job.imported_count += len(fresh)
        self.job.duplicate_count += len(rows) - len(fresh)
        self.job.failed_count += len(self.failures)
        self.failures = []

    def _row(self, record: wa.ChatMessage) -> _Row | None:
        if record.sender == self.job.business_sender:
            direction, status = Message.Direction.OUTBOUND, Message.Status.SENT
        else:
            direction, status = Message.Direction.INBOUND, Message.Status.RECEIVED
        at = record.at.replace(tzinfo=self.zone)
        kind, body, media = "text", record.text, None
        if record.deleted:
            kind, body = "unsupported", "This message was deleted"
        elif record.media_omitted:
            kind, body = "unsupported", "Media not included in the export"
        elif record.media:
            media = self.export.media(record.media) if self.export else None
            if media is None:
                kind = "unsupported"
                body = "\n".join(filter(None, [f"{record.media} (not included in the export)", record.text]))
            else:
                kind = record.media_kind
        key_text = f"{record.media}\n{body}" if record.media else body
        message = Message(
            channel_id=self.job.channel_id,
            conversation_id=self.conversation.pk,
            direction=direction,
            source=Message.Source.IMPORT,
            type=kind,
            body=body,
            content={"import": {"job": self.job.pk, "line": record.line, "sender": record.sender, "edited": record.edited}},
            status=status,
            timestamp=at,
            import_key=import_key(self.job.contact_id, at, direction, key_text),
        )
        return _Row(record, message, media if kind != "unsupported" else None)

    def _drop_duplicates(self, rows: list[_Row]) -> list[_Row]:
        """Rows not already in this batch, not imported before and not among the live messages of
        the same minutes (one indexed range query on the conversation's thread)."""
        if not rows:
            return []
        seen = set(
            Message.objects.filter(channel_id=self.job.channel_id, import_key__in=[r.message.import_key for r in rows]).values_list(
                "import_key", flat=True
            )
        )
        start = min(r.message.timestamp for r in rows).replace(second=0, microsecond=0)
        end = max(r.message.timestamp for r in rows) + datetime.timedelta(minutes=1)
        live = Message.objects.filter(
            conversation_id=self.conversation.pk, timestamp__gte=start, timestamp__lt=end, import_key__isnull=True
        ).values_list("timestamp", "direction", "body")
        seen.update(import_key(self.job.contact_id, at, direction, body) for at, direction, body in live)
        fresh = []
        for row in rows:
            if row.message.import_key not in seen:
                seen.add(row.message.import_key)
                fresh.append(row)
        return fresh

    def _attach_media(self, rows: list[_Row]) -> None:
        if not rows:
            return
        ids = dict(
            Message.objects.filter(
                channel_id=self.job.channel_id, import_key__in=[row.message.import_key for row in rows]
            ).values_list("import_key", "pk")
        )
        attachments = []
        for row in rows:
            name = os.path.basename(row.record.media)
            attachment = Attachment(
                message_id=ids[row.message.import_key],
                kind=row.message.type,
                mime_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
                sha256=hashlib.sha256(row.media).hexdigest(),
                file_name=name[:255],
                size=len(row.media),
                status=Attachment.Status.READY,
            )
            attachment.file.save(name, ContentFile(row.media), save=False)
            attachments.append(attachment)
        Attachment.objects.bulk_create(attachments)


def failures_csv_rows(job: ImportJob) -> Iterator[list]:
    yield ["line", "reason", "text"]
    for failure in job.failures.iterator(chunk_size=2000):
        yield [failure.line, failure.reason, failure.text]
