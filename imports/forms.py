from django import forms

from imports import whatsapp_export as wa
from inbox.models import Channel


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Chat export or message report",
        help_text="The .zip (with media) or .txt that WhatsApp's “Export chat” made, on Android or iPhone; or a message "
        "report as .csv, .json or .jsonl (Tata portal, another CRM). Up to 1 GB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,.txt,.csv,.json,.jsonl,.ndjson"}),
    )


class ExportQuestionsForm(forms.Form):
    business_sender = forms.ChoiceField(label="Which participant is the business?", widget=forms.RadioSelect)
    channel = forms.ModelChoiceField(
        label="Which of your numbers was this chat on?", queryset=Channel.objects.filter(kind=Channel.Kind.WHATSAPP, is_active=True)
    )
    contact_phone = forms.CharField(
        label="The customer's phone number", required=False, max_length=40,
        help_text="Needed when the export shows a saved name instead of a number.",
    )  # fmt: skip
    date_order = forms.ChoiceField(
        label="How are the dates written?", required=False, widget=forms.RadioSelect,
        choices=[(wa.DMY, "Day first (31/01/2024)"), (wa.MDY, "Month first (01/31/2024)")],
    )  # fmt: skip
    time_zone = forms.CharField(label="Time zone the phone was set to", max_length=64)

    def __init__(self, *args, senders: list[str], ask_date_order: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["business_sender"].choices = [(name, name) for name in senders]
        if not ask_date_order:
            del self.fields["date_order"]


class ReportSettingsForm(forms.Form):
    channel = forms.ModelChoiceField(
        label="Number for rows without a business number",
        queryset=Channel.objects.filter(kind=Channel.Kind.WHATSAPP, is_active=True),
    )
    time_zone = forms.CharField(label="Time zone of times written without one", max_length=64)
