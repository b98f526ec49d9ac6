from django.contrib import admin

from campaigns.models import Campaign, Recipient


class RecipientInline(admin.TabularInline):
    model = Recipient
    extra = 0
    raw_id_fields = ["contact", "message"]
    readonly_fields = ["status", "reason"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "template", "status", "created_by", "created_at"]
    list_filter = ["status", "channel"]
    inlines = [RecipientInline]
    readonly_fields = ["created_at", "finished_at"]
