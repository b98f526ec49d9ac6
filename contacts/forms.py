import re

from django import forms
from django.core.exceptions import ValidationError

from accounts.selectors import assignable_users
from contacts import services
from contacts.models import Contact, CustomField, Label


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    phones = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "98123 45678\n+91 22 2345 6789"}),
        help_text="One number per line, in any form. The first is the primary number.",
    )
    email = forms.EmailField(required=False)
    owner = forms.ModelChoiceField(queryset=None, required=False, empty_label="— nobody —")
    labels = forms.ModelMultipleChoiceField(
        queryset=Label.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, user, contact: Contact | None = None, **kwargs):
        if contact is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": contact.name,
                "phones": "\n".join(p.number for p in contact.phones.all()),
                "email": contact.email,
                "owner": contact.owner,
                "labels": list(contact.labels.all()),
                **{f"cf_{k}": v for k, v in contact.custom_fields.items()},
            }
        super().__init__(*args, **kwargs)
        self.contact = contact
        self.fields["owner"].queryset = assignable_users(user)
        self.custom_field_defs = list(CustomField.objects.all())
        for definition in self.custom_field_defs:
            self.fields[f"cf_{definition.key}"] = _form_field(definition)

    @property
    def custom_field_names(self):
        return [f"cf_{d.key}" for d in self.custom_field_defs]

    def clean(self):
        cleaned = super().clean()
        phone_lines = [p for p in re.split(r"[\n,]+", cleaned.get("phones", "")) if p.strip()]
        if not phone_lines and not cleaned.get("name"):
            raise ValidationError("Give the contact a name or a phone number.")
        try:
            cleaned["phone_list"] = services.normalise_phones(phone_lines)
        except ValidationError as exc:
            self.add_error("phones", exc.message_dict["phones"])
        return cleaned

    def to_data(self) -> services.ContactData:
        c = self.cleaned_data
        return services.ContactData(
            name=c["name"],
            phones=c["phone_list"],
            email=c["email"],
            owner=c["owner"],
            labels=list(c["labels"]),
            custom_fields={d.key: c.get(f"cf_{d.key}") for d in self.custom_field_defs},
        )

    def save(self, *, by) -> Contact:
        """Run the service; errors it raises (a number already taken…) land on the form's fields."""
        try:
            if self.contact is None:
                return services.create_contact(self.to_data(), by=by)
            return services.update_contact(self.contact, self.to_data(), by=by)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields or field == "__all__" else None, messages)
            return None


def _form_field(definition: CustomField) -> forms.Field:
    common = {"label": definition.label, "required": False}
    kind = definition.field_type
    if kind == CustomField.Type.NUMBER:
        return forms.DecimalField(**common)
    if kind == CustomField.Type.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == CustomField.Type.BOOLEAN:
        return forms.NullBooleanField(**common)
    if kind == CustomField.Type.CHOICE:
        return forms.ChoiceField(choices=[("", "—")] + [(c, c) for c in definition.choice_list], **common)
    return forms.CharField(max_length=500, **common)


class NoteForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Add a note…"}))


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV with a header row; UTF-8 or Excel's encoding. Up to 20 MB.")


class MergeForm(forms.Form):
    other = forms.ModelChoiceField(queryset=Contact.objects.none(), label="Merge this contact into")

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["other"].queryset = contacts
