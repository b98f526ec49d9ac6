from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import Team, User


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
