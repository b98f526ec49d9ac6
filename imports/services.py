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
import hashlib
import logging
import mimetypes
import os
import zipfile
import zoneinfo
from collections.abc import Callable, Iterator

from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_group
from contacts.services import find_or_create_by_phone
from core import events, phones, safe_http
from core.errors import ApplicationError, NotAllowed
from core.tasks import enqueue
from imports import reports
from imports import whatsapp_export as wa
from imports.models import ImportJob
from imports.readers import READERS, ExportFile
from imports.selectors import can_import_history
from imports.writer import Writer
from inbox.models import Attachment, Channel

logger = logging.getLogger(__name__)
MEDIA_MAX_BYTES = 100 * 1024 * 1024  # a media link in a report (WhatsApp documents go up to 100 MB)

BATCH_SIZE = 2000
MAX_UPLOAD = 1024 * 1024 * 1024  # the zip of a long chat with its photos


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
        enqueue("imports.run_import", job.pk)
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
        enqueue("imports.run_import", job.pk)
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
    writer = Writer(job)
    reader = READERS[job.kind](job)
    with job.file.open("rb") if job.file else contextlib.nullcontext() as fileobj:  # history webhooks have no file
        for batch in reader.batches(fileobj, writer, BATCH_SIZE):
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
