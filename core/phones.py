"""Phone numbers: parsed with `phonenumbers`, stored as E.164, default region from settings (IN).

`09812345678`, `+91 98123 45678`, `919812345678` and `98123 45678` are all `+919812345678`.
Provider forms (digits with country code, no plus) are produced here too, at the client boundary.
"""

import functools
import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

_NON_DIGITS = re.compile(r"\D")


class InvalidPhoneNumber(ValidationError):
    pass


def _parse(raw: str, region: str | None = None) -> phonenumbers.PhoneNumber:
    region = region or settings.PHONE_DEFAULT_REGION
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("Enter a phone number.")
    digits = _NON_DIGITS.sub("", text)
    candidates = [text]
    if not text.startswith("+") and not text.startswith("00"):
        # Providers send digits with the country code and no plus (919812345678).
        candidates.append("+" + digits)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
    raise InvalidPhoneNumber(f"“{raw}” is not a valid phone number.")


def to_e164(raw: str, region: str | None = None) -> str:
    """Normalise any typed or provider form to E.164, or raise InvalidPhoneNumber."""
    return _e164(raw, region or settings.PHONE_DEFAULT_REGION)


@functools.lru_cache(maxsize=16384)
def _e164(raw: str, region: str) -> str:
    # Cached: every webhook and dialplan request parses the same callers and business numbers again,
    # and a parse costs ~0.1 ms. Invalid input raises, and exceptions are not cached.
    return phonenumbers.format_number(_parse(raw, region), phonenumbers.PhoneNumberFormat.E164)


def try_e164(raw: str, region: str | None = None) -> str | None:
    try:
        return to_e164(raw, region)
    except ValidationError:
        return None


def provider_digits(e164: str) -> str:
    """`+919812345678` → `919812345678`, the form Tata and Smartflo use."""
    return _NON_DIGITS.sub("", e164)


def national_digits(e164: str) -> str:
    """`+919812345678` → `9812345678`."""
    return str(_parse(e164).national_number)


def display(e164: str) -> str:
    try:
        return phonenumbers.format_number(_parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except ValidationError:
        return e164


def search_digits(query: str) -> str:
    """The digits to look for when someone searches by a phone fragment typed in any form.

    A full number is normalised (so `09812345678` finds `+919812345678`); a fragment loses the trunk
    prefix `0` (just one: `0000` still looks for zeros) so `098123` matches the stored `+9198123…`.
    """
    full = try_e164(query)
    if full:
        return provider_digits(full)
    digits = _NON_DIGITS.sub("", query)
    return digits[1:] if digits.startswith("0") and len(digits) > 1 else digits
