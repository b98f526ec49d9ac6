"""Dialplans answer Smartflo's API Dialplan requests from rules an admin builds in Django admin.

Structural validity of every rule (the JSON it produces) is checked in `clean()`, so an invalid
answer is refused when the admin saves, never discovered when a call arrives. References to ids that
only exist in the Smartflo portal (recordings, the Smartflo id of a nested dialplan) may be filled in
later; a dialplan cannot be switched on while any of them is missing (see `validation.setup_problems`).
"""

import json
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

from accounts.models import TIME_ZONE_CHOICES
from contacts.models import Label
from core.fields import EncryptedTextField
from dialplan import validation

digits_only = RegexValidator(r"^\d+$", "Digits only.")


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Recording(models.Model):
    """A system recording uploaded in the Smartflo portal, named here so rules can pick it."""

    name = models.CharField(max_length=100, unique=True)
    smartflo_id = models.CharField(
        "Smartflo recording id",
        max_length=20,
        blank=True,
        validators=[digits_only],
        help_text="the id shown in Smartflo's system recordings; leave empty until uploaded",
    )
    is_moh = models.BooleanField(
        "marked as music on hold",
        default=False,
        help_text="Smartflo only accepts recordings marked as MOH for a transfer's hold music",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.smartflo_id or 'no id yet'})"

    def clean(self):
        validation.clean_recording(self)


class Schedule(models.Model):
    """Business hours (weekly windows) and holidays, in one time zone."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="Asia/Kolkata")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ScheduleWindow(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text="for hours past midnight add a second window on the next day")

    class Meta:
        ordering = ["weekday", "opens"]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self):
        if self.opens is not None and self.closes is not None and self.opens >= self.closes:
            raise ValidationError({"closes": "Closing time must be after opening time."})


class Holiday(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["schedule", "date"], name="holiday_once_per_day")]

    def __str__(self):
        return f"{self.date} {self.name}".strip()


class Region(models.Model):
    """A region callers come from (a state, circle or city) and the agents who take its calls."""

    name = models.CharField(max_length=100, unique=True, help_text="as the geocoder names it, e.g. Maharashtra, Bihar, Mumbai")
    agents = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="dialplan_regions")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class RegionPrefix(models.Model):
    """A number series that belongs to a region. Indian mobile numbers carry no location in the
    geocoder's data (it answers 'India'), so series allocated to a circle are listed here."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="prefixes")
    prefix = models.CharField(
        max_length=15, unique=True, validators=[RegexValidator(r"^\+\d{2,14}$", "A + then digits, e.g. +9198200.")]
    )

    class Meta:
        ordering = ["prefix"]
        verbose_name_plural = "region prefixes"

    def __str__(self):
        return f"{self.prefix} → {self.region}"


class Dialplan(models.Model):
    class Method(models.TextChoices):
        POST = "POST", "POST"
        GET = "GET", "GET"

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    smartflo_id = models.CharField(
        "Smartflo dialplan id",
        max_length=64,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", "Letters and digits only.")],
        help_text="the id Smartflo gives this API dialplan; other dialplans send callers here with it",
    )
    method = models.CharField(max_length=4, choices=Method.choices, default=Method.POST)
    header_key = models.CharField(
        max_length=100, blank=True, help_text="the header set under Advanced Settings in Smartflo (optional)"
    )
    header_value = EncryptedTextField(blank=True, help_text="its value; requests without it are refused (403)")
    numbers = models.CharField(
        "DIDs", max_length=300, blank=True, help_text="the numbers pointing here, comma-separated (for the simulator)"
    )
    is_active = models.BooleanField(
        "on", default=True, help_text="off: every request gets the default answer (Smartflo's failover destination)"
    )
    # Bumped on every change that affects answers; the view recompiles its cached rules when it moves.
    revision = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["smartflo_id"], condition=~models.Q(smartflo_id=""), name="dialplan_unique_smartflo_id"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def path(self) -> str:
        return reverse("dialplan:answer", args=[self.token])

    @property
    def url(self) -> str:
        return settings.PUBLIC_BASE_URL + self.path

    @property
    def number_list(self) -> list[str]:
        return [n.strip() for n in self.numbers.split(",") if n.strip()]

    def clean(self):
        validation.clean_dialplan(self)


