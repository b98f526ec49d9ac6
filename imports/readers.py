"""Reading an import's file into rows: the WhatsApp export (the .txt, or the .zip with its media) and
the CSV / JSON report. Rows carry unsaved Messages; imports/services.py writes them in batches."""

import contextlib
import dataclasses
import datetime
import hashlib
import io
import json
import os
import zipfile
import zoneinfo
from collections.abc import Iterator

from contacts.services import find_or_create_by_phone
from core import phones
from core.errors import ApplicationError
from imports import reports
from imports import whatsapp_export as wa
from imports.models import ImportJob
from inbox.models import Channel, Conversation, Message

MAX_MEDIA_FILE = 100 * 1024 * 1024  # WhatsApp's own limit for documents
MAX_TEXT_SIZE = 2 * 1024 * 1024 * 1024  # a chat text larger than this (uncompressed) is not an export
MAX_ZIP_ENTRIES = 200_000


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


def import_key(contact_id: int, at: datetime.datetime, direction: str, text: str) -> str:
    minute = at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M")
    return hashlib.sha256(f"{contact_id}\x1f{minute}\x1f{direction}\x1f{text}".encode()).hexdigest()


@dataclasses.dataclass
class Row:
    line: int
    message: Message
    contact_id: int
    media: bytes | None = None  # a file from the zip
    media_name: str = ""
    media_url: str = ""  # a link from a report, fetched by a worker


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


def history_conversation(contact, channel) -> Conversation:
    """The contact's conversation on this number. One made for an import starts resolved: history is
    not work, and the customer's next message reopens it as any resolved conversation."""
    conversation, created = Conversation.objects.for_contact(contact, channel)
    if created:
        Conversation.objects.filter(pk=conversation.pk, status=Conversation.Status.OPEN).update(status=Conversation.Status.RESOLVED)
        conversation.status = Conversation.Status.RESOLVED
    return conversation


class ExportReader:
    """WhatsApp chat export → rows, one contact's conversation."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.zone = zoneinfo.ZoneInfo(job.time_zone)
        self.conversation = history_conversation(job.contact, job.channel)

    def batches(self, fileobj, writer, size: int) -> Iterator[list[Row]]:
        export = ExportFile(fileobj)
        batch: list[Row] = []
        with export.lines() as lines:
            for record in wa.parse(lines, date_order=self.job.date_order):
                self.job.processed = record.line
                if isinstance(record, wa.Malformed):
                    writer.fail(record.line, record.reason, record.text)
                elif isinstance(record, wa.ChatMessage):
                    batch.append(self._row(record, export))
                    if len(batch) >= size:
                        yield batch
                        batch = []
                # System lines (encryption notice, "X added Y") are not messages between the two sides.
        yield batch

    def _row(self, record: wa.ChatMessage, export: ExportFile) -> Row:
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
        return Row(record.line, message, self.job.contact_id, media=media, media_name=record.media)


class ReportReader:
    """CSV / JSON report → rows, any number of contacts (and numbers, when the report names them)."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.zone = zoneinfo.ZoneInfo(job.time_zone)
        self.contacts: dict = {}
        self.conversations: dict[tuple[int, int], int] = {}
        self.channels: dict[str, Channel | None] = {job.channel.phone_number: job.channel}

    def batches(self, fileobj, writer, size: int) -> Iterator[list[Row]]:
        batch: list[Row] = []
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
            if len(batch) >= size:
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

    def _row(self, record: reports.ReportMessage) -> Row:
        channel = self._channel(record.business_number)
        contact, _ = find_or_create_by_phone(record.phone, known=self.contacts)
        key = (contact.pk, channel.pk)
        if key not in self.conversations:
            self.conversations[key] = history_conversation(contact, channel).pk
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
        return Row(record.row, message, contact.pk, media_url=record.media_url)


# job kind → its reader (rows in batches). imports.coexistence adds the history webhook's (AppConfig.ready).
READERS: dict = {ImportJob.Kind.WHATSAPP_EXPORT: ExportReader, ImportJob.Kind.REPORT: ReportReader}


def _kind_of_url(url: str) -> str:
    name = url.split("?", 1)[0].rsplit("/", 1)[-1]
    return wa.KIND_BY_EXTENSION.get(name.rsplit(".", 1)[-1].lower(), "document") if "." in name else "document"
