"""Everything that changes contacts. Views, the API, imports and webhooks all come through here."""

import datetime
import decimal
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model

from accounts.models import User
from accounts.selectors import assignable_users
from contacts.models import Contact, ContactPhone, CustomField, Label, Note
from contacts.selectors import visible_contacts
from core import phones


@dataclass
class ContactData:
    """The fields a person edits; phones in any typed form (normalised here)."""

    name: str = ""
    phones: list[str] = field(default_factory=list)
    email: str = ""
    owner: User | None = None
    labels: list[Label] | None = None
    custom_fields: dict | None = None


# ---------------------------------------------------------------- phones


def normalise_phones(raw_numbers: list[str]) -> list[str]:
    """E.164 numbers in the given order, duplicates dropped; one ValidationError lists every bad one."""
    numbers, bad = [], []
    for raw in raw_numbers:
        if not (raw or "").strip():
            continue
        try:
            number = phones.to_e164(raw)
        except ValidationError:
            bad.append(raw.strip())
            continue
        if number not in numbers:
            numbers.append(number)
    if bad:
        raise ValidationError({"phones": [f"“{b}” is not a valid phone number." for b in bad]})
    return numbers


def _check_phones_free(numbers: list[str], contact: Contact | None, by: User | None) -> None:
    """A number belongs to one contact. The clash names that contact only to someone who may see it."""
    taken = ContactPhone.objects.filter(number__in=numbers).select_related("contact")
    if contact is not None:
        taken = taken.exclude(contact=contact)
    taken = list(taken)
    seen = set(visible_contacts(by).filter(pk__in=[p.contact_id for p in taken]).values_list("pk", flat=True)) if by else None
    errors = [
        f"{p.display} already belongs to {p.contact}." if seen is None or p.contact_id in seen
        else f"{p.display} already belongs to a contact you cannot see; ask a supervisor."
        for p in taken
    ]
    if errors:
        raise ValidationError({"phones": errors})


def _set_phones(contact: Contact, numbers: list[str]) -> None:
    contact.phones.exclude(number__in=numbers).delete()
    existing = set(contact.phones.values_list("number", flat=True))
    for index, number in enumerate(numbers):
        if number not in existing:
            ContactPhone.objects.create(contact=contact, number=number, is_primary=index == 0)
        else:
            contact.phones.filter(number=number).update(is_primary=index == 0)


# ---------------------------------------------------------------- custom fields


def clean_custom_fields(values: dict, *, partial: bool = True) -> dict:
    """Validate and coerce values against the admin-defined fields. Unknown keys are an error."""
    definitions = {f.key: f for f in CustomField.objects.all()}
    cleaned, errors = {}, []
    for key, value in (values or {}).items():
        definition = definitions.get(key)
        if definition is None:
            errors.append(f"“{key}” is not a custom field.")
            continue
        if value in (None, ""):
            cleaned[key] = None
            continue
        try:
            cleaned[key] = _coerce(definition, value)
        except (ValueError, decimal.InvalidOperation):
            errors.append(f"{definition.label}: “{value}” is not a valid {definition.get_field_type_display().lower()}.")
    if errors:
        raise ValidationError({"custom_fields": errors})
    return cleaned


# A custom number field holds at most this many digits before or after the point.
MAX_NUMBER_DIGITS = 30


def _coerce(definition: CustomField, value):
    kind = definition.field_type
    if kind == CustomField.Type.NUMBER:
        number = decimal.Decimal(str(value).strip())
        if not number.is_finite() or abs(number.adjusted()) > MAX_NUMBER_DIGITS:  # NaN, Infinity, 1e999999999
            raise ValueError(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == CustomField.Type.DATE:
        if isinstance(value, datetime.date):
            return value.isoformat()
        return datetime.date.fromisoformat(str(value).strip()).isoformat()
    if kind == CustomField.Type.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "y"):
            return True
        if text in ("0", "false", "no", "n"):
            return False
        raise ValueError(value)
    if kind == CustomField.Type.CHOICE:
        text = str(value).strip()
        if text not in definition.choice_list:
            raise ValueError(value)
        return text
    return str(value).strip()


def _merge_custom_fields(current: dict, updates: dict) -> dict:
    merged = {**current, **updates}
    return {k: v for k, v in merged.items() if v is not None}


# ---------------------------------------------------------------- create / update


def _check_owner(owner: User | None, by: User | None, *, current: User | None = None) -> None:
    """Who may own a contact is who `by` may assign work to (an unchanged owner is left alone)."""
    if by is None or owner is None or owner == current:
        return
    if not assignable_users(by).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": [f"You cannot make {owner} the owner; choose yourself or a teammate."]})


@transaction.atomic
def create_contact(data: ContactData, *, by: User | None = None) -> Contact:
    numbers = normalise_phones(data.phones)
    _check_owner(data.owner, by)
    _check_phones_free(numbers, None, by)
    custom = clean_custom_fields(data.custom_fields or {})
    contact = Contact(name=data.name.strip(), email=data.email.strip(), owner=data.owner)
    contact.custom_fields = _merge_custom_fields({}, custom)
    contact.full_clean(exclude=["labels"])
    contact.save()
    _set_phones(contact, numbers)
    if data.labels:
        contact.labels.set(data.labels)
    return contact


