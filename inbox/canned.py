"""Canned replies: `/shortcut` in the composer expands to a saved text.

Shared replies (no owner) are managed by admins; every agent keeps their own. An agent's own reply
wins over a shared one with the same shortcut.
"""

import re

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils.text import slugify

from accounts.models import User
from core.errors import ApplicationError, NotAllowed
from core.untrusted import clean_text
from inbox.models import CannedResponse

SHORTCUT_ONLY = re.compile(r"^/([A-Za-z0-9_-]+)$")


def available(user: User) -> QuerySet[CannedResponse]:
    return CannedResponse.objects.filter(Q(owner__isnull=True) | Q(owner=user))


def search(user: User, prefix: str, limit: int = 8) -> list[CannedResponse]:
    """Replies whose shortcut starts with `prefix` (own first), one per shortcut."""
    prefix = clean_text((prefix or "").lstrip("/").lower())
    found, seen = [], set()
    for reply in available(user).filter(shortcut__istartswith=prefix).order_by("shortcut", "owner_id"):
        if reply.shortcut in seen:
            continue
        if reply.owner_id is None and available(user).filter(shortcut=reply.shortcut, owner=user).exists():
            continue
        seen.add(reply.shortcut)
        found.append(reply)
        if len(found) >= limit:
            break
    return found


def expand(user: User, text: str) -> str:
    """A message that is exactly `/shortcut` becomes the saved reply; anything else is left alone."""
    match = SHORTCUT_ONLY.match((text or "").strip())
    if not match:
        return text
    shortcut = match.group(1).lower()
    reply = available(user).filter(shortcut=shortcut).order_by(F("owner_id").desc(nulls_last=True)).first()  # own first
    return reply.body if reply else text


def can_manage(user: User, reply: CannedResponse) -> bool:
    return reply.owner_id == user.pk or (reply.owner_id is None and user.is_admin_role)


def save(user: User, *, shortcut: str, body: str, shared: bool = False, reply: CannedResponse | None = None) -> CannedResponse:
    shortcut = slugify(shortcut.lstrip("/")).lower()
    body = (body or "").strip()
    if not shortcut:
        raise ApplicationError("Give the reply a shortcut of letters, digits or dashes (e.g. thanks).")
    if not body:
        raise ApplicationError("The reply text is empty.")
    if shared and not user.is_admin_role:
        raise NotAllowed("Only admins manage shared replies.")
    if reply is not None and not can_manage(user, reply):
        raise NotAllowed("You cannot change this reply.")
    owner = None if shared else (reply.owner if reply is not None and reply.owner_id else user)
    clash = CannedResponse.objects.filter(shortcut=shortcut, owner=owner).exclude(pk=reply.pk if reply else None)
    if clash.exists():  # NULL owners are never equal in a unique index, so shared ones are checked here
        raise ApplicationError(f"/{shortcut} already exists{' as a shared reply' if shared else ' among your replies'}.")
    reply = reply or CannedResponse()
    reply.shortcut, reply.body = shortcut, body
    reply.owner = owner
    try:
        with transaction.atomic():
            reply.save()
    except IntegrityError:
        raise ApplicationError(f"/{shortcut} already exists{' as a shared reply' if shared else ' among your replies'}.") from None
    return reply


def delete(user: User, reply: CannedResponse) -> None:
    if not can_manage(user, reply):
        raise NotAllowed("You cannot delete this reply.")
    reply.delete()
