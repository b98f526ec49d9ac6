"""Status URL deliveries and call records → Call rows. Idempotent, order-independent.

A call is found by Smartflo's `call_id` or `uuid` on its connection (both unique in the database), so
a duplicate delivery, a retry burst, and the same call arriving from the webhook and from the call
records all land on one row. What an event says is merged into the row: values it lacks never erase
what an earlier one said, and the status only moves up (`Call.STATUS_RANK`), so a late "ringing"
never undoes an outcome.

Webhooks are stored raw by `telephony.webhooks` as inbox WebhookEvents (source "smartflo") and
applied by the inbox's drain, which calls `apply_event` (registered in TelephonyConfig.ready).

Long because: the one-event path (`record`, `merge`), the drain batch's
read-ahead (`CallBatch`) and the backfill's page (`record_page`) share the merge rules and must agree
on them, so they stay side by side.
"""

import logging
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import BigIntegerField, Case, Q, Value, When

from contacts.models import Contact, ContactPhone
from contacts.services import find_or_create_by_phone
from core import bulk_rows
from core.fields import EncryptedTextField
from core.tasks import enqueue
from inbox.ingest.drain import Unprocessable
from inbox.models import Channel, Conversation, WebhookEvent
from telephony import events, followups, recordings
from telephony.agent_directory import AgentDirectory
from telephony.models import Call, TelephonyConnection
from telephony.providers import smartflo

logger = logging.getLogger(__name__)

SOURCE = "smartflo"
METHOD_HEADER = "X-Sampark-Method"
QUERY_HEADER = "X-Sampark-Query"

# A drain batch inserts its new calls ahead in one statement from this many on (see CallBatch.insert_new_calls).
INSERT_AHEAD_MIN_CALLS = 3

# Applying a delivery never needs the connection's credentials, and decrypting its five secrets cost
# more than the rest of reading it: a small batch paid that on every claim.
SECRET_FIELDS = [field.name for field in TelephonyConnection._meta.fields if isinstance(field, EncryptedTextField)]

MERGED_FIELDS = (
    "ref_id", "custom_identifier", "direction", "customer_number", "did_number", "agent_number", "agent_name",
    "started_at", "answered_at", "ended_at", "duration", "talk_time", "hangup_cause", "hangup_cause_code",
    "hangup_description", "recording_url",
)


def apply_event(event: WebhookEvent) -> str | None:
    """The drain's entry point for one stored Status URL delivery."""
    drained = _batch.get(None)
    batch = drained or CallBatch.read([event])
    connection = batch.connections.get(event.connection_id)
    if connection is None:
        raise Unprocessable("The telephony connection this delivery arrived for no longer exists.")
    parsed = batch.parsed.get(event.pk) or _parse(event)
    if isinstance(parsed, Unprocessable):
        raise parsed
    try:
        record(connection, parsed, follow_ups=True, batch=batch)
        if drained is None:
            batch.link_follow_ups()  # else when the drain's batch ends (read_ahead)
    except BaseException:
        batch.forget(connection, parsed)  # the drain rolls this event back: what it read or wrote is stale
        raise
    return None


def _parse(event: WebhookEvent) -> smartflo.CallEvent | Unprocessable:
    try:
        variables = smartflo.webhook_variables(
            bytes(event.body), event.headers.get("Content-Type", ""), event.headers.get(QUERY_HEADER, "")
        )
    except ValueError as exc:
        return Unprocessable(str(exc))
    parsed = smartflo.call_event(variables)
    if not parsed.key:
        return Unprocessable(
            "No call_id or uuid in the delivery, so it cannot be tied to a call. "
            f"Variables: {', '.join(sorted(variables)) or 'none'}."
        )
    return parsed


