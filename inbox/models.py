"""The inbox's tables: channels, conversations, messages, attachments, webhook events, templates.

Long because: Django keeps an app's models in one module, and the rules that
keep a row consistent live on its model (Message.advance_status, Message.take_reaction,
Conversation.note_inbound, Conversation.objects.for_contact) rather than in the services that call them.
"""

import copy
import secrets
import uuid

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.db.models import F, OrderBy, Q
from django.urls import reverse

from core.fields import EncryptedTextField
from inbox.providers import tata_whatsapp
from core.storage import UnguessablePath

TATA_OMNI_BASE_URL = "https://wb.omni.tatatelebusiness.com"  # the WhatsApp API host
TATA_RCS_BASE_URL = "https://api.omni.tatatelebusiness.com"  # the RCS API host (the reference's RCS server)


def new_public_token() -> str:
    return secrets.token_urlsafe(24)


class Channel(models.Model):
    """One business number on Tata omni (WhatsApp or RCS)."""

    class Kind(models.TextChoices):
        WHATSAPP = "whatsapp", "WhatsApp"
        RCS = "rcs", "RCS"
        # Missed calls of a telephony number (DID) waiting for a follow-up; nothing is sent on it.
        VOICE = "voice", "Calls"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WHATSAPP)
    name = models.CharField(max_length=100)
    phone_number = models.CharField(max_length=16, help_text="the business number, E.164")
    class AuthScheme(models.TextChoices):
        PLAIN = "plain", "Authorization: <token> (as the omni reference shows)"
        BEARER = "bearer", "Authorization: Bearer <token>"

    api_base_url = models.URLField(default=TATA_OMNI_BASE_URL, help_text="left at a Tata default, follows the kind: WhatsApp and RCS have different API hosts")
    access_token = EncryptedTextField(blank=True, help_text="Tata omni API access token (JWT)")
    auth_scheme = models.CharField(
        "Authorization header", max_length=8, choices=AuthScheme.choices, default=AuthScheme.PLAIN,
        help_text="how the token is sent; “Test connection” on the channel list says which form Tata accepts",
    )
    partner_token = EncryptedTextField(blank=True, help_text="signs webhooks (x-hub-signature-256)")
    accept_unsigned_posts = models.BooleanField(
        default=False,
        help_text="Without a partner token, accept webhooks that carry no signature (testing only: anyone who "
        "learns the webhook URL can then forge customer messages). Off: such posts are refused with 403.",
    )
    webhook_token = models.CharField(max_length=64, unique=True, default=new_public_token, editable=False)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="channels",
        help_text="new conversations on this number go to this team",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["kind", "phone_number"], name="channel_unique_number")]

    DEFAULT_BASE_URLS = {Kind.WHATSAPP: TATA_OMNI_BASE_URL, Kind.RCS: TATA_RCS_BASE_URL}

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()} {self.phone_number})"

    def save(self, *args, **kwargs):
        # A base URL left at one of Tata's hosts follows the kind (an RCS channel talks to the RCS host);
        # any other URL (the sandbox, a proxy) is the admin's choice and kept.
        if not self.api_base_url or self.api_base_url.rstrip("/") in self.DEFAULT_BASE_URLS.values():
            self.api_base_url = self.DEFAULT_BASE_URLS.get(self.kind, TATA_OMNI_BASE_URL)
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "api_base_url"}
        super().save(*args, **kwargs)

    @property
    def authorization(self) -> str:
        """The Authorization header value the provider clients send for this channel."""
        return tata_whatsapp.authorization(self.access_token, self.auth_scheme)

    @property
    def webhook_url(self) -> str:
        return settings.PUBLIC_BASE_URL + reverse("webhooks:tata", args=[self.webhook_token])