@transaction.atomic
def update_contact(contact: Contact, data: ContactData, *, by: User | None = None) -> Contact:
    """Replace the editable fields. `labels=None` / `custom_fields=None` leave those untouched."""
    numbers = normalise_phones(data.phones)
    _check_owner(data.owner, by, current=contact.owner)
    _check_phones_free(numbers, contact, by)
    contact.name = data.name.strip()
    contact.email = data.email.strip()
    contact.owner = data.owner
    if data.custom_fields is not None:
        contact.custom_fields = _merge_custom_fields(contact.custom_fields, clean_custom_fields(data.custom_fields))
    contact.full_clean(exclude=["labels"])
    contact.save()
    _set_phones(contact, numbers)
    if data.labels is not None:
        contact.labels.set(data.labels)
    return contact


def find_or_create_by_phone(raw_phone: str, *, name: str = "", known: dict[str, Contact | None] | None = None) -> tuple[Contact, bool]:
    """The contact who has this number (in any form), creating one if nobody does.

    Safe under concurrency: two webhooks for a new number at once make one contact (the unique
    number decides; the loser reads the winner's row). A name is filled in only if we had none.
    `known` (E.164 → contact, or None where nobody had the number), read ahead for a batch of numbers,
    is looked in first and kept up to date.
    """
    number = phones.to_e164(raw_phone)
    created = False
    if known is not None and number in known:
        contact = known[number]
    else:
        phone = ContactPhone.objects.select_related("contact").filter(number=number).first()
        contact = phone.contact if phone else None
    if contact is None:
        try:
            with transaction.atomic():
                contact, created = Contact.objects.create(name=(name or "")[:200]), True
                ContactPhone.objects.create(contact=contact, number=number, is_primary=True)
        except IntegrityError:
            contact, created = ContactPhone.objects.select_related("contact").get(number=number).contact, False
    elif name and not contact.name:
        contact.name = name[:200]
        contact.save(update_fields=["name", "updated_at"])
    if known is not None:
        known[number] = contact
    return contact, created


# ---------------------------------------------------------------- notes and labels


def add_note(contact: Contact, *, author: User | None, body: str) -> Note:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": ["A note cannot be empty."]})
    note = Note.objects.create(contact=contact, author=author, body=body)
    Contact.objects.filter(pk=contact.pk).update(updated_at=note.created_at)
    return note


def add_label(contact: Contact, label: Label) -> None:
    contact.labels.add(label)


def remove_label(contact: Contact, label: Label) -> None:
    contact.labels.remove(label)


def get_or_create_labels(names: list[str]) -> list[Label]:
    labels = []
    for name in names:
        name = name.strip()[:50]
        if name:
            label = Label.objects.filter(name__iexact=name).first() or Label.objects.create(name=name)
            labels.append(label)
    return labels


# ---------------------------------------------------------------- merge

# Apps whose rows cannot simply be repointed (say, a unique "one open conversation per contact")
# register a hook(keep, duplicate) here from AppConfig.ready(); it runs before the generic repointing.
MERGE_HOOKS: list = []


@transaction.atomic
def merge_contacts(keep: Contact, duplicate: Contact, *, by: User | None = None) -> Contact:
    """Fold `duplicate` into `keep`; every row that pointed at the duplicate follows it.

    Phones, notes and labels move; empty fields on `keep` are filled from the duplicate; and every
    foreign key or many-to-many from any app (conversations, calls, dialplan logs…) is repointed,
    so apps added later are covered without touching this function. Locks both rows (pk order).
    """
    if keep.pk == duplicate.pk:
        raise ValidationError("A contact cannot be merged with itself.")
    locked = {c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=[keep.pk, duplicate.pk]).order_by("pk")}
    keep, duplicate = locked[keep.pk], locked[duplicate.pk]

    keep.name = keep.name or duplicate.name
    keep.email = keep.email or duplicate.email
    keep.owner = keep.owner or duplicate.owner
    keep.custom_fields = {**duplicate.custom_fields, **{k: v for k, v in keep.custom_fields.items() if v not in (None, "")}}
    if keep.phones.filter(is_primary=True).exists():
        duplicate.phones.update(is_primary=False)

    for hook in MERGE_HOOKS:
        hook(keep, duplicate)
    for relation in Contact._meta.related_objects:
        if relation.many_to_many:
            _move_many_to_many(relation, keep, duplicate)
        elif relation.one_to_many or relation.one_to_one:
            relation.related_model._base_manager.filter(**{relation.field.name: duplicate}).update(
                **{relation.field.name: keep}
            )
    for m2m in Contact._meta.many_to_many:
        getattr(keep, m2m.name).add(*getattr(duplicate, m2m.name).all())

    summary = f"Merged {duplicate} (#{duplicate.pk}) into this contact."
    duplicate.delete()
    keep.save()
    Note.objects.create(contact=keep, author=by, body=summary)
    return keep


def _move_many_to_many(relation, keep: Contact, duplicate: Contact) -> None:
    model: type[Model] = relation.related_model
    for obj in model._base_manager.filter(**{relation.field.name: duplicate}):
        getattr(obj, relation.field.name).add(keep)