class CallBatch:
    """What one drain batch of Status URL deliveries reads, fetched up front in a few queries instead
    of a dozen per call: the connections, the calls they name (locked, in primary-key order, so
    concurrent drains cannot deadlock on them), the callers' contacts (new callers created in bulk),
    the agents, and for missed inbound calls the voice channels and their conversations (locked).

    A call the read-ahead did not find is read again when applied (a duplicate later in the batch finds
    the row the first one stored, through `remember`)."""

    def __init__(self):
        self.connections: dict[int, TelephonyConnection] = {}
        self.parsed: dict[int, smartflo.CallEvent | Unprocessable] = {}
        self.calls: dict[tuple[int, str, str], Call] = {}  # (connection, "id" or "uuid", value) → locked row
        self.read_keys: set[tuple[int, str, str]] = set()  # looked for: absent from `calls` means "not stored"
        self.contacts: dict[str, Contact | None] = {}  # E.164 → contact
        self.channels: dict[str, object] = {}  # voice channel by DID
        self.conversations: dict[tuple[int, int], object] = {}  # (channel, contact) → locked conversation
        self.conversations_read: set[tuple[int, int]] = set()
        self.inserted_ahead: set[int] = set()  # calls `insert_new_calls` stored, whose events have not run yet
        self.follow_up_links: dict[int, int] = {}  # call → its new follow-up message, written when the batch ends

    @classmethod
    def read(cls, events: list[WebhookEvent]) -> "CallBatch":
        batch = cls()
        batch.connections = TelephonyConnection.objects.defer(*SECRET_FIELDS).in_bulk({e.connection_id for e in events if e.connection_id})
        for event in events:
            if event.connection_id in batch.connections:
                event.connection = batch.connections[event.connection_id]
            batch.parsed[event.pk] = _parse(event)
        calls = [
            (e.connection_id, p) for e in events
            if e.connection_id in batch.connections and isinstance(p := batch.parsed[e.pk], smartflo.CallEvent)
        ]
        if not calls:
            return batch
        call_ids = {p.call_id for _, p in calls if p.call_id}
        uuids = {p.uuid for _, p in calls if p.uuid}
        for connection_id, p in calls:
            batch.read_keys.update(_keys(connection_id, p.call_id, p.uuid))
        for call in (
            Call.objects.select_for_update(of=("self",))
            .filter(named_by(call_ids, uuids), connection_id__in={c for c, _ in calls})
            .order_by("pk")
        ):
            batch.remember(call)
        numbers, agent_numbers, missed_dids = set(), set(), set()
        for connection_id, p in calls:
            stored = batch.call(connection_id, p)
            if p.custom_identifier and stored is None:
                continue  # a click-to-call's row may be known by that identifier only: record() reads it
            if stored is None or stored.contact_id is None:
                number = smartflo.e164(p.customer_number or (stored.customer_number if stored else ""))
                if number:
                    numbers.add(number)
            if stored is None or stored.agent_id is None:
                agent_numbers.add(p.agent_number or (stored.agent_number if stored else ""))
            direction = p.direction or (stored.direction if stored else "")
            if direction == Call.Direction.INBOUND and (p.status == Call.Status.MISSED or (stored and stored.is_missed_inbound)):
                missed_dids.add(p.did_number or (stored.did_number if stored else ""))
        if numbers:
            batch.contacts = dict.fromkeys(numbers)
            batch.contacts.update(
                (phone.number, phone.contact) for phone in ContactPhone.objects.filter(number__in=numbers).select_related("contact")
            )
            _create_contacts([n for n, c in batch.contacts.items() if c is None], batch.contacts)
        AgentDirectory.prefetch(agent_numbers - {""})
        if missed_dids:
            batch.read_follow_ups(missed_dids)
        batch.insert_new_calls(calls)
        return batch

    def insert_new_calls(self, calls: list[tuple[int, smartflo.CallEvent]]) -> None:
        """Insert, in one statement, the calls the batch names for the first time: each event then only
        publishes its call (and opens a missed call's follow-up). What an event would write is what
        its own `record` would: the same merge, contact and recording state. If the insert fails (a
        concurrent drain stored one of the calls first) nothing is inserted ahead and each event
        writes its own row, as before.

        A call inserted ahead stays if its event's later steps are rolled back (its follow-up, say):
        the event's retry or replay finds the row and completes them (applying is idempotent)."""
        agents, fresh = AgentDirectory(), {}
        for connection_id, parsed in calls:
            keys = _keys(connection_id, parsed.call_id, parsed.uuid)
            if parsed.custom_identifier or any(key in self.calls or key in fresh for key in keys):
                continue  # stored already (or a click-to-call's row): updated by its own event
            number = smartflo.e164(parsed.customer_number)
            if number and self.contacts.get(number) is None:
                continue  # a caller the read-ahead did not create: record() finds or creates them
            call = Call(connection=self.connections[connection_id])
            merge(call, parsed, agents)
            call.contact = self.contacts[number] if number else None
            if call.recording_url:
                call.recording_status = Call.Recording.PENDING
            fresh.update((key, call) for key in keys)
        new = list({id(call): call for call in fresh.values()}.values())
        if len(new) < INSERT_AHEAD_MIN_CALLS:
            return  # its savepoint would cost more round trips than the inserts it saves
        try:
            with transaction.atomic():
                bulk_rows.insert(Call, new)
        except (IntegrityError, OperationalError):
            logger.info("inserting %s new calls ahead failed; each event stores its own", len(new), exc_info=True)
            return
        for call in new:
            self.remember(call)
            self.inserted_ahead.add(call.pk)

    def read_follow_ups(self, dids: set[str]) -> None:
        numbers = {did if did.startswith("+") else "" for did in dids}
        self.channels = {c.phone_number: c for c in Channel.objects.filter(kind=Channel.Kind.VOICE, phone_number__in=numbers).order_by("pk")}
        contact_ids = {c.pk for c in self.contacts.values() if c is not None}
        if self.channels and contact_ids:
            self.conversations_read = {(channel.pk, contact_id) for channel in self.channels.values() for contact_id in contact_ids}
            self.conversations = {
                (c.channel_id, c.contact_id): c
                for c in Conversation.objects.select_for_update(of=("self",))
                .filter(channel__in=self.channels.values(), contact_id__in=contact_ids)
                .order_by("pk")
            }

    def link_follow_ups(self) -> None:
        """Point the batch's missed calls at their follow-up messages, in one UPDATE."""
        if self.follow_up_links:
            Call.objects.filter(pk__in=self.follow_up_links).update(follow_up_id=Case(
                *(When(pk=call, then=Value(message)) for call, message in self.follow_up_links.items()), output_field=BigIntegerField(),
            ))
            self.follow_up_links.clear()

    def call(self, connection_id: int, parsed: smartflo.CallEvent) -> Call | None:
        for key in _keys(connection_id, parsed.call_id, parsed.uuid):
            if key in self.calls:
                return self.calls[key]
        return None

    def knows(self, connection_id: int, parsed: smartflo.CallEvent) -> bool:
        """Whether the read-ahead looked for every id this event names (so "not found" means "not stored").
        An event with a custom identifier (a click-to-call) is always looked up by `_locked_call`."""
        if parsed.custom_identifier:
            return False
        return all(key in self.read_keys for key in _keys(connection_id, parsed.call_id, parsed.uuid))

    def remember(self, call: Call) -> None:
        for key in _keys(call.connection_id, call.provider_call_id, call.provider_uuid):
            self.calls[key] = call
            self.read_keys.add(key)

    def forget(self, connection: TelephonyConnection, parsed: smartflo.CallEvent) -> None:
        """An event was rolled back: its call (maybe changed in memory, maybe never stored) and the
        conversations are read again by whoever needs them next."""
        stored = self.call(connection.pk, parsed)
        keys = set(_keys(connection.pk, parsed.call_id, parsed.uuid))
        if stored is not None:
            keys |= set(_keys(connection.pk, stored.provider_call_id, stored.provider_uuid))
        for key in keys:
            self.calls.pop(key, None)
            self.read_keys.discard(key)
        if stored is not None:
            self.inserted_ahead.discard(stored.pk)
            self.follow_up_links.pop(stored.pk, None)
        self.conversations.clear()
        self.conversations_read.clear()