class NullsLastIndex(models.Index):
    """An index whose DESC NULLS LAST columns serve `ORDER BY … DESC NULLS LAST` on PostgreSQL.

    SQLite refuses NULLS LAST in an index definition, and needs no such index: its DESC order puts
    NULLs last already. There the modifier is dropped.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "sqlite":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain = copy.copy(self)
        plain.expressions = tuple(
            OrderBy(e.expression, descending=e.descending) if isinstance(e, OrderBy) else e for e in self.expressions
        )
        return models.Index.create_sql(plain, model, schema_editor, using=using, **kwargs)


class ConversationManager(models.Manager):
    def for_contact(self, contact, channel: Channel, *, lock: bool = False, new_contact: bool = False) -> tuple["Conversation", bool]:
        """The contact's one conversation on this number, created when it has none; True when created.

        Race-safe: the (channel, contact) pair is unique, so of two callers creating it at once one
        inserts and the other reads that row. `lock` takes the row FOR UPDATE (ingest's counters).
        `new_contact`: the caller created the contact in this transaction, so nobody else can see it:
        no lookup, and no savepoint to guard the insert. The returned row holds the given contact and
        channel objects.
        """
        rows = self.select_for_update() if lock else self.all()
        conversation = None if new_contact else rows.filter(channel=channel, contact=contact).first()
        created = conversation is None
        if created:
            try:
                with transaction.atomic(savepoint=not new_contact):
                    conversation = self.create(channel=channel, contact=contact, team_id=channel.team_id)
            except IntegrityError:  # opened by a concurrent caller for the same customer
                conversation, created = rows.get(channel=channel, contact=contact), False
        conversation.channel, conversation.contact = channel, contact
        return conversation, created

    def for_contacts(self, contacts, channel: Channel) -> tuple[dict[int, "Conversation"], set[int]]:
        """The bulk form of for_contact, for a campaign's chunk of recipients: (contact id → the contact's
        one conversation on this number, ids of the contacts whose conversation is created now), in two
        queries. Race-safe the same way: a conversation another transaction creates meanwhile wins the
        unique pair, and the second read finds it."""

        def read(wanted):
            return {conversation.contact_id: conversation for conversation in self.filter(channel=channel, contact__in=wanted)}

        by_contact = read(contacts)
        missing = [contact for contact in contacts if contact.pk not in by_contact]
        if missing:
            self.bulk_create(
                [self.model(channel=channel, contact=contact, team_id=channel.team_id) for contact in missing], ignore_conflicts=True
            )
            by_contact.update(read(missing))
        contacts_by_id = {contact.pk: contact for contact in contacts}
        for conversation in by_contact.values():
            conversation.channel, conversation.contact = channel, contacts_by_id[conversation.contact_id]
        return by_contact, {contact.pk for contact in missing}


class Conversation(models.Model):
    """The one thread between a contact and a business number; reopened when the contact writes again."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="conversations")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="conversations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_conversations"
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations")
    labels = models.ManyToManyField("contacts.Label", blank=True, related_name="conversations")
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_message_preview = models.CharField(max_length=200, blank=True)
    # Start of the 24-hour customer-service window: the customer's latest inbound message.
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    unread_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "contact"], name="conversation_unique_contact_channel")]
        # The list is ordered newest activity first with never-messaged conversations last; the
        # indexes must say NULLS LAST too, or PostgreSQL sorts every visible row to show thirty.
        indexes = [
            NullsLastIndex(F("last_message_at").desc(nulls_last=True), F("id").desc(), name="conv_recent"),
            NullsLastIndex("status", F("last_message_at").desc(nulls_last=True), F("id").desc(), name="conv_status_recent"),
            NullsLastIndex("assignee", F("last_message_at").desc(nulls_last=True), F("id").desc(), name="conv_assignee_recent"),
            NullsLastIndex("team", F("last_message_at").desc(nulls_last=True), F("id").desc(), name="conv_team_recent"),
        ]

    objects = ConversationManager()

    def __str__(self):
        return f"{self.contact} on {self.channel.name}"

    def note_inbound(self, message: "Message", *, preview: str, counts_as_unread: bool, opens_window: bool) -> bool:
        """Count a customer's new message: unread, last message and its preview, the 24-hour window
        (`opens_window`: not for system notices), and reopen a resolved or snoozed conversation.
        Saves; the caller holds the row's lock. Returns True when it reopened."""
        changed = ["updated_at"]
        if counts_as_unread:
            self.unread_count += 1
            changed.append("unread_count")
        if preview and (self.last_message_at is None or message.timestamp >= self.last_message_at):
            self.last_message_at = message.timestamp
            self.last_message_preview = preview[: self._meta.get_field("last_message_preview").max_length]
            changed += ["last_message_at", "last_message_preview"]
        if opens_window and (self.last_inbound_at is None or message.timestamp > self.last_inbound_at):
            self.last_inbound_at = message.timestamp
            changed.append("last_inbound_at")
        reopened = self.status in (self.Status.RESOLVED, self.Status.SNOOZED)
        if reopened:
            self.status, self.snoozed_until = self.Status.OPEN, None
            changed += ["status", "snoozed_until"]
        self.save(update_fields=changed)
        return reopened

    def note_outside_message(self, at) -> None:
        """A message sent from outside Sampark (a status placeholder) is the last one if it is the latest."""
        if self.last_message_at is None or at >= self.last_message_at:
            self.last_message_at = at
            self.last_message_preview = "Sent outside Sampark"
            self.save(update_fields=["last_message_at", "last_message_preview", "updated_at"])


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", "From the customer"
        OUTBOUND = "out", "To the customer"
        NOTE = "note", "Private note"

    class Status(models.TextChoices):
        # Order matters: a status only moves forward (see Message.STATUS_RANK); failed is terminal.
        RECEIVED = "received", "Received"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"
        API = "api", "API"
        # A status came for an id Sampark never sent (Tata's portal sent it). Stored as "campaign", as the
        # REST API shows it; messages of Sampark's own campaigns app are SYSTEM.
        OUTSIDE_SAMPARK = "campaign", "Sent outside Sampark (Tata portal / campaign)"
        IMPORT = "import", "History import"
        PHONE = "phone", "Sent from the phone (WhatsApp Business app)"
        SYSTEM = "system", "System"

    MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})  # the types that carry an Attachment
    STATUS_RANK = {"received": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "read": 5, "failed": 6}

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=4, choices=Direction.choices)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CUSTOMER)
    # text, image, video, audio, document, sticker, location, contacts, interactive, button, order,
    # reaction, template, system, unsupported… (the provider's type, kept as given)
    type = models.CharField(max_length=32, default="text")
    body = models.TextField(blank=True, help_text="the text a person reads (text body, caption, tapped title…)")
    content = models.JSONField(default=dict, blank=True, help_text="the provider's message object, as received or sent")
    # What its bubble shows ({"kind": "tap", "text": …}), computed at ingest by the provider's parser;
    # empty for rows that have none yet (inbox.display computes theirs with the same parser).
    display = models.JSONField(default=dict, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=255, null=True, blank=True)
    provider_request_id = models.CharField(max_length=255, blank=True, help_text="id Tata returned for our send")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sent_messages"
    )
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")
    reply_to_provider_id = models.CharField(max_length=255, blank=True)
    # The current reaction of each side on this message: {"in": {"emoji": "👍", "at": iso}, "out": {...}}.
    # Kept by ingest from `type=reaction` messages (which point here through reply_to); an empty emoji
    # means the reaction was removed. Threads show these on the bubble and skip the reaction rows.
    reactions = models.JSONField(default=dict, blank=True)
    # When it happened for the customer (the provider's timestamp); threads are ordered by it.
    timestamp = models.DateTimeField(db_index=True)
    status_updated_at = models.DateTimeField(null=True, blank=True)
    # Imported rows only: a hash of (contact, minute, direction, text) so importing the same history
    # twice adds nothing (see imports.readers.import_key).
    import_key = models.CharField(max_length=64, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=Q(provider_message_id__isnull=False),
                name="message_unique_provider_id",
            ),
            models.UniqueConstraint(
                fields=["channel", "import_key"], condition=Q(import_key__isnull=False), name="message_unique_import_key"
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "-timestamp", "-id"], name="msg_thread"),
            # Replies and reactions that arrived before the message they point at get linked later.
            models.Index(
                fields=["channel", "reply_to_provider_id"],
                condition=Q(reply_to__isnull=True) & ~Q(reply_to_provider_id=""),
                name="msg_unlinked_reply",
            ),
            # The sweeper's look for messages whose delivery task was lost (inbox.outbound.requeue_stalled).
            models.Index(fields=["status_updated_at"], condition=Q(status__in=["queued", "sending"]), name="msg_unsettled_outbound"),
        ]

    def advance_status(self, status: str, at, *, error_code: str = "", error_message: str = "") -> list[str]:
        """Apply a provider's status in memory (nothing saved); returns the changed field names.

        The one status rule: statuses only move forward; `failed` never replaces delivered/read (the
        customer got it; the error is still recorded), and a delivered/read after a failed wins."""
        rank = self.STATUS_RANK
        current = self.status
        changed: list[str] = []
        if status == self.Status.FAILED:
            if error_code or error_message:
                self.error_code, self.error_message = error_code[:32], error_message or "Failed to send"
                changed += ["error_code", "error_message"]
            if rank[current] < rank[self.Status.DELIVERED]:
                self.status = status
                changed.append("status")
        elif current == self.Status.FAILED:
            if status in (self.Status.DELIVERED, self.Status.READ):
                self.status = status
                changed.append("status")
        elif rank[status] > rank[current]:
            self.status = status
            changed.append("status")
        if "status" in changed:
            # Our clock, not the provider's: browsers catching up after a reconnect ask "what changed since".
            self.status_updated_at = timezone.now()
            changed.append("status_updated_at")
        return changed

    def take_reaction(self, side: str, emoji: str, at) -> bool:
        """Set one side's current emoji ("" = removed) and save, unless a newer reaction already did
        (an older one arriving late, in a retry burst, does not undo it). True when it changed."""
        current = self.reactions.get(side) or {}
        moment = at.isoformat()
        if current.get("at") and current["at"] > moment:
            return False
        self.reactions = {**self.reactions, side: {"emoji": emoji or "", "at": moment}}
        self.save(update_fields=["reactions"])
        return True

    @property
    def reaction_emojis(self) -> list[str]:
        return [r["emoji"] for r in self.reactions.values() if r.get("emoji")]

    def __str__(self):
        return f"{self.get_direction_display()}: {self.body[:40] or self.type}"

    @property
    def callback_data(self) -> str:
        """Travels as metaData.custom_callback_data so a status finds us even if the send response was lost."""
        return f"sampark-msg-{self.uid}"



