"""Reading contacts, with who-may-see-what applied."""

import re

from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When

from accounts.models import User
from accounts.selectors import teammate_ids
from contacts.models import Contact, ContactPhone
from core import phones
from core.untrusted import clean_text, row_id

# Extra visibility grants from other apps (e.g. "contacts of conversations this agent may see"):
# functions user -> Q over Contact, registered from AppConfig.ready().
VISIBILITY_GRANTS: list = []

_PHONE_LIKE = re.compile(r"^[\d\s+()\-.]+$")


def visible_contacts(user: User) -> QuerySet[Contact]:
    """Admins and supervisors see every contact. An agent sees unowned contacts and those owned by
    themselves or a teammate (plus whatever other apps grant, such as their conversations' contacts)."""
    contacts = Contact.objects.all()
    if user.sees_everything:
        return contacts
    rule = Q(owner__isnull=True) | Q(owner_id__in=teammate_ids(user))
    for grant in VISIBILITY_GRANTS:
        rule |= grant(user)
    return contacts.filter(rule)


def search_contacts(contacts: QuerySet[Contact], query: str) -> QuerySet[Contact]:
    """Phone-looking queries match any phone by digits (in any typed form); others match name or email.

    Indexed on PostgreSQL by trigram GIN indexes (see migration 0002), so fragments stay fast at 100k+.
    """
    query = clean_text((query or "").strip())  # a NUL in a query string: PostgreSQL refuses it as a parameter
    if not query:
        return contacts
    digits = phone_search_digits(query)
    if digits:
        matching = ContactPhone.objects.filter(number__contains=digits).values("contact_id")
        # Numbers that end with the digits come first: people type the last few digits they remember.
        # The order also keeps PostgreSQL on the trigram index: ordered by name alone, it guessed 1% of
        # contacts match and walked the whole name index looking for the first page (150+ ms at 100k).
        ends_with = ContactPhone.objects.filter(contact=OuterRef("pk"), number__endswith=digits)
        ends_first = Case(When(Exists(ends_with), then=Value(0)), default=Value(1))
        return contacts.filter(pk__in=matching).order_by(ends_first, "name", "pk")
    # Names that start with the query come first. (No index yields this order, so PostgreSQL takes the
    # trigram index and sorts the few matches, instead of walking the whole name index.)
    starts_first = Case(When(name__istartswith=query, then=Value(0)), default=Value(1))
    return contacts.filter(name_or_email_matches(query)).order_by(starts_first, "name", "pk")


def phone_search_digits(query: str) -> str | None:
    """The digits a search looks for among phones when `query` looks like a phone number (in any
    typed form, three digits at least); None when it does not."""
    if _PHONE_LIKE.match(query) and sum(c.isdigit() for c in query) >= 3:
        return phones.search_digits(query)
    return None


def name_or_email_matches(query: str, *, through: str = "") -> Q:
    """A text search's condition on a contact, or with `through="contact__"` on rows pointing at one."""
    return Q(**{f"{through}name__ilike": query}) | Q(**{f"{through}email__ilike": query})


def filter_contacts(contacts: QuerySet[Contact], *, user: User, label=None, owner=None) -> QuerySet[Contact]:
    """owner: 'me', 'none', or a user id. A label or owner that is no id (from a hand-made query string)
    matches nothing."""
    if label:
        contacts = contacts.filter(labels__pk=row_id(label)) if row_id(label) else contacts.none()
    if owner == "me":
        contacts = contacts.filter(owner=user)
    elif owner == "none":
        contacts = contacts.filter(owner__isnull=True)
    elif owner:
        contacts = contacts.filter(owner_id=row_id(owner)) if row_id(owner) else contacts.none()
    return contacts


def with_list_data(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    return contacts.select_related("owner").prefetch_related("phones", "labels")
