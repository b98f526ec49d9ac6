from django.contrib import admin

from imports.models import ImportFailure, ImportJob


class FailureInline(admin.TabularInline):
    model = ImportFailure
    extra = 0
    max_num = 0
    can_delete = False
    readonly_fields = ["line", "reason", "text"]


@admin.register(ImportJob)
class HistoryImportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs change only through the import pages and their worker."""

    list_display = ["file_name", "kind", "status", "imported_count", "duplicate_count", "failed_count", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]
    inlines = [FailureInline]

    def has_add_permission(self, request):
        return False
