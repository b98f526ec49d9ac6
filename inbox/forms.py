"""Forms of the inbox screen: list filters and the agent actions."""

import datetime
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from accounts.models import Team, User
from accounts.selectors import assignable_users
from contacts.models import Label
from inbox.models import Channel, Conversation, Message, Template
from inbox.selectors import LIST_VIEWS, SEARCH_MAX_LENGTH
from inbox.services import BULK_MAX, BULK_STATUSES, NOTE_MAX_LENGTH


class ListFilterForm(forms.Form):
    view = forms.ChoiceField(choices=[(v, v.capitalize()) for v in LIST_VIEWS], required=False)
    status = forms.ChoiceField(choices=[("", "Any status")] + list(Conversation.Status.choices), required=False)
    channel = forms.ModelChoiceField(queryset=Channel.objects.all(), required=False, empty_label="All numbers")
    label = forms.ModelChoiceField(queryset=Label.objects.all(), required=False, empty_label="Any label")
    q = forms.CharField(required=False)

    FIELDS = ("view", "status", "channel", "label", "q")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("status", "channel", "label"):
            self.fields[name].widget.attrs["aria-label"] = name.capitalize() if name != "channel" else "Number"

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "view": data.get("view") or "all",
            "status": data.get("status") or "",
            "channel_id": data["channel"].pk if data.get("channel") else None,
            "label_id": data["label"].pk if data.get("label") else None,
            # Cut rather than refused: a pasted paragraph still searches for its start.
            "query": (self.data.get("q") or "").strip()[:SEARCH_MAX_LENGTH],
        }

    def query_string(self) -> str:
        """The filters as the list's URLs carry them (the address bar, live refetches, row links). The
        view is always there, so a page opened from these URLs never falls back to the defaults."""
        filters = self.filters()
        params = {
            "view": filters["view"],
            "status": filters["status"],
            "channel": filters["channel_id"],
            "label": filters["label_id"],
            "q": filters["query"],
        }
        return urlencode({name: value for name, value in params.items() if value})


class BulkForm(forms.Form):
    """What the list's action bar does to the chosen conversations (`ids`, repeated): assign them to an
    agent ("none" unassigns), hand them to a team ("none": the shared pool), add a label, or set a status."""

    action = forms.ChoiceField(choices=[("assign", "Assign"), ("team", "Team"), ("label", "Label"), ("status", "Status")])
    assignee = forms.CharField(required=False)
    team = forms.CharField(required=False)
    label = forms.ModelChoiceField(queryset=Label.objects.all(), required=False)
    status = forms.ChoiceField(choices=[(s, s) for s in BULK_STATUSES], required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        try:
            data["ids"] = sorted({int(pk) for pk in self.data.getlist("ids")})
        except ValueError:
            raise forms.ValidationError("Choose conversations from the list.") from None
        if not data["ids"]:
            raise forms.ValidationError("Choose at least one conversation.")
        if len(data["ids"]) > BULK_MAX:
            raise forms.ValidationError(f"Act on at most {BULK_MAX} conversations at once.")
        action = data.get("action")
        if action == "assign":
            data["assignee"] = self._choice(data.get("assignee"), assignable_users(self.user), "Choose whom to assign them to.")
        elif action == "team":
            data["team"] = self._choice(data.get("team"), Team.objects.all(), "Choose a team.")
        elif action == "label" and not data.get("label"):
            raise forms.ValidationError("Choose a label.")
        elif action == "status" and not data.get("status"):
            raise forms.ValidationError("Choose a status.")
        return data

    @staticmethod
    def _choice(value: str | None, queryset, error: str):
        """A row of `queryset` by pk, or None for "none"."""
        if value == "none":
            return None
        try:
            return queryset.get(pk=int(value or ""))
        except (ValueError, queryset.model.DoesNotExist):
            raise forms.ValidationError(error) from None


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_users(user)


class TeamForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="No team")


SNOOZE_PRESETS = [
    ("1h", "for 1 hour"),
    ("4h", "for 4 hours"),
    ("tomorrow", "until tomorrow 9:00"),
    ("monday", "until Monday 9:00"),
    ("custom", "until…"),
]


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Conversation.Status.choices)
    snooze = forms.ChoiceField(choices=SNOOZE_PRESETS, required=False)
    until = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), input_formats=["%Y-%m-%dT%H:%M"]
    )

    def clean(self):
        data = super().clean()
        data["snoozed_until"] = None
        if data.get("status") == Conversation.Status.SNOOZED:
            data["snoozed_until"] = self._until(data.get("snooze") or "custom", data.get("until"))
            if data["snoozed_until"] is None:
                raise forms.ValidationError("Choose until when to snooze.")
        return data

    @staticmethod
    def _until(preset: str, custom: datetime.datetime | None) -> datetime.datetime | None:
        now = timezone.localtime()
        morning = datetime.time(9, 0)
        if preset == "1h":
            return now + datetime.timedelta(hours=1)
        if preset == "4h":
            return now + datetime.timedelta(hours=4)
        if preset == "tomorrow":
            return timezone.make_aware(datetime.datetime.combine(now.date() + datetime.timedelta(days=1), morning))
        if preset == "monday":
            days = (7 - now.weekday()) or 7
            return timezone.make_aware(datetime.datetime.combine(now.date() + datetime.timedelta(days=days), morning))
        return custom


class NoteForm(forms.Form):
    body = forms.CharField(
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Private note — only colleagues see it"}),
    )


COMPOSER_KINDS = ("text", "location", "buttons", "list", "template")
ID_MAX = 2**63 - 1  # larger numbers overflow the database's integer


def _every_error(message: str) -> dict:
    return {"invalid": message, "min_value": message, "max_value": message}


class ComposerForm(forms.Form):
    """What every composer post carries besides its kind's own fields: the kind, the quoted message and
    the template. Each kind's fields are checked by the send services; this form turns ids a browser
    may send garbled ("", "abc", another conversation's message) into a sentence for the agent."""

    kind = forms.ChoiceField(
        choices=[(k, k) for k in COMPOSER_KINDS], required=False,
        error_messages={"invalid_choice": "Unknown kind of message “%(value)s”."},
    )
    reply_to = forms.IntegerField(required=False, min_value=1, max_value=ID_MAX, error_messages=_every_error("The quoted message is not one of this conversation."))
    template = forms.IntegerField(required=False, min_value=1, max_value=ID_MAX, error_messages=_every_error("Choose a template first."))

    def __init__(self, *args, conversation: Conversation, **kwargs):
        super().__init__(*args, **kwargs)
        self.conversation = conversation

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or "text"

    def clean_reply_to(self) -> Message | None:
        pk = self.cleaned_data.get("reply_to")
        if pk is None:
            return None
        message = Message.objects.filter(conversation=self.conversation, pk=pk).first()
        if message is None:
            raise forms.ValidationError("The quoted message is not one of this conversation.")
        return message

    def clean(self):
        data = super().clean()
        if data.get("kind") != "template":
            data["template"] = None
            return data
        if not data.get("template"):
            if "template" not in self.errors:
                self.add_error("template", "Choose a template first.")
            return data
        template = Template.objects.filter(pk=data["template"], channel_id=self.conversation.channel_id).first()
        if template is None:
            self.add_error("template", "That template is not one of this number's.")
        data["template"] = template
        return data

    def error_text(self) -> str:
        return " ".join(error for errors in self.errors.values() for error in errors)