def named_by(call_ids: set[str], uuids: set[str]) -> Q:
    """Calls with one of these Smartflo ids. Each id column's unique index is partial (ids not ''):
    PostgreSQL proves an IN list implies "not ''" only up to 100 values, so a page of 200 records
    scanned the whole table (a cost growing with every call stored) unless the query says it too."""
    return (Q(provider_call_id__in=call_ids) & ~Q(provider_call_id="")) | (Q(provider_uuid__in=uuids) & ~Q(provider_uuid=""))


def _keys(connection_id: int, call_id: str, uuid: str) -> list[tuple[int, str, str]]:
    return [key for key in ((connection_id, "id", call_id), (connection_id, "uuid", uuid)) if key[2]]


_batch: ContextVar[CallBatch] = ContextVar("telephony_call_batch")


@contextmanager
def read_ahead(events: list[WebhookEvent]):
    """The drain's read-ahead for its Smartflo events (registered in TelephonyConfig.ready)."""
    batch = CallBatch.read(events)
    token = _batch.set(batch)
    try:
        yield
        batch.link_follow_ups()
    finally:
        _batch.reset(token)


def record(connection: TelephonyConnection, parsed: smartflo.CallEvent, *, follow_ups: bool,
           agents: AgentDirectory | None = None, contacts: dict | None = None, batch: CallBatch | None = None) -> tuple[Call, bool]:
    """Create or update the call `parsed` describes; returns (call, created). Runs in the caller's
    transaction (the drain gives each event its own savepoint) or in one of its own."""
    agents = agents or AgentDirectory()
    if batch is not None:
        contacts = batch.contacts
    with transaction.atomic(savepoint=False):
        if batch is not None and batch.knows(connection.pk, parsed):
            call = batch.call(connection.pk, parsed)
        else:
            call = _locked_call(connection, parsed)
        inserted_ahead = batch is not None and call is not None and call.pk in batch.inserted_ahead
        if inserted_ahead:  # this event's own row, stored by the batch's read-ahead (CallBatch.insert_new_calls)
            batch.inserted_ahead.discard(call.pk)
        created = call is None or inserted_ahead
        if call is None:
            call = Call(connection=connection)
        status_before = call.status if not created else None
        changed = False if inserted_ahead else merge(call, parsed, agents)
        if call.contact_id is None and smartflo.e164(call.customer_number):
            call.contact, _ = find_or_create_by_phone(call.customer_number, known=contacts)
            changed = True
        fetch = bool(call.recording_url) and call.recording_status == Call.Recording.NONE and not call.recording
        if fetch:
            call.recording_status = Call.Recording.PENDING
            changed = True
        fetch = fetch or (inserted_ahead and call.recording_status == Call.Recording.PENDING)
        if created and not inserted_ahead:
            # A concurrent delivery of the same call may store it first: the unique ids raise
            # IntegrityError, the drain keeps the event `received` and the retry finds the row.
            call.save(force_insert=True)
        elif changed:
            call.save()
        if batch is not None:
            batch.remember(call)
        if fetch:
            enqueue("telephony.fetch_recording", call.pk)
        if follow_ups and call.is_missed_inbound and call.follow_up_id is None:
            followups.open_for(call, batch=batch)
        if created or changed:
            events.call_updated(call)
            if call.status != status_before and call.status in (Call.Status.RINGING, Call.Status.IN_PROGRESS):
                events.screen_pop(call)
    return call, created


