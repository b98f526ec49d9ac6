"""Telephony: provider connections, the calls they carry, and how Smartflo reaches each agent.

A connection holds one provider account. Eight providers can be stored (the connections API accepts
them all); calls are logged through Tata Smartflo connections only — `FEATURES` says what each one
gives, and the UI shows exactly that. Secrets live in EncryptedTextFields: masked in admin, never
returned by the API, never logged.

Long because: the automated calls (a campaign and its calls, at the end) belong with the
Call they stream on; splitting the models of one app across modules would hide that.
"""

import secrets
import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from core.fields import EncryptedTextField
from core.storage import UnguessablePath
from telephony import q850

digits_only = RegexValidator(r"^\d+$", "Digits only.")


def new_status_token() -> str:
    return secrets.token_urlsafe(24)


class Provider(models.TextChoices):
    TWILIO = "twilio", "Twilio"
    EXOTEL = "exotel", "Exotel"
    PLIVO = "plivo", "Plivo"
    VOBIZ = "vobiz", "Vobiz"
    TATA_SMARTFLO = "tata_smartflo", "Tata Smartflo"
    SIP = "sip", "SIP (bring your own carrier)"
    VOICELINK = "voicelink", "VoiceLink"
    MCUBE = "mcube", "MCube"


# What Sampark does with each provider today. Everything else is stored, validated and listed only.
FEATURES = {
    Provider.TATA_SMARTFLO: ["Call log from the Status URL webhook", "Import of previous calls", "Recordings", "Missed calls in the inbox",
                             "Click-to-call", "Live calls (monitor, whisper, barge, transfer, hang up)", "Screen pop",
                             "Automated confirmation and reminder calls (voice streaming)"],
}


class TelephonyConnection(models.Model):
    """One telephony provider account (the connections API's `connection`)."""

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        PENDING = "PENDING", "Being set up"
        ERROR = "ERROR", "Not working"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.CharField(max_length=16, choices=Provider.choices)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    is_default = models.BooleanField(default=False)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="telephony_connections",
        help_text="missed calls on this account become inbox work for this team",
    )
    # Non-secret settings, by the API's names (account_sid, subdomain, caller_id, sip_host, source_ips,
    # sip_transport, outbound_username, username, tata_email, agent_number, from_number, did_number, exe_number).
    options = models.JSONField(default=dict, blank=True)
    base_url = models.URLField(blank=True, help_text="API base URL (VoiceLink, Tata Smartflo); empty = the provider's default")
    # Secrets (write-only everywhere).
    auth_token = EncryptedTextField(blank=True, help_text="provider auth token; for Smartflo the portal's Authorization Token")
    api_key = EncryptedTextField(blank=True, help_text="Exotel API key; Smartflo's Click to Call Support API key")
    password = EncryptedTextField(blank=True, help_text="Smartflo panel / VoiceLink / outbound SIP password")
    jwt_token = EncryptedTextField(blank=True, help_text="MCube JWT")
    # Smartflo's login token (POST /v1/auth/login), cached until shortly before it expires.
    access_token = EncryptedTextField(blank=True, editable=False)
    access_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    phone_numbers = models.JSONField(default=list, blank=True, help_text="the account's numbers (DIDs), E.164")
    status_token = models.CharField(max_length=64, unique=True, default=new_status_token, editable=False)
    last_test = models.JSONField(default=dict, blank=True, editable=False, help_text="the last Test connection result")
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="telephony_one_default")]

    def __str__(self):
        return f"{self.name} ({self.get_provider_display()})"

    @property
    def provider_key(self) -> str:
        return self.provider.upper()

    @property
    def is_smartflo(self) -> bool:
        return self.provider == Provider.TATA_SMARTFLO

    @property
    def features(self) -> list[str]:
        return FEATURES.get(self.provider, [])

    @property
    def status_url(self) -> str:
        return settings.PUBLIC_BASE_URL + reverse("telephony:status", args=[self.status_token])

    @property
    def outbound_voice_url(self) -> str:
        """Smartflo's Voice Streaming (dynamic, GET) endpoint; `{telephony_id}` is replaced in the portal."""
        return settings.PUBLIC_BASE_URL + f"/telephony/voice/{self.status_token}/" + "{telephony_id}/"

    @property
    def email(self) -> str:
        return self.options.get("tata_email", "")


