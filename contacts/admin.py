from django.contrib import admin

from contacts import selectors
from contacts.models import Contact, ContactPhone, CustomField, ImportJob, Label, Note


class PhoneInline(admin.TabularInline):
    model = ContactPhone
    extra = 0


class NoteInline(admin.TabularInline):
    model = Note
    extra = 0
    fields = ["body", "author", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "primary_phone", "email", "owner", "created_at"]
    list_filter = ["labels", "owner", "created_at"]
    search_fields = ["name", "email", "phones__number"]
    autocomplete_fields = ["owner"]
    filter_horizontal = ["labels"]
    inlines = [PhoneInline, NoteInline]
    list_select_related = ["owner"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("phones")

    def get_search_results(self, request, queryset, search_term):
        # Phones typed in any form (0981…, +91 98…) are found the same way as in the app.
        if search_term and any(ch.isdigit() for ch in search_term):
            return selectors.search_contacts(queryset, search_term), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["name", "color"]
    search_fields = ["name"]


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["label", "key", "field_type", "order"]
    prepopulated_fields = {"key": ["label"]}


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["file_name", "status", "processed_rows", "total_rows", "created_count", "updated_count", "created_by", "created_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in ImportJob._meta.fields if f.name != "content"]
    exclude = ["content"]