def _locked_call(connection: TelephonyConnection, parsed: smartflo.CallEvent) -> Call | None:
    rule = Q()
    if parsed.call_id:
        rule |= Q(provider_call_id=parsed.call_id)
    if parsed.uuid:
        rule |= Q(provider_uuid=parsed.uuid)
    if parsed.custom_identifier:  # a click-to-call: its row exists from the click, before Smartflo named the call
        rule |= Q(custom_identifier=parsed.custom_identifier)
    return Call.objects.select_for_update().filter(rule, connection=connection).order_by("pk").first()


def merge(call: Call, parsed: smartflo.CallEvent, agents: AgentDirectory) -> bool:
    """Fold what `parsed` says into `call`; True when anything changed."""
    changed = False
    for name, value in (("provider_call_id", parsed.call_id), ("provider_uuid", parsed.uuid)):
        if value and not getattr(call, name):
            setattr(call, name, value)
            changed = True
    for name in MERGED_FIELDS:
        value = getattr(parsed, name)
        if value in (None, "") or getattr(call, name) == value:
            continue
        if name in ("talk_time", "duration") and getattr(call, name) is not None and value < getattr(call, name):
            continue  # a partial record (e.g. while ringing) never shortens a measured call
        setattr(call, name, value)
        changed = True
    if parsed.status and Call.STATUS_RANK.get(parsed.status, -1) > Call.STATUS_RANK.get(call.status, -1):
        call.status = parsed.status
        changed = True
    if call.agent_id is None and call.agent_number:
        user_id = agents.user_id(call.agent_number)
        if user_id:
            call.agent_id = user_id
            changed = True
    new_raw = {**call.raw, **parsed.raw}
    if new_raw != call.raw:
        call.raw = new_raw
        changed = True
    return changed


