"""Inbox admin: channels (with the exact URL to paste into Tata's portal), raw webhook events (with
replay), messages and attachments (with download retry). Secrets are masked and kept when left empty."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from core import phones
from core.admin import KeepSecretsMixin
from core.errors import ApplicationError
from core.untrusted import NotJSON, clean_text, loads_json
from inbox import channels as channel_services
from inbox import media, replay
from inbox.ingest.drain import process_event
from inbox.models import Attachment, Channel, Conversation, Message, WebhookEvent


class ChannelForm(forms.ModelForm):
    class Meta:
        model = Channel
        fields = ["name", "kind", "phone_number", "api_base_url", "access_token", "auth_scheme", "partner_token", "accept_unsigned_posts", "team", "is_active"]

    def clean_phone_number(self):
        try:
            return phones.to_e164(self.cleaned_data["phone_number"])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc


@admin.register(Channel)
class ChannelAdmin(KeepSecretsMixin, admin.ModelAdmin):
    form = ChannelForm
    list_display = ["name", "kind", "phone_number", "team", "is_active", "signed"]
    list_filter = ["kind", "is_active", "team"]
    search_fields = ["name", "phone_number"]
    readonly_fields = ["webhook_setup"]
    actions = ["test_connection", "rotate_webhook_url"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "phone_number", "team", "is_active"]}),
        ("Tata omni", {"fields": ["api_base_url", "access_token", "auth_scheme", "partner_token", "accept_unsigned_posts"]}),
        ("Paste into Tata's portal", {"fields": ["webhook_setup"]}),
    ]

    @admin.display(boolean=True, description="signed webhooks")
    def signed(self, channel):
        return bool(channel.partner_token)

    @admin.display(description="Webhook URL")
    def webhook_setup(self, channel):
        if not channel.pk:
            return "Save the channel to get its webhook URL."
        warning = (
            ""
            if channel.partner_token
            else format_html(
                '<p style="color:#b45309"><strong>{}</strong> {}</p>',
                "No partner token:",
                "webhooks are accepted unsigned (you allowed it above): anyone who learns this URL can forge customer "
                "messages. Paste the partner token from Tata's portal so forged requests are refused."
                if channel.accept_unsigned_posts
                else "every webhook is refused (403) until you paste the partner token from Tata's portal above.",
            )
        )
        return format_html(
            '<input type="text" readonly value="{url}" size="90" style="font-family:monospace">'
            "<p>In Tata omni → Integrations → Webhooks, paste this URL as <em>both</em> the Messages URL and the "
            "Callbacks URL ({kind}). Tata signs each request with the partner token "
            "(<code>x-hub-signature-256</code>); Sampark refuses requests whose signature does not match.</p>{warning}",
            url=channel.webhook_url,
            kind=channel.get_kind_display(),
            warning=warning,
        )

    @admin.action(description="Test connection: which Authorization form Tata accepts")
    def test_connection(self, request, queryset):
        for channel in queryset:
            ok, text = channel_services.test_connection(channel)
            self.message_user(request, text, messages.SUCCESS if ok else messages.ERROR)

    @admin.action(description="Give the selected channels a new webhook URL (the old one stops working)")
    def rotate_webhook_url(self, request, queryset):
        for channel in queryset:
            channel_services.rotate_webhook_token(channel, by=request.user)
        self.message_user(request, "New webhook URLs made: paste them into Tata's portal now.", messages.WARNING)


class ReplayRangeForm(forms.Form):
    since = forms.DateTimeField(required=False, help_text="received at or after (empty: from the first event)")
    until = forms.DateTimeField(required=False, help_text="received before (empty: until now)")
    channel = forms.ModelChoiceField(Channel.objects.all(), required=False, empty_label="every channel")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("since") and cleaned.get("until") and cleaned["since"] >= cleaned["until"]:
            raise ValidationError("“Until” must be after “since”.")
        if not (cleaned.get("since") or cleaned.get("until") or cleaned.get("channel")):
            raise ValidationError("Choose a time range or a channel (every event ever received is a job for the command line).")
        return cleaned


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["id", "received_at", "source", "channel", "status", "attempts", "short_error"]
    list_filter = ["status", "source", "channel"]
    search_fields = ["error"]
    date_hierarchy = "received_at"
    actions = ["replay"]
    readonly_fields = ["source", "channel", "received_at", "status", "attempts", "processed_at", "error", "headers", "pretty_body"]
    exclude = ["body"]
    list_select_related = ["channel"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a record of what the provider sent: read it, replay it, never edit it

    @admin.display(description="error")
    def short_error(self, event):
        return (event.error[:80] + "…") if len(event.error) > 80 else event.error

    @admin.display(description="body (as received)")
    def pretty_body(self, event):
        raw = bytes(event.body)
        try:  # the stored body is whatever was posted: deep, NUL, lone surrogates (core.untrusted)
            text = json.dumps(loads_json(raw), indent=2, ensure_ascii=False)
        except NotJSON:
            text = clean_text(raw.decode("utf-8", errors="replace"))
        return format_html('<pre style="white-space:pre-wrap;max-height:40em;overflow:auto">{}</pre>', text)

    def get_urls(self):
        replay_range = path("replay-range/", self.admin_site.admin_view(self.replay_range), name="inbox_webhookevent_replay_range")
        return [replay_range, *super().get_urls()]

    def replay_range(self, request):
        """Rebuild from the raw events of a time range and/or a channel (inbox.replay, as the command)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ReplayRangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            selection = replay.Selection(statuses=replay.EVERY_STATUS, **{k: form.cleaned_data[k] for k in ("since", "until", "channel")})
            counts = replay.replay(list(replay.selected(selection).values_list("pk", flat=True)))
            level = messages.WARNING if counts.get(WebhookEvent.Status.UNPROCESSABLE) else messages.SUCCESS
            self.message_user(request, f"Replayed: {replay.summary(counts)}.", level)
            return redirect("admin:inbox_webhookevent_changelist")
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta, "title": "Replay webhook events of a time range"}
        return TemplateResponse(request, "admin/inbox/webhookevent/replay_range.html", context)

    @admin.action(description="Replay the selected events (apply again; safe to repeat)")
    def replay(self, request, queryset):
        counts: dict[str, int] = {}
        for event in queryset.exclude(status=WebhookEvent.Status.REJECTED).order_by("received_at", "pk"):
            status = process_event(event, force=True).status
            counts[status] = counts.get(status, 0) + 1
        skipped = queryset.filter(status=WebhookEvent.Status.REJECTED).count()
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing replayed"
        if skipped:
            summary += f"; {skipped} rejected (bad signature) skipped"
        level = messages.WARNING if counts.get(WebhookEvent.Status.UNPROCESSABLE) else messages.SUCCESS
        self.message_user(request, f"Replayed: {summary}.", level)


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    can_delete = False
    fields = ["kind", "status", "file_name", "mime_type", "size", "file", "error", "attempts"]
    readonly_fields = fields


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "timestamp", "channel", "direction", "source", "type", "status", "short_body"]
    list_filter = ["direction", "source", "status", "type", "channel"]
    search_fields = ["provider_message_id", "body", "=uid"]
    date_hierarchy = "timestamp"
    raw_id_fields = ["conversation", "reply_to", "sender"]
    readonly_fields = ["uid", "channel", "created_at", "status_updated_at"]
    list_select_related = ["channel"]
    inlines = [AttachmentInline]

    @admin.display(description="body")
    def short_body(self, message):
        return message.body[:80]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "file_name", "mime_type", "size", "attempts", "error"]
    list_filter = ["status", "kind"]
    raw_id_fields = ["message"]
    actions = ["retry_download"]

    @admin.action(description="Download the selected files again")
    def retry_download(self, request, queryset):
        retried, refused = 0, []
        for attachment in queryset.select_related("message__conversation"):
            try:
                media.retry_attachment(attachment)
                retried += 1
            except ApplicationError as exc:
                refused.append(f"#{attachment.pk}: {exc.message}")
        self.message_user(request, f"{retried} queued for download." + (" " + " ".join(refused) if refused else ""))


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "contact", "channel", "status", "assignee", "team", "unread_count", "last_message_at"]
    list_filter = ["status", "channel", "team"]
    search_fields = ["contact__name", "contact__phones__number"]
    raw_id_fields = ["contact", "assignee"]
    filter_horizontal = ["labels"]
    list_select_related = ["contact", "channel", "assignee", "team"]
