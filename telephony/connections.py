"""Telephony connections: the rules of the connections API (and the wizard), and every write.

Field names are the API's (docs/reference/telephony-connections-api.txt). Secrets are written to
encrypted columns and never read back out; the log line of a change names the connection, the
provider and the fields set — never a value.
"""

import logging
import re

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction

from core import phones
from core.errors import NotAllowed
from telephony.models import Provider, TelephonyConnection
from telephony.providers import smartflo

logger = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EXE_NUMBER = re.compile(r"^\+?\d{4,15}$")
SIP_TRANSPORTS = ("UDP", "TCP", "TLS")

# API field → where it is kept: ("secret", model field) or ("option", key in `options`) or ("column", model field).
FIELDS = {
    "account_sid": ("option", "account_sid"),
    "auth_id": ("option", "account_sid"),  # an alias (Plivo / Vobiz)
    "auth_token": ("secret", "auth_token"),
    "api_key": ("secret", "api_key"),
    "subdomain": ("option", "subdomain"),
    "caller_id": ("option", "caller_id"),
    "from_number": ("option", "from_number"),
    "sip_host": ("option", "sip_host"),
    "outbound_username": ("option", "outbound_username"),
    "outbound_password": ("secret", "password"),
    "source_ips": ("option", "source_ips"),
    "did_number": ("option", "did_number"),
    "sip_transport": ("option", "sip_transport"),
    "username": ("option", "username"),
    "password": ("secret", "password"),
    "base_url": ("column", "base_url"),
    "tata_email": ("option", "tata_email"),
    "tata_password": ("secret", "password"),
    "agent_number": ("option", "agent_number"),
    "jwt_token": ("secret", "jwt_token"),
    "exe_number": ("option", "exe_number"),
}
SECRET_FIELDS = frozenset(name for name, (kind, _) in FIELDS.items() if kind == "secret")

# What each provider needs to work at all (`account_sid` is satisfied by `auth_id` too).
REQUIRED = {
    Provider.TWILIO: ["account_sid", "auth_token", "from_number"],
    Provider.EXOTEL: ["account_sid", "api_key", "auth_token", "subdomain", "caller_id"],
    Provider.PLIVO: ["account_sid", "auth_token", "from_number"],
    Provider.VOBIZ: ["account_sid", "auth_token", "from_number"],
    Provider.TATA_SMARTFLO: ["tata_email", "tata_password"],
    Provider.SIP: ["sip_host", "did_number"],
    Provider.VOICELINK: ["username", "password", "did_number"],
    Provider.MCUBE: ["jwt_token", "exe_number"],
}


def _check_admin(user) -> None:
    if user is not None and not (user.is_active and user.is_admin_role):
        raise NotAllowed("Only admins manage telephony connections.")


def clean(data: dict, *, provider: str | None, instance: TelephonyConnection | None = None, check_required: bool = True) -> dict:
    """Validate an API body (create: whole; update: the fields given) → {field: value}.
    Raises ValidationError with a message per field."""
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}

    def fail(name, message):
        errors.setdefault(name, []).append(message)

    if instance is None:
        if provider not in Provider.values:
            fail("provider", f"Choose one of {', '.join(Provider.values)}.")
    elif "provider" in data and data["provider"] != instance.provider:
        fail("provider", "The provider of a connection cannot change; create a new connection.")
    if "name" in data or instance is None:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            fail("name", "Give the connection a name (1–100 characters).")
        elif len(name.strip()) > 100:
            fail("name", "The name is at most 100 characters.")
        else:
            cleaned["name"] = name.strip()
    for key, value in data.items():
        if key in ("provider", "name", "team", "is_default"):
            continue
        if key not in FIELDS:
            fail(key, "Not a field of a telephony connection.")
            continue
        if value is None or value == "":
            continue
        value, problem = _stripped(key, value)
        if problem:
            fail(key, problem)
            continue
        problem = _format_problem(key, value, provider_of(provider, instance))
        if problem:
            fail(key, problem)
        elif key == "auth_token" and provider_of(provider, instance) == Provider.TATA_SMARTFLO:
            value = smartflo.clean_token(value)  # stored without the "Bearer " people paste with it
        cleaned[key] = value
    if "auth_id" in cleaned and "account_sid" not in cleaned:
        cleaned["account_sid"] = cleaned["auth_id"]
    cleaned.pop("auth_id", None)
    kind = provider_of(provider, instance)
    for required in REQUIRED.get(kind, []) if check_required else []:
        if required in cleaned:
            continue
        if instance is not None and _stored(instance, required):
            continue
        fail(required, f"Required for {Provider(kind).label}." if kind in Provider.values else "Required.")
    if errors:
        raise ValidationError(errors)
    return cleaned