class YesNo(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"


class Rule(models.Model):
    class ScheduleState(models.TextChoices):
        OPEN = "open", "within business hours"
        CLOSED = "closed", "outside business hours or on a holiday"

    class PairMatch(models.TextChoices):
        CALLER = "caller", "caller is a party of an active masked pair"
        REFERENCE = "reference", "DTMF digits are the reference of an active masked pair"
        NONE = "none", "caller has no active masked pair"

    class Action(models.TextChoices):
        RECORDING = "recording", "Play a recording"
        TRANSFER = "transfer", "Transfer to a fixed target"
        TRANSFER_OWNER = "transfer_owner", "Transfer to the contact's owner agent"
        TRANSFER_REGION = "transfer_region", "Transfer to the agents of the caller's region"
        TRANSFER_PAIR = "transfer_pair", "Connect the masked pair's other party"
        DIALPLAN = "dialplan", "Go to another dialplan"

    class TransferType(models.TextChoices):
        NUMBER = "number", "Agent number(s)"
        AGENT = "agent", "Agent id(s)"
        EXTENSION = "extension", "Agent extension(s)"
        IVR = "ivr", "IVR"
        AUTO_ATTENDANT = "auto_attendant", "Auto attendant"
        DEPARTMENT = "department", "Department"

    class RingType(models.TextChoices):
        ORDER_BY = "order_by", "Order by (Smartflo's default)"

    dialplan = models.ForeignKey(Dialplan, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField(default=0, help_text="rules are tried in this order; the first match answers")
    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    is_failover = models.BooleanField(
        "failover",
        default=False,
        help_text="answers when no rule matches or anything fails; its conditions are ignored (one per dialplan)",
    )

    # Conditions: every one that is set must hold.
    caller_known = models.CharField("caller is a known contact", max_length=3, choices=YesNo.choices, blank=True)
    caller_labels = models.ManyToManyField(Label, blank=True, related_name="+", verbose_name="caller has a label")
    caller_has_owner = models.CharField("caller has an owner agent", max_length=3, choices=YesNo.choices, blank=True)
    caller_regions = models.CharField(
        "caller's region", max_length=300, blank=True, help_text="comma-separated states, cities or circles"
    )
    called_numbers = models.CharField("called DID", max_length=300, blank=True, help_text="comma-separated")
    schedule = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.PROTECT, related_name="rules")
    schedule_state = models.CharField("when", max_length=6, choices=ScheduleState.choices, blank=True)
    dtmf_values = models.CharField(
        "last DTMF is", max_length=200, blank=True, help_text="comma-separated digits, e.g. 1, 2 (menus)"
    )
    pair_match = models.CharField("masked pair", max_length=9, choices=PairMatch.choices, blank=True)

    # The answer.
    action = models.CharField(max_length=16, choices=Action.choices)
    recording = models.ForeignKey(
        Recording, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="a system recording…"
    )
    recording_url = models.URLField(max_length=500, blank=True, help_text="…or one fetched from a URL")
    collect_dtmf = models.BooleanField("collect DTMF", default=False)
    dtmf_timeout = models.PositiveIntegerField(
        "digit timeout (ms)", default=5000, validators=[MinValueValidator(1), MaxValueValidator(600_000)]
    )
    dtmf_max_length = models.PositiveSmallIntegerField(
        "max digits", default=10, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    dtmf_retry = models.PositiveSmallIntegerField("retries", default=0, validators=[MaxValueValidator(5)])
    next_dialplan = models.ForeignKey(
        Dialplan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entry_rules",
        help_text="'Go to another dialplan', or after the recording (a DTMF menu's next step)",
    )
    transfer_type = models.CharField(max_length=14, choices=TransferType.choices, blank=True)
    transfer_to = models.CharField(
        max_length=500, blank=True, help_text="comma-separated; several only for agent numbers, ids and extensions"
    )
    ring_type = models.CharField(max_length=16, choices=RingType.choices, blank=True)
    moh = models.ForeignKey(
        Recording,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="music on hold",
        limit_choices_to={"is_moh": True},
    )
    skip_active = models.BooleanField("skip agents on a call", default=False)

    class Meta:
        ordering = ["dialplan", "-is_failover", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["dialplan"], condition=models.Q(is_failover=True), name="dialplan_one_failover_rule"
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        validation.clean_rule(self)


class MaskedPair(models.Model):
    """Two parties who reach each other through a DID without seeing each other's numbers
    (a customer and a delivery agent), until it expires."""

    customer_number = models.CharField(max_length=16)
    agent_number = models.CharField("agent's number", max_length=16, help_text="e.g. the delivery agent")
    reference = models.CharField(
        max_length=32, blank=True, validators=[digits_only], help_text="order number callers may type as DTMF"
    )
    did = models.CharField("DID", max_length=16, blank=True, help_text="limit the pair to one DID (optional)")
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["customer_number", "expires_at"], name="maskedpair_customer"),
            models.Index(fields=["agent_number", "expires_at"], name="maskedpair_agent"),
            models.Index(fields=["reference", "expires_at"], name="maskedpair_reference"),
        ]

    def __str__(self):
        return f"{self.customer_number} ↔ {self.agent_number}" + (f" (#{self.reference})" if self.reference else "")

    def clean(self):
        validation.clean_masked_pair(self)


class DialplanRequest(models.Model):
    """One request Smartflo made (or one that claimed to be Smartflo), what we answered and why."""

    class Outcome(models.TextChoices):
        MATCHED = "matched", "Rule matched"
        FAILOVER = "failover", "No rule matched: failover"
        ERROR = "error", "Error: failover"
        INACTIVE = "inactive", "Dialplan off: default"
        REJECTED = "rejected", "Refused"

    # No database constraints: a request answered from rules cached a moment before a dialplan or rule
    # was deleted must still be logged, and one such row must not fail a whole bulk write.
    dialplan = models.ForeignKey(
        Dialplan, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests", db_constraint=False
    )
    received_at = models.DateTimeField(db_index=True)
    method = models.CharField(max_length=8)
    call_uuid = models.CharField(max_length=100, blank=True, db_index=True)
    call_id = models.CharField(max_length=100, blank=True)
    caller = models.CharField(max_length=40, blank=True)
    called = models.CharField(max_length=40, blank=True)
    last_dtmf = models.CharField(max_length=40, blank=True)
    params = models.JSONField(default=dict, blank=True)
    rule_pk = models.PositiveBigIntegerField("rule id", null=True, blank=True)
    rule_name = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(default=200)
    answer = models.JSONField(null=True, blank=True)
    trace = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    latency_ms = models.FloatField(default=0)

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["dialplan", "-received_at"], name="dialplanrequest_plan_recent"),
            # The contact timeline finds a caller's requests by their numbers.
            models.Index(fields=["caller", "-received_at"], name="dialplanrequest_caller"),
        ]

    def __str__(self):
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.caller} → {self.called}: {self.get_outcome_display()}"

    @property
    def answer_line(self) -> str:
        return json.dumps(self.answer, separators=(",", ":")) if self.answer is not None else ""
