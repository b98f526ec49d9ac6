"""CSV import (header mapping, per-row errors, duplicates merged by phone) and CSV export."""

import csv
import io
from collections.abc import Iterable, Iterator

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from contacts import services
from contacts.models import Contact, ContactPhone, CustomField, ImportJob
from core.tasks import enqueue

IGNORE = ""
# Target fields a CSV column can map to; custom fields add "custom:<key>".
BASE_TARGETS = {
    "name": "Name",
    "phone": "Phone (any form; map several columns to add several numbers)",
    "email": "Email",
    "labels": "Labels (separated by ; or |)",
    "owner": "Owner (username or email)",
    "note": "Note",
}
_HEADER_GUESSES = {
    "name": ("name", "full name", "contact name", "customer", "customer name"),
    "phone": ("phone", "mobile", "phone number", "mobile number", "number", "whatsapp", "contact number", "cell"),
    "email": ("email", "e-mail", "email address", "mail"),
    "labels": ("labels", "label", "tags", "tag"),
    "owner": ("owner", "agent", "assigned to"),
    "note": ("note", "notes", "comment", "remarks"),
}
PROGRESS_EVERY = 50
MAX_IMPORT_BYTES = 20 * 1024 * 1024


def targets() -> dict[str, str]:
    return BASE_TARGETS | {f"custom:{f.key}": f"Custom: {f.label}" for f in CustomField.objects.all()}