def _stripped(key: str, value) -> tuple[object, str]:
    """The value without surrounding blanks, or the reason its type is wrong."""
    if key == "source_ips":
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            return value, "A list of IP addresses or CIDR ranges."
        return [v.strip() for v in value], ""
    if not isinstance(value, str):
        return value, "Must be a string."
    return value.strip(), ""


def _format_problem(key: str, value, kind: str) -> str:
    """Why this field's value cannot be stored ("" when it can)."""
    if key in ("from_number", "did_number") and not E164.match(value):
        return "An E.164 number: + then 7 to 15 digits, e.g. +918069000000."
    if key == "exe_number" and not EXE_NUMBER.match(value):
        return "4 to 15 digits, optionally starting with +."
    if key == "sip_transport" and value not in SIP_TRANSPORTS:
        return "One of UDP, TCP, TLS."
    validator = {"base_url": URLValidator(schemes=["http", "https"]), "tata_email": EmailValidator()}.get(key)
    if validator is not None:
        try:
            validator(value)
        except ValidationError:
            return {"base_url": "A full http(s) URL.", "tata_email": "An email address."}[key]
    if key in ("auth_token", "api_key") and kind == Provider.TATA_SMARTFLO and smartflo.looks_masked(value):
        return "This is the masked copy from Smartflo's portal (it contains ****); paste the full value."
    return ""


def provider_of(provider, instance) -> str:
    return instance.provider if instance is not None else (provider or "")


def _stored(instance: TelephonyConnection, name: str) -> bool:
    kind, target = FIELDS[name]
    if kind == "option":
        return bool(instance.options.get(target))
    return bool(getattr(instance, target))


def _apply(connection: TelephonyConnection, cleaned: dict) -> list[str]:
    touched = []
    for name, value in cleaned.items():
        if name == "name":
            connection.name = value
        else:
            kind, target = FIELDS[name]
            if kind == "option":
                connection.options[target] = value
            else:
                setattr(connection, target, value)
        touched.append(name)
    numbers = [connection.options.get(k) for k in ("from_number", "did_number", "caller_id")]
    exe = connection.options.get("exe_number")
    if exe:
        numbers.append(phones.try_e164(exe) or exe)
    for number in numbers:
        if number and number not in connection.phone_numbers:
            connection.phone_numbers = [*connection.phone_numbers, number]
    return touched


def create(*, by, provider: str, data: dict, team=None) -> TelephonyConnection:
    _check_admin(by)
    cleaned = clean(data, provider=provider)
    with transaction.atomic():
        connection = TelephonyConnection(provider=provider, created_by=by if by and by.pk else None, team=team)
        fields = _apply(connection, cleaned)
        first = not TelephonyConnection.objects.select_for_update().filter(is_default=True).exists()
        connection.is_default = first
        connection.save()
    logger.info("telephony connection %s (%s) created by %s; fields set: %s", connection.pk, provider, by, ", ".join(sorted(fields)))
    return connection


def update(connection: TelephonyConnection, *, by, data: dict, check_required: bool = True) -> TelephonyConnection:
    """`check_required=False`: the wizard's steps, where a Smartflo account may sign in with its API
    token alone (the API, following the reference, asks for the panel email and password)."""
    _check_admin(by)
    cleaned = clean(data, provider=None, instance=connection, check_required=check_required)
    with transaction.atomic():
        fields = _apply(connection, cleaned)
        if "team" in data:
            connection.team = data["team"]
        if {"auth_token", "tata_email", "tata_password", "base_url"} & set(fields):
            connection.access_token, connection.access_token_expires_at = "", None  # sign in again with the new details
        connection.save()
    logger.info("telephony connection %s updated by %s; fields set: %s", connection.pk, by, ", ".join(sorted(fields)) or "none")
    return connection


def make_default(connection: TelephonyConnection, *, by) -> TelephonyConnection:
    _check_admin(by)
    with transaction.atomic():
        TelephonyConnection.objects.select_for_update().filter(is_default=True).exclude(pk=connection.pk).update(is_default=False)
        connection.is_default = True
        connection.save(update_fields=["is_default", "updated_at"])
    logger.info("telephony connection %s made the default by %s", connection.pk, by)
    return connection


def delete(connection: TelephonyConnection, *, by) -> None:
    """Calls stay (their connection becomes empty); the oldest remaining connection becomes the default."""
    _check_admin(by)
    with transaction.atomic():
        was_default, pk = connection.is_default, connection.pk
        connection.delete()
        if was_default:
            successor = TelephonyConnection.objects.order_by("created_at").first()
            if successor:
                successor.is_default = True
                successor.save(update_fields=["is_default", "updated_at"])
    logger.info("telephony connection %s deleted by %s", pk, by)