# ---------------------------------------------------------------- call records in bulk (backfill)


def _create_contacts(numbers: list[str], known: dict, *, retried_on_conflict: bool = False) -> None:
    """A contact per new number, in bulk (a backfill meets thousands of new callers). A number another
    process stored meanwhile keeps its contact; ours for it is removed. With `retried_on_conflict`
    (the caller applies its work again on IntegrityError, as the backfill does) the rows are COPied
    on PostgreSQL instead, and such a number raises."""
    if not numbers:
        return
    if retried_on_conflict and bulk_rows.use_copy():
        fresh = [Contact() for _ in numbers]
        bulk_rows.copy_insert(Contact, fresh)
        bulk_rows.copy_insert(ContactPhone, [
            ContactPhone(contact=contact, number=number, is_primary=True) for contact, number in zip(fresh, numbers)
        ])
        known.update(zip(numbers, fresh))
        return
    fresh = Contact.objects.bulk_create([Contact() for _ in numbers])
    ContactPhone.objects.bulk_create(
        [ContactPhone(contact=contact, number=number, is_primary=True) for contact, number in zip(fresh, numbers)], ignore_conflicts=True
    )
    owners = dict(ContactPhone.objects.filter(number__in=numbers).values_list("number", "contact_id"))
    by_id = {contact.pk: contact for contact in fresh}
    lost = [contact.pk for contact, number in zip(fresh, numbers) if owners.get(number) != contact.pk]
    if lost:
        Contact.objects.filter(pk__in=lost).delete()
    others = {contact_id for contact_id in owners.values() if contact_id not in by_id}
    by_id.update(Contact.objects.in_bulk(others))
    for number in numbers:
        known[number] = by_id.get(owners.get(number))


PAGE_FIELDS = ("provider_call_id", "provider_uuid", "status", "agent", "contact", "raw", "recording_status", *MERGED_FIELDS)


def _value(call: Call, name: str):
    return getattr(call, f"{name}_id") if name in ("agent", "contact") else getattr(call, name)


def _stored_values(call: Call) -> tuple:
    return tuple(_value(call, name) for name in PAGE_FIELDS)  # merge replaces `raw`, never edits it in place