class AgentLine(models.Model):
    """How Smartflo reaches an agent: its agent id or extension; else the user's phone is used.
    (Moved here from the dialplan app; the table keeps its name.)"""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_line")
    agent_id = models.CharField(
        "Smartflo agent id", max_length=32, blank=True, validators=[digits_only], help_text="e.g. 05000001"
    )
    extension = models.CharField(max_length=32, blank=True, validators=[digits_only], help_text="e.g. 06047530001")
    mobile = models.CharField(max_length=16, blank=True, help_text="the agent's mobile, E.164 (Smartflo's follow-me number)")

    class Meta:
        db_table = "dialplan_agentline"
        verbose_name = "agent line"

    def __str__(self):
        return f"{self.user}: {self.agent_id or self.extension or 'phone'}"

    @property
    def dial_number(self) -> str:
        """What click-to-call gives Smartflo as `agent_number`: the agent id, else the extension, else
        the mobile (or the user's phone)."""
        return self.agent_id or self.extension or self.mobile or self.user.phone

    @property
    def transfer_number(self) -> str:
        """Smartflo's transfer takes a 10-digit mobile or an extension."""
        if self.mobile:
            digits = "".join(c for c in self.mobile if c.isdigit())
            return digits[-10:] if self.mobile.startswith("+91") else digits
        return self.extension


class Call(models.Model):
    """One call on a connection, built from the hangup webhook and/or the call records (CDR)."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Status(models.TextChoices):
        # Live states (part 2: click-to-call and live calls) come before any outcome.
        REQUESTED = "requested", "Requested"
        RINGING = "ringing", "Ringing"
        IN_PROGRESS = "in_progress", "In progress"
        ANSWERED = "answered", "Answered"
        MISSED = "missed", "Missed"
        NO_ANSWER = "no_answer", "No answer"
        BUSY = "busy", "Busy"
        FAILED = "failed", "Failed"

    # A status only moves up: a late "ringing" never undoes an outcome, and "answered" (a talk time
    # was measured) wins over any other outcome the webhook and the call records may disagree on.
    STATUS_RANK = {"requested": 0, "ringing": 1, "in_progress": 2, "missed": 3, "no_answer": 3, "busy": 3, "failed": 3, "answered": 4}
    OUTCOMES = ("answered", "missed", "no_answer", "busy", "failed")

    class Recording(models.TextChoices):
        NONE = "", "No recording"
        PENDING = "pending", "Waiting to download"
        DOWNLOADING = "downloading", "Downloading"
        READY = "ready", "Ready"
        FAILED = "failed", "Could not be downloaded"

    connection = models.ForeignKey(TelephonyConnection, null=True, on_delete=models.SET_NULL, related_name="calls")
    provider_call_id = models.CharField(max_length=128, blank=True, help_text="Smartflo call_id")
    provider_uuid = models.CharField(max_length=128, blank=True, help_text="Smartflo uuid")
    ref_id = models.CharField(max_length=128, blank=True)
    custom_identifier = models.CharField(max_length=128, blank=True, help_text="our own id, echoed by Smartflo (click-to-call)")
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.INBOUND)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    customer_number = models.CharField(max_length=16, blank=True, db_index=True, help_text="E.164")
    did_number = models.CharField(max_length=16, blank=True, help_text="our number (DID), E.164")
    agent_number = models.CharField(max_length=32, blank=True, help_text="as Smartflo gave it (agent id, extension or phone)")
    agent_name = models.CharField(max_length=100, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    started_at = models.DateTimeField(null=True, blank=True, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="seconds, ring + talk")
    talk_time = models.PositiveIntegerField(null=True, blank=True, help_text="seconds answered")
    hangup_cause = models.CharField(max_length=64, blank=True)
    hangup_cause_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Q.850")
    hangup_description = models.CharField(max_length=200, blank=True, help_text="as Smartflo described it")
    recording_url = models.URLField(max_length=2000, blank=True, help_text="the provider's link (expires)")
    recording = models.FileField(upload_to=UnguessablePath("recordings"), max_length=255, blank=True)
    recording_status = models.CharField(max_length=12, choices=Recording.choices, default=Recording.NONE, blank=True)
    recording_error = models.CharField(max_length=300, blank=True)
    recording_attempts = models.PositiveSmallIntegerField(default=0)
    recording_mime = models.CharField(max_length=50, blank=True)
    follow_up = models.OneToOneField(
        "inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="call",
        help_text="the inbox item a missed inbound call became",
    )
    raw = models.JSONField(default=dict, blank=True, help_text="every field Smartflo sent, merged (unknown ones kept)")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "provider_call_id"], condition=~Q(provider_call_id=""), name="call_unique_call_id"),
            models.UniqueConstraint(fields=["connection", "provider_uuid"], condition=~Q(provider_uuid=""), name="call_unique_uuid"),
        ]
        indexes = [
            models.Index(fields=["agent", "-started_at"], name="call_agent_recent"),
            models.Index(fields=["contact", "-started_at"], name="call_contact_recent"),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} call {self.customer_number or '?'} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("telephony:call", args=[self.pk])

    @property
    def hangup_meaning(self) -> str:
        return q850.meaning(self.hangup_cause_code, self.hangup_cause)

    @property
    def is_missed_inbound(self) -> bool:
        return self.direction == self.Direction.INBOUND and self.status == self.Status.MISSED

    @property
    def at(self):
        return self.started_at or self.ended_at or self.created_at


class CallAction(models.Model):
    """A supervisor's or agent's action on a live call (click-to-call, monitor, whisper, barge,
    transfer, hang up): who, what, when and what Smartflo answered — the call's audit trail."""

    class Kind(models.TextChoices):
        CLICK_TO_CALL = "click_to_call", "Click to call"
        MONITOR = "monitor", "Monitor"
        WHISPER = "whisper", "Whisper"
        BARGE = "barge", "Barge"
        TRANSFER = "transfer", "Transfer"
        HANGUP = "hangup", "Hang up"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    target = models.CharField(max_length=64, blank=True, help_text="the agent id or intercom it used")
    ok = models.BooleanField(default=False)
    result = models.CharField(max_length=300, blank=True, help_text="what Smartflo answered, in words")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.by} ({'ok' if self.ok else 'refused'})"


