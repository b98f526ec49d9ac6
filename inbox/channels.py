"""Setting up channels (one business number on Tata omni). Admins only; the API and admin call these."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from core import phones
from core.errors import Conflict, NotAllowed
from inbox.models import Channel
from inbox.providers import tata_rcs, tata_whatsapp

EDITABLE = (
    "kind", "name", "phone_number", "api_base_url", "access_token", "auth_scheme", "partner_token", "accept_unsigned_posts", "team", "is_active",
)


def _check_admin(by: User | None) -> None:
    if by is not None and not by.is_admin_role:
        raise NotAllowed("Only admins can set up channels.", code="forbidden")


def _clean_number(raw: str) -> str:
    try:
        return phones.to_e164(raw)
    except ValidationError as exc:
        raise ValidationError({"phone_number": exc.messages}) from exc


@transaction.atomic
def create_channel(*, by: User | None, **fields) -> Channel:
    """A new channel with its own webhook token (its URL is `channel.webhook_url`)."""
    _check_admin(by)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not channel fields: {sorted(unknown)}")
    fields["phone_number"] = _clean_number(fields.get("phone_number", ""))
    channel = Channel(**fields)
    channel.full_clean(exclude=["webhook_token"])
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError as exc:
        raise Conflict(f"A {channel.get_kind_display()} channel for {channel.phone_number} already exists.") from exc
    return channel


@transaction.atomic
def update_channel(channel: Channel, *, by: User | None, **fields) -> Channel:
    """Change a channel. A secret left out (or empty) keeps its stored value."""
    _check_admin(by)
    for name in ("access_token", "partner_token"):
        if not fields.get(name):
            fields.pop(name, None)
    if "phone_number" in fields:
        fields["phone_number"] = _clean_number(fields["phone_number"])
    for name, value in fields.items():
        if name not in EDITABLE:
            raise ValueError(f"not a channel field: {name}")
        setattr(channel, name, value)
    channel.full_clean(exclude=["webhook_token"])
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError as exc:
        raise Conflict(f"A {channel.get_kind_display()} channel for {channel.phone_number} already exists.") from exc
    return channel


def rotate_webhook_token(channel: Channel, *, by: User | None) -> Channel:
    """A fresh webhook URL (the old one stops working at once: paste the new one into Tata's portal)."""
    from inbox.models import new_public_token

    _check_admin(by)
    channel.webhook_token = new_public_token()
    channel.save(update_fields=["webhook_token"])
    return channel


def test_connection(channel: Channel) -> tuple[bool, str]:
    """Try the channel's token in its configured Authorization form, and in the other form when Tata
    refuses it; say plainly which works. (ok, message); ok means the configured form works."""
    if not channel.access_token:
        return False, f"{channel.name}: no access token is set; paste the token from Tata's portal first."
    check = tata_rcs.check_authorization if channel.kind == Channel.Kind.RCS else tata_whatsapp.check_authorization
    schemes = dict(Channel.AuthScheme.choices)
    configured = channel.auth_scheme
    other = Channel.AuthScheme.BEARER if configured == Channel.AuthScheme.PLAIN else Channel.AuthScheme.PLAIN
    try:
        if check(channel.api_base_url, tata_whatsapp.authorization(channel.access_token, configured)):
            return True, f"{channel.name}: Tata accepts the token sent as “{schemes[configured]}” ({channel.api_base_url})."
        if check(channel.api_base_url, tata_whatsapp.authorization(channel.access_token, other)):
            return False, (
                f"{channel.name}: Tata refuses “{schemes[configured]}” but accepts “{schemes[other]}”. "
                f"Change the channel's Authorization header to the second form."
            )
    except tata_whatsapp.TataError as exc:
        return False, f"{channel.name}: could not tell — {exc.message} ({channel.api_base_url})."
    return False, f"{channel.name}: Tata refuses the token in both forms: the token is wrong or expired; paste a fresh one."