def record_page(connection: TelephonyConnection, rows: list[dict], *, follow_ups: bool) -> tuple[int, int]:
    """Apply one page of call records; returns (created, updated). One transaction, a few queries:
    the page's calls, contacts and agents are read up front, new contacts and calls inserted in bulk
    (COPY on PostgreSQL: a call or number stored meanwhile by a webhook raises IntegrityError, and
    the caller applies the page again, which then merges into that row)."""
    parsed = [p for p in (smartflo.call_event(row) for row in rows) if p.key]
    if not parsed:
        return 0, 0
    with transaction.atomic():
        existing = _lock_page_calls(connection, parsed)
        before = {call.pk: _stored_values(call) for call in existing}
        numbers = {p.customer_number for p in parsed if p.customer_number.startswith("+")}
        contacts: dict[str, Contact | None] = dict.fromkeys(numbers)
        contacts.update(
            (phone.number, phone.contact) for phone in ContactPhone.objects.filter(number__in=numbers).select_related("contact")
        )
        AgentDirectory.prefetch({p.agent_number for p in parsed if p.agent_number})
        fresh, dirty = _merge_page(connection, parsed, existing)
        _create_contacts([n for n, c in contacts.items() if c is None and smartflo.e164(n) == n], contacts, retried_on_conflict=True)
        for call in list(fresh.values()) + list(dirty.values()):
            if call.contact_id is None and call.customer_number in contacts and contacts[call.customer_number] is not None:
                call.contact = contacts[call.customer_number]
        with_recording = [c for c in [*fresh.values(), *dirty.values()] if c.recording_url and c.recording_status == Call.Recording.NONE]
        for call in with_recording:
            call.recording_status = Call.Recording.PENDING
        bulk_rows.insert(Call, list(fresh.values()))
        if dirty:
            # Only the columns some call of the page changed (bulk_update writes a CASE per row and column).
            changed = {name for call in dirty.values() for name, old in zip(PAGE_FIELDS, before[call.pk]) if _value(call, name) != old}
            if changed:
                Call.objects.bulk_update(list(dirty.values()), [name for name in PAGE_FIELDS if name in changed])
        if with_recording:
            recordings.queue_sweep()
        if follow_ups:
            for call in fresh.values():
                if call.is_missed_inbound and call.pk:
                    followups.open_for(call)
    return len(fresh), len(dirty)


def _lock_page_calls(connection: TelephonyConnection, parsed: list) -> list[Call]:
    """The calls of this page we already have, locked in pk order."""
    call_ids = {p.call_id for p in parsed if p.call_id}
    uuids = {p.uuid for p in parsed if p.uuid}
    identifiers = {p.custom_identifier for p in parsed if p.custom_identifier}
    return list(
        Call.objects.select_for_update()
        .filter(named_by(call_ids, uuids) | Q(custom_identifier__in=identifiers), connection=connection)
        .order_by("pk")
    )


def _merge_page(connection: TelephonyConnection, parsed: list, existing: list[Call]) -> tuple[dict[str, Call], dict[int, Call]]:
    """Fold each record into its call: (new calls by key, changed stored calls by pk). A page may hold
    the same call twice (ringing, then answered): the second record merges into the first."""
    agents = AgentDirectory()
    by_id = {c.provider_call_id: c for c in existing if c.provider_call_id}
    by_uuid = {c.provider_uuid: c for c in existing if c.provider_uuid}
    by_identifier = {c.custom_identifier: c for c in existing if c.custom_identifier}
    fresh: dict[str, Call] = {}
    dirty: dict[int, Call] = {}
    for event in parsed:
        call = by_id.get(event.call_id) or by_uuid.get(event.uuid) or by_identifier.get(event.custom_identifier) or fresh.get(event.key)
        if call is None:
            call = Call(connection=connection)
            merge(call, event, agents)
            fresh[event.key] = call
            if event.call_id:
                by_id[event.call_id] = call
            if event.uuid:
                by_uuid[event.uuid] = call
        elif merge(call, event, agents) and call.pk:
            dirty[call.pk] = call
    return fresh, dirty
