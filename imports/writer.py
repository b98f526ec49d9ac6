"""Writing an import's rows: a batch at a time, what is already there dropped, the rest in one bulk
insert with its attachments (files from the zip stored at once, links from a report fetched later by
the imports.fetch_media task)."""

import datetime
import hashlib
import mimetypes
import os

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q

from core import bulk_rows
from core.tasks import enqueue
from imports import placeholders
from imports.models import ImportFailure, ImportJob
from imports.readers import Row, import_key
from inbox.models import Attachment, Message


class Writer:
    """Writes a batch: drops what is already there, inserts the rest in one bulk insert."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.failures: list[ImportFailure] = []

    def fail(self, line: int, reason: str, text: str) -> None:
        self.failures.append(ImportFailure(job=self.job, line=line, reason=reason[:300], text=text[:2000]))

    def write(self, rows: list[Row]) -> None:
        with transaction.atomic():
            # Placeholders (portal-sent messages) and id-less exported rows that stand for these rows.
            filled, rows = placeholders.claim_by_id(rows)
            fresh = self._new_in_batch(rows)
            waiting = placeholders.waiting_for(fresh)
            if not bulk_rows.use_copy() or waiting:
                # Stored rows are dropped before a placeholder can take one; on PostgreSQL otherwise the
                # unique indexes drop them in the insert itself (bulk_rows.copy_insert_new).
                fresh = self._drop_stored(fresh)
            by_time = placeholders.claim_by_time(fresh, waiting)
            filled += by_time
            taken = {id(row) for row in filled}
            fresh = [row for row in fresh if id(row) not in taken]
            if bulk_rows.use_copy():
                inserted = {id(m) for m in bulk_rows.copy_insert_new(Message, [row.message for row in fresh])}
                fresh = [row for row in fresh if id(row.message) in inserted]
            else:
                Message.objects.bulk_create([row.message for row in fresh], ignore_conflicts=True)
                _set_stored_pks(fresh)
            placeholders.note_idless_rows([row.message for row in fresh])
            fetches = self._attach_media([row for row in fresh + filled if row.media is not None or row.media_url])
            ImportFailure.objects.bulk_create(self.failures)
            for attachment_id in fetches:
                enqueue("imports.fetch_media", attachment_id)
        self.job.imported_count += len(fresh) + len(filled)
        self.job.duplicate_count += len(rows) - len(fresh) - len(by_time)
        self.job.failed_count += len(self.failures)
        self.failures = []

    def _new_in_batch(self, rows: list[Row]) -> list[Row]:
        """Rows not already in this batch and not among the live messages of the same minutes (one
        indexed range query, for rows without a provider id: a live message has one, and rows that
        have one dedupe on it)."""
        idless = [r for r in rows if r.message.import_key and not r.message.provider_message_id]
        seen = set()
        if idless:
            start = min(r.message.timestamp for r in idless).replace(second=0, microsecond=0)
            end = max(r.message.timestamp for r in idless) + datetime.timedelta(minutes=1)
            live = Message.objects.filter(
                conversation_id__in={r.message.conversation_id for r in idless},
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

    def _drop_stored(self, rows: list[Row]) -> list[Row]:
        """Rows not imported before (same key or same provider id): two lookups by the unique indexes."""
        if not rows:
            return []
        seen = set(_stored(rows, "import_key").values_list("channel_id", "import_key"))
        seen.update(_stored(rows, "provider_message_id").values_list("channel_id", "provider_message_id"))
        return [
            row for row in rows
            if (row.message.channel_id, row.message.provider_message_id) not in seen
            and (row.message.channel_id, row.message.import_key) not in seen
        ]  # fmt: skip

    def _attach_media(self, rows: list[Row]) -> list[int]:
        """Attachments for the new rows (stored: their messages have primary keys); returns the ids
        of those a worker must fetch."""
        if not rows:
            return []
        attachments = []
        for row in rows:
            message_id = row.message.pk
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


def _set_stored_pks(rows: list[Row]) -> None:
    """After a bulk_create that ignored conflicts (which gives no primary keys): the stored id of each
    row's key (a row a concurrent writer stored first gets that writer's row)."""
    stored = {}
    for field in ("import_key", "provider_message_id"):
        stored.update(((channel, value), pk) for channel, value, pk in _stored(rows, field).values_list("channel_id", field, "pk"))
    for row in rows:
        row.message.pk = stored.get((row.message.channel_id, row.message.provider_message_id or row.message.import_key))


def _stored(rows: list[Row], field: str):
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
