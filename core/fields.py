"""EncryptedTextField: the one field type for secrets (tokens, passwords, API keys).

Values are Fernet-encrypted with settings.FIELD_ENCRYPTION_KEY before they reach the database and
decrypted when loaded. Admin shows them masked (SecretWidget, below); APIs make them write-only.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django import forms
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not a valid Fernet key") from exc


def encrypt(value: str) -> str:
    return PREFIX + _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise ValueError("value is not encrypted")
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEY") from exc


def mask(value: str) -> str:
    """What a person may see of a secret: enough to recognise it, never enough to use it."""
    if not value:
        return ""
    return "•" * 8 + value[-4:] if len(value) > 8 else "•" * 8


class SecretWidget(forms.PasswordInput):
    """Shows a secret masked; leaving the box empty keeps the stored value."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["placeholder"] = (
            f"stored: {mask(value)} — type to replace" if value else "not set"
        )
        return context

    def value_from_datadict(self, data, files, name):
        return data.get(name) or None

    def value_omitted_from_data(self, data, files, name):
        return not data.get(name)


class EncryptedTextField(models.TextField):
    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def formfield(self, **kwargs):
        # Forced, not defaulted: Django admin passes its own textarea for every TextField subclass.
        kwargs["widget"] = SecretWidget
        return super().formfield(**kwargs)
