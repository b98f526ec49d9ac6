from django.conf import settings
from django.db import models
from django.urls import reverse

from core import phones


class Label(models.Model):
    name = models.CharField(max_length=50, unique=True)
    color = models.CharField(max_length=7, default="#64748b", help_text="hex colour, e.g. #2563eb")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class CustomField(models.Model):
    """A contact attribute an admin defines (e.g. 'City', 'Plan', 'Renewal date')."""

    class Type(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        BOOLEAN = "boolean", "Yes / no"
        CHOICE = "choice", "Choice"

    key = models.SlugField(max_length=50, unique=True, help_text="stored name; used in CSV headers and the API")
    label = models.CharField(max_length=100)
    field_type = models.CharField(max_length=10, choices=Type.choices, default=Type.TEXT)
    choices = models.CharField(max_length=500, blank=True, help_text="comma-separated, for Choice fields")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "label"]

    def __str__(self):
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [c.strip() for c in self.choices.split(",") if c.strip()]


class Contact(models.Model):
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_contacts"
    )
    labels = models.ManyToManyField(Label, blank=True, related_name="contacts")
    custom_fields = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["name", "id"], name="contact_name_order")]

    def __str__(self):
        return self.name or (self.primary_phone and phones.display(self.primary_phone)) or f"Contact #{self.pk}"

    def get_absolute_url(self):
        return reverse("contacts:detail", args=[self.pk])

    @property
    def primary_phone(self) -> str:
        numbers = list(self.phones.all())  # uses prefetch when present
        primary = next((p for p in numbers if p.is_primary), numbers[0] if numbers else None)
        return primary.number if primary else ""


class ContactPhone(models.Model):
    """One phone number of a contact, in E.164. A number belongs to exactly one contact."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=16, unique=True)
    label = models.CharField(max_length=30, blank=True, help_text="mobile, work, home…")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "pk"]

    def __str__(self):
        return self.number

    @classmethod
    def primary_number(cls, contact_id) -> models.Subquery:
        """The number Contact.primary_phone gives (the primary phone, else the first), as a subquery
        (`contact_id`: an OuterRef), so a query can read it with its rows."""
        return models.Subquery(cls.objects.filter(contact_id=contact_id).order_by("-is_primary", "pk").values("number")[:1])

    @property
    def display(self) -> str:
        return phones.display(self.number)


class Note(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.body[:60]


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    file_name = models.CharField(max_length=255)
    content = models.TextField(help_text="the uploaded CSV, kept so a failed import can be rerun")
    mapping = models.JSONField(default=dict, help_text="CSV header → contact field")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, help_text="[{row, message}] for rows that were skipped")
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else (100 if self.finished else 0)

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