def read_upload(uploaded_file) -> str:
    if uploaded_file.size > MAX_IMPORT_BYTES:
        raise ValidationError(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
    raw = uploaded_file.read()
    if b"\x00" in raw:
        raise ValidationError("This is not a CSV file (it contains binary data). Save it as CSV and try again.")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError("The file is not text in UTF-8 or Windows encoding.")


def _reader(content: str) -> csv.reader:
    sample = content[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return csv.reader(io.StringIO(content), dialect)


def header_and_preview(content: str, rows: int = 5) -> tuple[list[str], list[list[str]]]:
    reader = _reader(content)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise ValidationError("The file has no header row.")
    return [h.strip() for h in header], [row for _, row in zip(range(rows), reader)]


def guess_mapping(header: list[str]) -> dict[str, str]:
    custom = {f.key: f"custom:{f.key}" for f in CustomField.objects.all()}
    custom |= {f.label.lower(): f"custom:{f.key}" for f in CustomField.objects.all()}
    mapping = {}
    for column in header:
        lowered = column.lower().strip()
        target = next((t for t, names in _HEADER_GUESSES.items() if lowered in names), None)
        mapping[column] = target or custom.get(lowered, IGNORE)
    return mapping


def create_job(*, by: User, file_name: str, content: str) -> ImportJob:
    header, _ = header_and_preview(content)
    return ImportJob.objects.create(
        created_by=by, file_name=file_name[:255], content=content, mapping=guess_mapping(header)
    )


def start_job(job: ImportJob, mapping: dict[str, str]) -> None:
    valid = targets()
    unknown = [t for t in mapping.values() if t and t not in valid]
    if unknown:
        raise ValidationError(f"Unknown target field(s): {', '.join(unknown)}.")
    if "phone" not in mapping.values() and "name" not in mapping.values():
        raise ValidationError("Map at least one column to Phone or Name.")
    job.mapping = mapping
    job.status = ImportJob.Status.PENDING
    job.save(update_fields=["mapping", "status"])
    enqueue("contacts.run_import", job.pk)


def run_job(job: ImportJob) -> None:
    """Import every row; a bad row is reported and skipped, never the whole file."""
    reader = _reader(job.content)
    header = [h.strip() for h in next(reader, [])]
    rows = list(reader)
    job.status, job.total_rows, job.processed_rows = ImportJob.Status.RUNNING, len(rows), 0
    job.created_count = job.updated_count = 0
    job.errors = []
    job.save()
    owners = {u.username.lower(): u for u in User.objects.all()} | {
        u.email.lower(): u for u in User.objects.exclude(email="")
    }
    for index, row in enumerate(rows, start=2):  # row 1 is the header
        if any(cell.strip() for cell in row):
            try:
                with transaction.atomic():
                    created = import_row(_map_row(header, row, job.mapping), owners=owners, by=job.created_by)
                if created:
                    job.created_count += 1
                else:
                    job.updated_count += 1
            except ValidationError as exc:
                job.errors.append({"row": index, "message": "; ".join(_messages(exc))})
        job.processed_rows += 1
        if job.processed_rows % PROGRESS_EVERY == 0:
            job.save(update_fields=["processed_rows", "created_count", "updated_count", "errors"])
    job.status, job.finished_at = ImportJob.Status.DONE, timezone.now()
    job.save()


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for messages in exc.message_dict.values() for m in messages]
    return exc.messages


def _map_row(header: list[str], row: list[str], mapping: dict[str, str]) -> dict:
    values: dict = {"phones": [], "custom_fields": {}}
    for column, cell in zip(header, row):
        target, cell = mapping.get(column, IGNORE), cell.strip()
        if not target or not cell:
            continue
        if target == "phone":
            values["phones"].append(cell)
        elif target.startswith("custom:"):
            values["custom_fields"][target.removeprefix("custom:")] = cell
        else:
            values[target] = cell
    return values


def import_row(values: dict, *, owners: dict[str, User], by: User | None) -> bool:
    """Create or update one contact from a mapped row. Returns True when a contact was created."""
    numbers = services.normalise_phones(values["phones"])
    name, email = values.get("name", ""), values.get("email", "")
    if not numbers and not name:
        raise ValidationError("The row has neither a phone number nor a name.")
    if email:
        validate_email(email)
    owner = None
    if values.get("owner"):
        owner = owners.get(values["owner"].lower())
        if owner is None:
            raise ValidationError(f"Owner “{values['owner']}” is not a user.")
    custom = services.clean_custom_fields(values["custom_fields"])
    labels = services.get_or_create_labels(_split_labels(values.get("labels", "")))

    matches = list(
        Contact.objects.filter(pk__in=ContactPhone.objects.filter(number__in=numbers).values("contact_id")).order_by("pk")
    )
    if not matches:
        contact = services.create_contact(
            services.ContactData(name=name, phones=numbers, email=email, owner=owner, labels=labels, custom_fields=custom),
            by=by,
        )
        created = True
    else:
        # The file's row names the same person as one or more existing contacts: they become one.
        contact = matches[0]
        for duplicate in matches[1:]:
            contact = services.merge_contacts(contact, duplicate, by=by)
        known = list(contact.phones.values_list("number", flat=True))
        services.update_contact(
            contact,
            services.ContactData(
                name=contact.name or name,
                phones=known + [n for n in numbers if n not in known],
                email=contact.email or email,
                owner=contact.owner or owner,
                labels=None,
                custom_fields=custom,
            ),
            by=by,
        )
        contact.labels.add(*labels)
        created = False
    if values.get("note"):
        services.add_note(contact, author=by, body=values["note"])
    return created


def _split_labels(text: str) -> list[str]:
    return [part for part in text.replace("|", ";").split(";") if part.strip()]


# ---------------------------------------------------------------- export


def export_rows(contacts: Iterable[Contact]) -> Iterator[list[str]]:
    custom_fields = list(CustomField.objects.all())
    yield ["id", "name", "phones", "email", "owner", "labels", "created_at"] + [f.key for f in custom_fields]
    for contact in contacts:
        yield [
            str(contact.pk),
            contact.name,
            "; ".join(p.number for p in contact.phones.all()),
            contact.email,
            contact.owner.username if contact.owner else "",
            "; ".join(label.name for label in contact.labels.all()),
            contact.created_at.isoformat(),
        ] + ["" if contact.custom_fields.get(f.key) is None else str(contact.custom_fields[f.key]) for f in custom_fields]


class _Echo:
    def write(self, value):
        return value


def export_csv_lines(contacts: Iterable[Contact]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in export_rows(contacts):
        yield writer.writerow(row)
