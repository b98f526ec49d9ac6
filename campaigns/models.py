from django.conf import settings
from django.db import models


class Campaign(models.Model):
    """One approved template (WhatsApp) or one saved rich message (RCS) sent to a filtered set of contacts."""

    class Status(models.TextChoices):
        RUNNING = "running", "Sending"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=200)
    channel = models.ForeignKey("inbox.Channel", on_delete=models.CASCADE, related_name="campaigns")
    template = models.ForeignKey("inbox.Template", null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns")
    # RCS: the rich snippet chosen, and the message as it was when the campaign started (what is sent,
    # even if the snippet is edited or deleted meanwhile).
    snippet = models.ForeignKey("inbox.RichSnippet", null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns")
    rich_spec = models.JSONField(null=True, blank=True, help_text="the rich RCS message sent (inbox.rich.spec)")
    values = models.JSONField(default=dict, blank=True, help_text="template blanks; may name contact fields like {name}")
    filters = models.JSONField(default=dict, blank=True, help_text="the contact filter (q, label, owner) it was sent to")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="campaigns")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why queuing the messages stopped (the last error), and when it is tried again (None: by the
    # periodic resume). Cleared as soon as a step succeeds.
    problem = models.CharField(max_length=500, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    progressed_at = models.DateTimeField(null=True, blank=True, help_text="when queuing last moved on")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name

    @property
    def message_name(self) -> str:
        """What it sends, in a word: the template's name, or the rich snippet's."""
        if self.template_id:
            return self.template.name
        return f"RCS: {self.snippet.name if self.snippet else (self.rich_spec or {}).get('kind', 'rich message')}"


class Recipient(models.Model):
    """A contact of a campaign; once queued, its result is its message's status."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        QUEUED = "queued", "Message created"
        SKIPPED = "skipped", "Skipped"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="campaign_recipients")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    message = models.OneToOneField("inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="campaign_recipient")
    reason = models.CharField(max_length=500, blank=True, help_text="why it was skipped")

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["campaign", "contact"], name="recipient_unique_contact")]

    def __str__(self):
        return f"{self.contact} in {self.campaign}"
