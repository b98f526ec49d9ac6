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
import csv
import dataclasses
import datetime
import hashlib
import io
import json
import logging
import mimetypes
import os
import zipfile
import zoneinfo
from collections.abc import Callable, Iterator

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_group
from contacts.services import find_or_create_by_phone
from core import events, phones, safe_http
from core.errors import ApplicationError, NotAllowed
from core.tasks import enqueue
from imports import placeholders, reports
from imports import whatsapp_export as wa
from imports.models import ImportFailure, ImportJob
from imports.selectors import can_import_history
from inbox.models import Attachment, Channel, Conversation, Message
from inbox.services import conversation_for

logger = logging.getLogger(__name__)
MEDIA_MAX_BYTES = 100 * 1024 * 1024  # a media link in a report (WhatsApp documents go up to 100 MB)

BATCH_SIZE = 2000
MAX_UPLOAD = 1024 * 1024 * 1024  # the zip of a long chat with its photos
MAX_MEDIA_FILE = 100 * 1024 * 1024  # WhatsApp's own limit for documents
MAX_TEXT_SIZE = 2 * 1024 * 1024 * 1024  # a chat text larger than this (uncompressed) is not an export
MAX_ZIP_ENTRIES = 200_000


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
            if len(self._zip.infolist()) > MAX_ZIP_ENTRIES:
                raise ApplicationError("This zip holds too many files to be a WhatsApp export.")
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


def create_report_job(*, by: User, upload) -> ImportJob:
    """Keep a CSV / JSON report and read its columns for the mapping step."""
    if not can_import_history(by):
        raise NotAllowed("Only supervisors and admins can import message history.")
    name = os.path.basename(upload.name or "report.csv")[:255]
    try:
        kind = reports.kind_of(name)
    except reports.ReportError as exc:
        raise ApplicationError(str(exc)) from exc
    if upload.size > MAX_UPLOAD:
        raise ApplicationError(f"That file is larger than {MAX_UPLOAD // 1024 // 1024} MB.")
    try:
        columns, preview = reports.columns_and_preview(upload, kind)
    except (reports.ReportError, csv.Error) as exc:
        raise ApplicationError(str(exc)) from exc
    if not columns:
        raise ApplicationError("No rows were found in that report.")
    upload.seek(0)
    job = ImportJob(created_by=by, file_name=name, kind=ImportJob.Kind.REPORT)
    job.scan = {"columns": columns, "preview": preview, "lines": _count_lines(upload)}
    job.mapping = reports.guess_mapping(columns)
    upload.seek(0)
    job.file.save(name, upload, save=False)
    job.save()
    return job


def _count_lines(upload) -> int:
    count = sum(chunk.count(b"\n") for chunk in iter(lambda: upload.read(1024 * 1024), b""))
    upload.seek(0)
    return count


def start_report(job: ImportJob, *, mapping: dict[str, str], channel: Channel, time_zone: str, by: User, run_now: bool = False) -> ImportJob:
    """Check the column mapping and queue the import. `channel` is where rows without a business number go."""
    _check_owner(job, by)
    if job.status != ImportJob.Status.NEEDS_ANSWERS:
        raise ApplicationError("This import has already started.")
    mapping = {column: target for column, target in mapping.items() if target and column in job.scan.get("columns", [])}
    targets = list(mapping.values())
    unknown = set(targets) - set(reports.TARGETS)
    if unknown:
        raise ApplicationError(f"Unknown field {sorted(unknown)[0]}.")
    doubled = {t for t in targets if targets.count(t) > 1}
    if doubled:
        raise ApplicationError(f"Only one column can be the {reports.TARGETS[sorted(doubled)[0]].split(' (')[0].lower()}.")
    missing = [reports.TARGETS[t] for t in reports.REQUIRED if t not in targets]
    if missing:
        raise ApplicationError(f"Choose a column for: {', '.join(m.split(' (')[0] for m in missing)}.")
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ApplicationError("Choose the time zone of times written without one.") from exc
    job.mapping, job.channel, job.time_zone = mapping, channel, time_zone
    job.status = ImportJob.Status.QUEUED
    job.save()
    if not run_now:
        from imports.tasks import run_import

        enqueue(run_import, job.pk)
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
    line: int
    message: Message
    contact_id: int
    media: bytes | None = None  # a file from the zip
    media_name: str = ""
    media_url: str = ""  # a link from a report, fetched by a worker


