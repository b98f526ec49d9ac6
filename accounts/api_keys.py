"""Personal API keys: made, shown once, checked on every API request, revoked.

A key is `smp_live_` + 43 characters of randomness (32 bytes). Only its SHA-256 is stored, so a
leaked database or admin screen reveals no key; the first characters are kept to recognise it.
"""

import datetime
import hashlib
import secrets

from django.db.models import Q
from django.utils import timezone

from accounts.models import ApiKey, User
from core.errors import NotAllowed

PREFIX = "smp_live_"
SHOWN_PREFIX_LENGTH = len(PREFIX) + 6
LAST_USED_PRECISION = 60  # seconds: last_used_at is written at most this often per key


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create(user: User, *, name: str) -> tuple[ApiKey, str]:
    """A new key for `user` → (the stored row, the key itself: show it now, it cannot be recovered)."""
    name = (name or "").strip()[:100] or "API key"
    raw = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(user=user, name=name, prefix=raw[:SHOWN_PREFIX_LENGTH], key_hash=_hash(raw))
    return key, raw


def revoke(key: ApiKey, *, by: User) -> ApiKey:
    """A user revokes their own keys; an admin anyone's."""
    if key.user_id != by.pk and not by.is_admin_role:
        raise NotAllowed("You can only revoke your own keys.")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def user_for(raw: str) -> User | None:
    """The active user a presented key belongs to, or None (unknown, revoked, or the user is inactive)."""
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    key = ApiKey.objects.select_related("user").filter(key_hash=_hash(raw), revoked_at__isnull=True).first()
    if key is None or not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() >= LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - datetime.timedelta(seconds=LAST_USED_PRECISION))
        ).update(last_used_at=now)
    return key.user


def keys_of(user: User):
    return ApiKey.objects.filter(user=user)