class CallNote(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.body[:60]


class CallImport(models.Model):
    """A run over Smartflo's call records for a date range (a backfill, or the periodic sync)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(TelephonyConnection, on_delete=models.CASCADE, related_name="imports")
    from_date = models.DateTimeField()
    to_date = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    is_sync = models.BooleanField(default=False, help_text="the periodic catch-up (creates missed-call follow-ups)")
    next_page = models.PositiveIntegerField(default=1, help_text="where a stopped run resumes")
    total = models.PositiveIntegerField(null=True, blank=True, help_text="Smartflo's count for the range")
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"import {self.from_date:%Y-%m-%d}…{self.to_date:%Y-%m-%d} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, int(self.fetched * 100 / self.total))


class CallCampaign(models.Model):
    """Automated calls to a filtered set of contacts: each hears the campaign's prompt and answers on
    the keypad (1 confirm, 2 cancel, 3 talk to us). Placed at most `calls_per_minute`."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Order / COD confirmation"
        PAYMENT_REMINDER = "payment_reminder", "Payment reminder"

    class Status(models.TextChoices):
        RUNNING = "running", "Calling"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CONFIRMATION)
    connection = models.ForeignKey(TelephonyConnection, on_delete=models.CASCADE, related_name="call_campaigns")
    caller_id = models.CharField(max_length=16, blank=True, help_text="one of the connection's numbers, E.164")
    prompt = models.FileField(upload_to=UnguessablePath("prompts"), max_length=255, blank=True,
                              help_text="the recording played, μ-law 8 kHz (converted from the uploaded WAV)")
    prompt_name = models.CharField(max_length=200, blank=True, help_text="the uploaded file's name")
    transfer_to = models.CharField(max_length=32, blank=True, validators=[digits_only],
                                   help_text="where “3” transfers: an agent's mobile, an extension or a department intercom")
    filters = models.JSONField(default=dict, blank=True, help_text="the contact filter (q, label, owner) it calls")
    calls_per_minute = models.PositiveSmallIntegerField(default=10)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    problem = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name


class AutomatedCall(models.Model):
    """One automated call of a campaign: placed with click-to-call-support, streamed to us, answered
    on the keypad. Its `call` is the Call on the contact's timeline (the stream is its recording)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        PLACED = "placed", "Ringing"
        STREAMING = "streaming", "On the call"
        ENDED = "ended", "Ended"
        FAILED = "failed", "Could not call"
        SKIPPED = "skipped", "Skipped"

    class Outcome(models.TextChoices):
        NONE = "", "—"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        AGENT = "agent", "Asked for an agent"
        NO_ANSWER = "no_answer", "No answer on the keypad"
        DROPPED = "dropped", "Line dropped"

    campaign = models.ForeignKey(CallCampaign, on_delete=models.CASCADE, related_name="calls")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="automated_calls")
    number = models.CharField(max_length=16, blank=True, help_text="E.164")
    call = models.OneToOneField(Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="automated")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.NONE, blank=True)
    digits = models.CharField(max_length=32, blank=True, help_text="every key pressed, in order")
    stream_id = models.CharField(max_length=128, blank=True, help_text="Smartflo's streamSid")
    frames_in = models.PositiveIntegerField(default=0, help_text="20 ms media frames received")
    reason = models.CharField(max_length=300, blank=True, help_text="why it failed or was skipped")
    placed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["campaign", "contact"], name="automated_call_unique_contact")]

    def __str__(self):
        return f"{self.contact} in {self.campaign}"
