"""Telephony admin: connections (secrets masked, kept when left empty; the Status URL to paste),
calls (read-mostly, with recording retry), agent lines."""

from django.contrib import admin
from django.utils.html import format_html

from core.admin import KeepSecretsMixin
from telephony import recordings
from telephony.models import AgentLine, Call, CallImport, CallNote, TelephonyConnection


@admin.register(TelephonyConnection)
class TelephonyConnectionAdmin(KeepSecretsMixin, admin.ModelAdmin):
    list_display = ["name", "provider", "status", "is_default", "team", "created_at"]
    list_filter = ["provider", "status"]
    search_fields = ["name"]
    readonly_fields = ["status_url_setup", "phone_numbers", "last_test", "last_synced_at", "created_at"]
    fields = ["name", "provider", "status", "team", "options", "base_url", "auth_token", "api_key", "password", "jwt_token",
              "status_url_setup", "phone_numbers", "last_test", "last_synced_at", "created_at"]

    @admin.display(description="Status URL")
    def status_url_setup(self, connection):
        if not connection.pk:
            return "Save the connection to get its Status URL."
        return format_html("<code>{}</code><br><small>Smartflo: Settings › API Connect › Webhook, method GET, trigger "
                           "Call hangup (Missed or Answered), inbound and click-to-call.</small>", connection.status_url)


class CallNoteInline(admin.TabularInline):
    model = CallNote
    extra = 0
    readonly_fields = ["author", "created_at"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["started_at", "direction", "status", "customer_number", "did_number", "agent", "talk_time", "recording_status"]
    list_filter = ["direction", "status", "recording_status", "connection"]
    search_fields = ["customer_number", "provider_call_id", "provider_uuid", "agent_name"]
    date_hierarchy = "started_at"
    list_select_related = ["agent"]
    raw_id_fields = ["contact", "agent", "follow_up"]
    readonly_fields = ["raw", "recording", "created_at", "updated_at"]
    inlines = [CallNoteInline]
    actions = ["retry_recording"]

    @admin.action(description="Download the recording again")
    def retry_recording(self, request, queryset):
        for call in queryset.exclude(recording_url=""):
            recordings.retry(call)


@admin.register(CallImport)
class CallImportAdmin(admin.ModelAdmin):
    list_display = ["created_at", "connection", "from_date", "to_date", "status", "fetched", "total", "is_sync"]
    list_filter = ["status", "is_sync"]


@admin.register(AgentLine)
class AgentLineAdmin(admin.ModelAdmin):
    list_display = ["user", "agent_id", "extension", "mobile"]
    autocomplete_fields = ["user"]
    search_fields = ["user__username", "user__first_name", "agent_id", "extension", "mobile"]
