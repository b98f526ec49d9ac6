from django import forms

from core.fields import mask


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


class KeepSecretsMixin:
    """ModelAdmin mixin: an empty secret box in the change form keeps the stored value."""

    def save_model(self, request, obj, form, change):
        if change:
            from core.fields import EncryptedTextField

            for field in obj._meta.fields:
                if isinstance(field, EncryptedTextField) and not form.cleaned_data.get(field.name):
                    setattr(obj, field.attname, form.initial.get(field.name))
        super().save_model(request, obj, form, change)