class Attachment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to download"
        DOWNLOADING = "downloading", "Downloading"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=16, help_text="image, video, audio, document, sticker")
    provider_media_id = models.CharField(max_length=255, blank=True)
    source_url = models.URLField(max_length=2000, blank=True, help_text="where the file is fetched from when there is no media id (RCS)")
    mime_type = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=128, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file = models.FileField(upload_to=UnguessablePath("attachments"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.file_name or f"{self.kind} {self.provider_media_id}"


class WebhookEvent(models.Model):
    """A provider's request, stored raw before anything parses it: nothing received is ever lost."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Known, nothing to do"
        UNPROCESSABLE = "unprocessable", "Unprocessable (kept for replay)"
        REJECTED = "rejected", "Rejected (bad signature)"

    source = models.CharField(max_length=32, help_text="tata_whatsapp, tata_rcs, smartflo…")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events")
    connection = models.ForeignKey(
        "telephony.TelephonyConnection", null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events",
        help_text="the telephony account a Status URL delivery (source smartflo) arrived for",
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "received_at"], name="webhook_status")]

    def __str__(self):
        return f"{self.source} #{self.pk} ({self.status})"


class Template(models.Model):
    """A WhatsApp message template of a channel, as synced from (or created through) Tata."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16, default="en")
    category = models.CharField(max_length=32, blank=True, help_text="MARKETING, UTILITY, AUTHENTICATION")
    status = models.CharField(max_length=32, blank=True, help_text="APPROVED, PENDING, REJECTED…")
    components = models.JSONField(default=list, blank=True)
    provider_template_id = models.CharField(max_length=255, blank=True)
    rejection_reason = models.TextField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "language"]
        constraints = [models.UniqueConstraint(fields=["channel", "name", "language"], name="template_unique")]

    def __str__(self):
        return f"{self.name} ({self.language})"


class CannedResponse(models.Model):
    """A saved reply; `/shortcut` in the composer expands to it. No owner = shared with everyone."""

    shortcut = models.SlugField(max_length=50)
    body = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_responses")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shortcut"]
        constraints = [models.UniqueConstraint(fields=["shortcut", "owner"], name="canned_unique_shortcut")]

    def __str__(self):
        return f"/{self.shortcut}"


