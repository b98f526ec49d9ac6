"""Failed sign-ins are counted per account and per address; past a limit, both wait.

Counts live in the shared cache (Redis in production), so every server process sees the same
numbers. An account's count clears when it signs in; an address's only with time, so one good
account does not reset a guessing run against others. Used by the login page, the admin login
(accounts.forms) and the API's key authentication (accounts.authentication).
"""

import hashlib

from django.conf import settings
from django.core.cache import cache


def client_address(request) -> str:
    """REMOTE_ADDR: behind a proxy, let the server set it from the proxy's header (daphne --proxy-headers);
    a client-sent X-Forwarded-For is never believed here."""
    return (request.META.get("REMOTE_ADDR") or "unknown")[:64] if request is not None else "unknown"


def _keys(request, username: str | None) -> list[tuple[str, int]]:
    keys = [(f"login-fail:addr:{client_address(request)}", settings.LOGIN_FAILURES_PER_ADDRESS)]
    if username:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        keys.append((f"login-fail:user:{digest}", settings.LOGIN_FAILURES_PER_ACCOUNT))
    return keys


def is_blocked(request, username: str | None = None) -> bool:
    limits = _keys(request, username)
    counts = cache.get_many([key for key, _ in limits])
    return any(counts.get(key, 0) >= limit for key, limit in limits)


def record_failure(request, username: str | None = None) -> None:
    for key, _ in _keys(request, username):
        if not cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def record_success(username: str) -> None:
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    cache.delete(f"login-fail:user:{digest}")


def blocked_message() -> str:
    minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
    return f"Too many failed sign-ins. Try again in {minutes} minutes."