def run(job_id: int, *, on_progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    job = ImportJob.objects.select_related("channel", "contact").get(pk=job_id)
    if job.status == ImportJob.Status.CANCELLING:
        return _finish(job, ImportJob.Status.CANCELLED)
    if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
        return job  # already finished (a redelivered task)
    if job.channel is None or (job.kind == ImportJob.Kind.WHATSAPP_EXPORT and job.contact is None):
        job.failure = "The number or the contact was deleted before the import ran."
        return _finish(job, ImportJob.Status.FAILED)
    job.status, job.started_at = ImportJob.Status.RUNNING, timezone.now()
    job.processed = job.imported_count = job.duplicate_count = job.failed_count = 0
    job.save(update_fields=["status", "started_at", "processed", "imported_count", "duplicate_count", "failed_count"])
    job.failures.all().delete()
    writer = _Writer(job)
    reader = READERS[job.kind](job)
    with job.file.open("rb") if job.file else contextlib.nullcontext() as fileobj:  # history webhooks have no file
        for batch in reader.batches(fileobj, writer):
            writer.write(batch)
            if not _report(job, on_progress):
                return _finish(job, ImportJob.Status.CANCELLED)
    job.processed = job.total
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


def _imported_message(job: ImportJob, *, conversation_id: int, channel_id: int, contact_id: int, inbound: bool, at, kind: str,
                      body: str, content: dict, provider_message_id: str = "", dedupe_text: str | None = None) -> Message:  # fmt: skip
    direction = Message.Direction.INBOUND if inbound else Message.Direction.OUTBOUND
    return Message(
        channel_id=channel_id,
        conversation_id=conversation_id,
        direction=direction,
        source=Message.Source.IMPORT,
        type=kind,
        body=body,
        content={"import": {"job": job.pk, **content}},
        status=Message.Status.RECEIVED if inbound else Message.Status.SENT,
        timestamp=at,
        provider_message_id=provider_message_id or None,
        # Rows with a provider id dedupe on it (message_unique_provider_id); the others on the key.
        import_key=None if provider_message_id else import_key(contact_id, at, direction, body if dedupe_text is None else dedupe_text),
    )


def _history_conversation(contact, channel) -> Conversation:
    """The contact's conversation on this number. One made for an import starts resolved: history is
    not work, and the customer's next message reopens it as any resolved conversation."""
    existed = Conversation.objects.filter(contact=contact, channel=channel).exists()
    conversation = conversation_for(contact, channel)
    if not existed:
        Conversation.objects.filter(pk=conversation.pk, status=Conversation.Status.OPEN).update(status=Conversation.Status.RESOLVED)
    return conversation


class _ExportReader:
    """WhatsApp chat export → rows, one contact's conversation."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.zone = zoneinfo.ZoneInfo(job.time_zone)
        self.conversation = _history_conversation(job.contact, job.channel)

    def batches(self, fileobj, writer: "_Writer") -> Iterator[list[_Row]]:
        export = ExportFile(fileobj)
        batch: list[_Row] = []
        with export.lines() as lines:
            for record in wa.parse(lines, date_order=self.job.date_order):
                self.job.processed = record.line
                if isinstance(record, wa.Malformed):
                    writer.fail(record.line, record.reason, record.text)
                elif isinstance(record, wa.ChatMessage):
                    batch.append(self._row(record, export))
                    if len(batch) >= BATCH_SIZE:
                        yield batch
                        batch = []
                # System lines (encryption notice, "X added Y") are not messages between the two sides.
        yield batch

    def _row(self, record: wa.ChatMessage, export: ExportFile) -> _Row:
        at = record.at.replace(tzinfo=self.zone)
        kind, body, media = "text", record.text, None
        if record.deleted:
            kind, body = "unsupported", "This message was deleted"
        elif record.media_omitted:
            kind, body = "unsupported", "Media not included in the export"
        elif record.media:
            media = export.media(record.media)
            if media is None:
                kind = "unsupported"
                body = "\n".join(filter(None, [f"{record.media} (not included in the export)", record.text]))
            else:
                kind = record.media_kind
        message = _imported_message(
            self.job, conversation_id=self.conversation.pk, channel_id=self.job.channel_id, contact_id=self.job.contact_id,
            inbound=record.sender != self.job.business_sender, at=at, kind=kind, body=body,
            content={"line": record.line, "sender": record.sender, "edited": record.edited},
            dedupe_text=f"{record.media}\n{body}" if record.media else body,
        )  # fmt: skip
        return _Row(record.line, message, self.job.contact_id, media=media, media_name=record.media)


class _ReportReader:
    """CSV / JSON report → rows, any number of contacts (and numbers, when the report names them)."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.zone = zoneinfo.ZoneInfo(job.time_zone)
        self.contacts: dict = {}
        self.conversations: dict[tuple[int, int], int] = {}
        self.channels: dict[str, Channel | None] = {job.channel.phone_number: job.channel}

    def batches(self, fileobj, writer: "_Writer") -> Iterator[list[_Row]]:
        batch: list[_Row] = []
        for number, row, problem in reports.rows(fileobj, reports.kind_of(self.job.file_name)):
            self.job.processed = number
            if row is None:
                writer.fail(number, problem, "")
                continue
            try:
                batch.append(self._row(reports.read(number, row, self.job.mapping)))
            except reports.ReportError as exc:
                writer.fail(number, str(exc), json.dumps(row, ensure_ascii=False))
                continue
            except phones.InvalidPhoneNumber as exc:
                writer.fail(number, "Phone: " + " ".join(exc.messages), json.dumps(row, ensure_ascii=False))
                continue
            if len(batch) >= BATCH_SIZE:
                yield batch
                batch = []
        yield batch

    def _channel(self, raw: str) -> Channel:
        if not raw:
            return self.job.channel
        number = phones.to_e164(raw)
        if number not in self.channels:
            self.channels[number] = Channel.objects.filter(phone_number=number).first()
        if self.channels[number] is None:
            raise reports.ReportError(f"Business number {number} is not one of your numbers")
        return self.channels[number]

    def _row(self, record: reports.ReportMessage) -> _Row:
        channel = self._channel(record.business_number)
        contact, _ = find_or_create_by_phone(record.phone, known=self.contacts)
        key = (contact.pk, channel.pk)
        if key not in self.conversations:
            self.conversations[key] = _history_conversation(contact, channel).pk
        at = record.at if record.at.tzinfo else record.at.replace(tzinfo=self.zone)
        if record.media_url and not record.media_url.lower().startswith(("http://", "https://")):
            raise reports.ReportError("Media URL is not an http or https link")
        kind = _kind_of_url(record.media_url) if record.media_url else "text"
        message = _imported_message(
            self.job, conversation_id=self.conversations[key], channel_id=channel.pk, contact_id=contact.pk,
            inbound=record.inbound, at=at, kind=kind, body=record.text, content={"line": record.row},
            provider_message_id=record.provider_message_id,
            dedupe_text=f"{record.media_url}\n{record.text}" if record.media_url else record.text,
        )  # fmt: skip
        return _Row(record.row, message, contact.pk, media_url=record.media_url)


# job kind → its reader (rows in batches). imports.coexistence adds the history webhook's (AppConfig.ready).
READERS: dict = {ImportJob.Kind.WHATSAPP_EXPORT: _ExportReader, ImportJob.Kind.REPORT: _ReportReader}


def _kind_of_url(url: str) -> str:
    name = url.split("?", 1)[0].rsplit("/", 1)[-1]
    return wa.KIND_BY_EXTENSION.get(name.rsplit(".", 1)[-1].lower(), "document") if "." in name else "document"


class _Writer:
    """Writes a batch: drops what is already there, inserts the rest in one bulk insert."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.failures: list[ImportFailure] = []

    def fail(self, line: int, reason: str, text: str) -> None:
        self.failures.append(ImportFailure(job=self.job, line=line, reason=reason[:300], text=text[:2000]))

    def write(self, rows: list[_Row]) -> None:
        with transaction.atomic():
            # Placeholders (portal-sent messages) and id-less exported rows that stand for these rows.
            filled, rows = placeholders.claim_by_id(rows)
            fresh = self._drop_duplicates(rows)
            duplicates = len(rows) - len(fresh)
            filled += placeholders.claim_by_time(fresh)
            taken = {id(row) for row in filled}
            fresh = [row for row in fresh if id(row) not in taken]
            Message.objects.bulk_create([row.message for row in fresh], ignore_conflicts=True)
            placeholders.note_idless_rows([row.message for row in fresh])
            fetches = self._attach_media([row for row in fresh + filled if row.media is not None or row.media_url])
            ImportFailure.objects.bulk_create(self.failures)
            from imports.tasks import fetch_media

            for attachment_id in fetches:
                enqueue(fetch_media, attachment_id)
        self.job.imported_count += len(fresh) + len(filled)
        self.job.duplicate_count += duplicates
        self.job.failed_count += len(self.failures)
        self.failures = []

    def _drop_duplicates(self, rows: list[_Row]) -> list[_Row]:
        """Rows not already in this batch, not imported before (same key or same provider id), and
        not among the live messages of the same minutes (one indexed range query)."""
        if not rows:
            return []
        keys = [r.message.import_key for r in rows if r.message.import_key]
        seen = set(_stored(rows, "import_key").values_list("channel_id", "import_key"))
        seen.update(_stored(rows, "provider_message_id").values_list("channel_id", "provider_message_id"))
        if keys:
            start = min(r.message.timestamp for r in rows).replace(second=0, microsecond=0)
            end = max(r.message.timestamp for r in rows) + datetime.timedelta(minutes=1)
            live = Message.objects.filter(
                conversation_id__in={r.message.conversation_id for r in rows if r.message.import_key},
                timestamp__gte=start, timestamp__lt=end, import_key__isnull=True,
            ).values_list("channel_id", "conversation__contact_id", "timestamp", "direction", "body")  # fmt: skip
            seen.update((channel, import_key(contact, at, direction, body)) for channel, contact, at, direction, body in live)
        fresh = []
        for row in rows:
            identity = (row.message.channel_id, row.message.provider_message_id or row.message.import_key)
            if identity not in seen:
                seen.add(identity)
                fresh.append(row)
        return fresh

    def _attach_media(self, rows: list[_Row]) -> list[int]:
        """Attachments for the new rows; returns the ids of those a worker must fetch."""
        if not rows:
            return []
        stored = {}
        for field in ("import_key", "provider_message_id"):
            stored.update(((channel, value), pk) for channel, value, pk in _stored(rows, field).values_list("channel_id", field, "pk"))
        attachments = []
        for row in rows:
            message_id = stored.get((row.message.channel_id, row.message.provider_message_id or row.message.import_key))
            if message_id is None:
                continue
            if row.media is not None:
                name = os.path.basename(row.media_name)
                attachment = Attachment(
                    message_id=message_id, kind=row.message.type, mime_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
                    sha256=hashlib.sha256(row.media).hexdigest(), file_name=name[:255], size=len(row.media), status=Attachment.Status.READY,
                )  # fmt: skip
                attachment.file.save(name, ContentFile(row.media), save=False)
            else:
                attachment = Attachment(message_id=message_id, kind=row.message.type, source_url=row.media_url, status=Attachment.Status.PENDING)
            attachments.append(attachment)
        created = Attachment.objects.bulk_create(attachments)
        if any(a.pk is None for a in created):  # backends that do not return ids from a bulk insert
            return list(Attachment.objects.filter(message_id__in=[a.message_id for a in attachments if a.source_url]).values_list("pk", flat=True))
        return [a.pk for a in created if a.source_url]


def _stored(rows: list[_Row], field: str):
    """Stored messages with the same (channel, field) as some of these rows: per channel, so the
    lookup uses the (channel, field) unique index."""
    values_by_channel: dict[int, set[str]] = {}
    for row in rows:
        value = getattr(row.message, field)
        if value:
            values_by_channel.setdefault(row.message.channel_id, set()).add(value)
    if not values_by_channel:
        return Message.objects.none()
    match = Q()
    for channel_id, values in values_by_channel.items():
        match |= Q(channel_id=channel_id, **{f"{field}__in": values})
    return Message.objects.filter(match)


def fetch_media(attachment_id: int) -> Attachment:
    """A worker downloads a report's media link (through the safe fetcher: public http(s) addresses
    only, every redirect checked, size and time capped) into the attachment."""
    attachment = Attachment.objects.get(pk=attachment_id)
    if attachment.status == Attachment.Status.READY or not attachment.source_url:
        return attachment
    attachment.attempts += 1
    try:
        fetched = safe_http.fetch(attachment.source_url, max_bytes=MEDIA_MAX_BYTES)
    except safe_http.FetchError as exc:
        attachment.status, attachment.error = Attachment.Status.FAILED, exc.message[:2000]
        attachment.save(update_fields=["status", "error", "attempts"])
        return attachment
    content, mime = fetched.content, fetched.content_type
    name = os.path.basename(attachment.source_url.split("?", 1)[0])[:200] or f"media-{attachment.pk}"
    attachment.mime_type = (mime or mimetypes.guess_type(name)[0] or "application/octet-stream")[:100]
    attachment.sha256, attachment.size, attachment.file_name = hashlib.sha256(content).hexdigest(), len(content), name
    attachment.file.save(name, ContentFile(content), save=False)
    attachment.status, attachment.error = Attachment.Status.READY, ""
    attachment.save()
    return attachment


def failures_csv_rows(job: ImportJob) -> Iterator[list]:
    yield ["line", "reason", "text"]
    for failure in job.failures.iterator(chunk_size=2000):
        yield [failure.line, failure.reason, failure.text]
