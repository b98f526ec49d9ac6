"""What the stand-in for Tata omni remembers: files it holds, messages it carried, templates it knows.

These rows belong to the pretend provider, not to Sampark: the inbox never reads them.
"""

import secrets

from django.db import models

from core.storage import UnguessablePath


def new_media_id() -> str:
    return str(secrets.randbelow(9 * 10**15) + 10**15)  # 16 digits, like Meta's media ids


class SandboxMedia(models.Model):
    media_id = models.CharField(max_length=64, unique=True, default=new_media_id)
    channel = models.ForeignKey("inbox.Channel", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(upload_to=UnguessablePath("sandbox"), max_length=255)
    file_name = models.CharField(max_length=255, blank=True)
    mime_type = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, help_text="base64 of the SHA-256, as WhatsApp sends it")
    uploaded_by_business = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.file_name or self.media_id


class SandboxMessage(models.Model):
    """One message between a pretend customer and a business number, as the provider saw it."""

    class Direction(models.TextChoices):
        FROM_CUSTOMER = "in", "Customer → business"
        TO_CUSTOMER = "out", "Business → customer"

    channel = models.ForeignKey("inbox.Channel", on_delete=models.CASCADE, related_name="+")
    customer = models.CharField(max_length=16, help_text="E.164")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    provider_message_id = models.CharField(max_length=128, unique=True, help_text="wamid / RCS message id")
    request_id = models.CharField(max_length=64, blank=True, help_text="the id the send API answered with")
    type = models.CharField(max_length=32)
    payload = models.JSONField(default=dict, help_text="the message object sent or the send request body")
    failed = models.CharField(max_length=200, blank=True, help_text="why the provider refused to deliver it")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["channel", "customer", "created_at"], name="sandbox_thread")]

    def __str__(self):
        return f"{self.get_direction_display()} {self.customer}: {self.type}"


class SandboxTemplate(models.Model):
    channel = models.ForeignKey("inbox.Channel", on_delete=models.CASCADE, related_name="+")
    template_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16, default="en")
    category = models.CharField(max_length=32, default="UTILITY")
    status = models.CharField(max_length=32, default="APPROVED")
    components = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "language"]
        constraints = [models.UniqueConstraint(fields=["channel", "name", "language"], name="sandbox_template_unique")]

    def __str__(self):
        return f"{self.name} ({self.language})"


class SandboxCall(models.Model):
    """A call the pretend Smartflo carried: rung from the sandbox phone page, or seeded history.
    Its call records API (/v1/call/records) lists these; hangups are sent to the Status URL."""

    class State(models.TextChoices):
        RINGING = "ringing", "Ringing"
        ANSWERED = "answered", "Talking"
        ENDED = "ended", "Ended"

    connection = models.ForeignKey("telephony.TelephonyConnection", on_delete=models.CASCADE, related_name="+")
    call_id = models.CharField(max_length=64, unique=True)
    uuid = models.CharField(max_length=64, unique=True)
    direction = models.CharField(max_length=8, default="inbound")
    state = models.CharField(max_length=8, choices=State.choices, default=State.RINGING)
    status = models.CharField(max_length=12, blank=True, help_text="answered / missed once ended")
    customer_number = models.CharField(max_length=16)
    did_number = models.CharField(max_length=16)
    agent_number = models.CharField(max_length=32, blank=True)
    agent_name = models.CharField(max_length=100, blank=True)
    started_at = models.DateTimeField(db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    has_recording = models.BooleanField(default=False)
    # Click-to-call (agent first): the agent's phone rings, then the customer's.
    custom_identifier = models.CharField(max_length=128, blank=True)
    ref_id = models.CharField(max_length=64, blank=True)
    leg = models.CharField(max_length=16, blank=True, help_text="click-to-call: agent_ringing, customer_ringing (then state answered)")  # streamed: stream_ringing, streaming, stream_ended
    # Monitor / whisper / barge / transfer as Smartflo's call operations did them: [{type, agent_id|intercom, at}].
    operations = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]
        indexes = [
            models.Index(fields=["connection", "started_at"], name="sandbox_call_range"),
            # The call records API's listing (ended calls of an account, in order, a page at a time):
            # read in index order, so a page never sorts the whole range.
            models.Index(fields=["connection", "state", "started_at", "id"], name="sandbox_call_listing"),
        ]

    @property
    def is_click_to_call(self) -> bool:
        return bool(self.custom_identifier or self.ref_id)

    @property
    def is_streamed(self) -> bool:
        """A click-to-call-support call streamed to the Outbound Voice URL (an automated call)."""
        return self.leg in ("stream_ringing", "streaming", "stream_ended")

    def __str__(self):
        return f"{self.customer_number} → {self.did_number} ({self.state})"
