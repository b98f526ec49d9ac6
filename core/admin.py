"""Admin helpers shared by the apps' admins."""

from core.fields import EncryptedTextField


class KeepSecretsMixin:
    """ModelAdmin mixin: an empty secret box in the change form keeps the stored value."""

    def save_model(self, request, obj, form, change):
        if change:
            for field in obj._meta.fields:
                if isinstance(field, EncryptedTextField) and not form.cleaned_data.get(field.name):
                    setattr(obj, field.attname, form.initial.get(field.name))
        super().save_model(request, obj, form, change)
