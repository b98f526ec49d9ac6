from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts import api_keys
from accounts.forms import AdminLoginForm
from accounts.models import ApiKey, Team, User

# The admin login counts failures like the login page (accounts.throttle).
admin.site.login_form = AdminLoginForm


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "role", "is_active"]
    list_filter = ["role", "is_active", "teams"]
    fieldsets = BaseUserAdmin.fieldsets[:2] + (
        ("Sampark", {"fields": ("role", "time_zone", "phone")}),
        ("Status", {"fields": ("is_active", "last_login", "date_joined")}),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("Sampark", {"fields": ("first_name", "last_name", "email", "role")}),)
    readonly_fields = ["last_login", "date_joined"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count"]
    search_fields = ["name"]
    filter_horizontal = ["members"]

    @admin.display(description="members")
    def member_count(self, team):
        return team.members.count()


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are listed masked (only a hash is stored); users make their own at /accounts/api-keys/."""

    list_display = ["name", "masked", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    fields = ["user", "name", "masked", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="key")
    def masked(self, key):
        return key.masked

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        for key in queryset:
            api_keys.revoke(key, by=request.user)
        self.message_user(request, "Keys revoked.", messages.SUCCESS)