class SendAttempt(models.Model):
    """One try at handing an outbound message to Tata; see inbox.outbound for the exactly-once rules.

    Written *before* the HTTP call and closed after it, so an attempt left `pending` is proof that a
    worker died between asking Tata and recording the answer.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", "Started (no answer recorded)"
        ACCEPTED = "accepted", "Accepted by Tata"
        RETRY = "retry", "Failed, will retry"
        FAILED = "failed", "Refused by Tata"
        UNKNOWN = "unknown", "Interrupted: Tata may or may not have it"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="send_attempts")
    number = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    provider_request_id = models.CharField(max_length=255, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["message", "number"]
        constraints = [models.UniqueConstraint(fields=["message", "number"], name="send_attempt_unique_number")]

    def __str__(self):
        return f"attempt {self.number} of message {self.message_id}: {self.outcome}"


class OptStatus(models.Model):
    """Whether a contact agreed to hear from a business number (Tata's /business/optin_optout)."""

    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="opt_statuses")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="opt_statuses")
    opted_out = models.BooleanField(default=False)
    # An opt-out sent with auto_optin_in_days lapses by itself at this moment.
    auto_optin_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()
    synced_at = models.DateTimeField(null=True, blank=True, help_text="when Tata confirmed this state")
    sync_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "channel"], name="opt_status_unique_contact_channel")]

    def __str__(self):
        return f"{self.contact} on {self.channel.name}: {'opted out' if self.opted_out else 'opted in'}"


class TemplateInsightsOptIn(models.Model):
    """Tata's template insights must be switched on once per business number."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="insights_optin")
    enabled_at = models.DateTimeField()
    enabled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self):
        return f"insights on for {self.channel.name}"


# (rcs-rich hook) Rich RCS snippets and card media live in inbox/rich/models.py.
from inbox.rich.models import RichMedia, RichSnippet  # noqa: E402,F401
