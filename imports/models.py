from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    """One upload of message history, from its questions to its counts. Runs as a Celery task."""

    class Kind(models.TextChoices):
        WHATSAPP_EXPORT = "whatsapp", "WhatsApp chat export"
        REPORT = "report", "Message report (CSV / JSON)"
        HISTORY_WEBHOOK = "history", "WhatsApp history (coexistence webhook)"

    class Status(models.TextChoices):
        NEEDS_ANSWERS = "answers", "Waiting for your answers"
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        CANCELLING = "cancelling", "Cancelling"
        CANCELLED = "cancelled", "Cancelled"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    FINISHED = (Status.CANCELLED, Status.DONE, Status.FAILED)

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.WHATSAPP_EXPORT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="history_imports")
    file = models.FileField(upload_to="imports/%Y/%m/", help_text="the uploaded .txt or .zip, kept until the job is deleted")
    file_name = models.CharField(max_length=255)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEEDS_ANSWERS)
    # What one pass over the file found. Exports: {"date_order": "dmy"|"mdy"|None, "senders": [[name, count]…],
    # "lines": n, "has_media": bool}; reports: {"columns": […], "preview": [{…}], "lines": n}.
    scan = models.JSONField(default=dict, blank=True)
    # The importer's answers.
    channel = models.ForeignKey("inbox.Channel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    business_sender = models.CharField(max_length=200, blank=True, help_text="the export's name for the business")
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    date_order = models.CharField(max_length=3, blank=True)
    time_zone = models.CharField(max_length=64, default=settings.TIME_ZONE)
    mapping = models.JSONField(default=dict, blank=True, help_text="reports: column → field (imports.reports.TARGETS)")
    webhook_event = models.OneToOneField(
        "inbox.WebhookEvent", null=True, blank=True, on_delete=models.CASCADE, related_name="history_job",
        help_text="history webhooks: the stored event whose messages this job applies",
    )
    # Progress (lines of the file read so far, against scan["lines"]).
    processed = models.PositiveIntegerField(default=0)
    imported_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True, help_text="why the whole job stopped, if it did")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def total(self) -> int:
        return int(self.scan.get("lines") or 0)

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, int(100 * self.processed / self.total)) if self.total else 0


class ImportFailure(models.Model):
    """A line of the file that was not imported, and why (downloadable as CSV)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="failures")
    line = models.PositiveIntegerField()
    reason = models.CharField(max_length=300)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["line", "id"]
