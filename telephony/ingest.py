"""Status URL deliveries and call records → Call rows. Idempotent, order-independent.

A call is found by Smartflo's `call_id` or `uuid` on its connection (both unique in the database), so
a duplicate delivery, a retry burst, and the same call arriving from the webhook and from the call
records all land on one row. What an event says is merged into the row: values it lacks never erase
what an earlier one said, and the status only moves up (`Call.STATUS_RANK`), so a late "ringing"
never undoes an outcome.

Webhooks are stored raw by `telephony.webhooks` as inbox WebhookEvents (source "smartflo") and
applied by the inbox's drain, which calls `apply_event` (registered in TelephonyConfig.ready).
"""

import logging
import time

from django.db import transaction
from django.db.models import Q

from contacts.models import Contact
from contacts.services import find_or_create_by_phone
from core import phones
from core.tasks import enqueue
from inbox.ingest import Unprocessable
from inbox.models import WebhookEvent
from telephony import events, followups
from telephony.models import AgentLine, Call, TelephonyConnection
from telephony.providers import smartflo

logger = logging.getLogger(__name__)

SOURCE = "smartflo"
METHOD_HEADER = "X-Sampark-Method"
QUERY_HEADER = "X-Sampark-Query"

AGENT_CACHE_SECONDS = 30.0

MERGED_FIELDS = (
    "ref_id", "custom_identifier", "direction", "customer_number", "did_number", "agent_number", "agent_name",
    "started_at", "answered_at", "ended_at", "duration", "talk_time", "hangup_cause", "hangup_cause_code",
    "hangup_description", "recording_url",
)


def apply_event(event: WebhookEvent) -> str | None:
    """The drain's entry point for one stored Status URL delivery."""
    connection = event.connection
    if connection is None:
        raise Unprocessable("The telephony connection this delivery arrived for no longer exists.")
    try:
        variables = smartflo.webhook_variables(
            bytes(event.body), event.headers.get("Content-Type", ""), event.headers.get(QUERY_HEADER, "")
        )
    except ValueError as exc:
        raise Unprocessable(str(exc)) from exc
    parsed = smartflo.call_event(variables)
    if not parsed.key:
        raise Unprocessable(
            "No call_id or uuid in the delivery, so it cannot be tied to a call. "
            f"Variables: {', '.join(sorted(variables)) or 'none'}."
        )
    record(connection, parsed, follow_ups=True)
    return None


class AgentDirectory:
    """Smartflo's agent number / id / extension → our user. Answers are kept for AGENT_CACHE_SECONDS
    in the process (a drain applies many calls of the same few agents; lines rarely change)."""

    _shared: dict[str, tuple[float, int | None]] = {}

    def user_id(self, agent_number: str) -> int | None:
        if not agent_number:
            return None
        now = time.monotonic()
        cached = self._shared.get(agent_number)
        if cached is None or now - cached[0] > AGENT_CACHE_SECONDS:
            if len(self._shared) > 10_000:
                self._shared.clear()
            cached = self._shared[agent_number] = (now, self._lookup(agent_number))
        return cached[1]

    @classmethod
    def forget(cls, **kwargs) -> None:
        """A line or a user changed (signals, TelephonyConfig.ready): this process reads agents again."""
        cls._shared.clear()

    @staticmethod
    def _lookup(agent_number: str) -> int | None:
        digits = "".join(c for c in agent_number if c.isdigit())
        rule = Q(agent_id=agent_number) | Q(extension=agent_number)
        if digits and digits != agent_number:
            rule |= Q(agent_id=digits) | Q(extension=digits)
        line = AgentLine.objects.filter(rule).values_list("user_id", flat=True).first()
        if line:
            return line
        number = phones.try_e164(agent_number)
        if number:
            from accounts.models import User

            return User.objects.filter(phone=number, is_active=True).values_list("pk", flat=True).first()
        return None


def record(connection: TelephonyConnection, parsed: smartflo.CallEvent, *, follow_ups: bool,
           agents: AgentDirectory | None = None, contacts: dict | None = None) -> tuple[Call, bool]:
    """Create or update the call `parsed` describes; returns (call, created). Runs in a transaction."""
    agents = agents or AgentDirectory()
    with transaction.atomic():
        call = _locked_call(connection, parsed)
        created = call is None
        if created:
            call = Call(connection=connection)
        status_before = call.status if not created else None
        changed = merge(call, parsed, agents)
        if call.contact_id is None and phones.try_e164(call.customer_number):
            call.contact, _ = find_or_create_by_phone(call.customer_number, known=contacts)
            changed = True
        if created:
            # A concurrent delivery of the same call may store it first: the unique ids raise
            # IntegrityError, the drain keeps the event `received` and the retry finds the row.
            call.save(force_insert=True)
        elif changed:
            call.save()
        if call.recording_url and call.recording_status in (Call.Recording.NONE, Call.Recording.FAILED) and not call.recording:
            if call.recording_status == Call.Recording.NONE:
                Call.objects.filter(pk=call.pk).update(recording_status=Call.Recording.PENDING)
                call.recording_status = Call.Recording.PENDING
                from telephony.tasks import fetch_recording

                enqueue(fetch_recording, call.pk)
        if follow_ups and call.is_missed_inbound and call.follow_up_id is None:
            followups.open_for(call)
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


def _create_contacts(numbers: list[str], known: dict) -> None:
    """A contact per new number, in bulk (a backfill meets thousands of new callers). A number another
    process stored meanwhile keeps its contact; ours for it is removed."""
    if not numbers:
        return
    from contacts.models import ContactPhone

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


def record_page(connection: TelephonyConnection, rows: list[dict], *, follow_ups: bool) -> tuple[int, int]:
    """Apply one page of call records; returns (created, updated). One transaction, a few queries:
    the page's calls, contacts and agents are read up front, new calls inserted in bulk."""
    parsed = [smartflo.call_event(row) for row in rows]
    parsed = [p for p in parsed if p.key]
    if not parsed:
        return 0, 0
    agents = AgentDirectory()
    created = updated = 0
    with transaction.atomic():
        call_ids = {p.call_id for p in parsed if p.call_id}
        uuids = {p.uuid for p in parsed if p.uuid}
        identifiers = {p.custom_identifier for p in parsed if p.custom_identifier}
        existing = list(
            Call.objects.select_for_update()
            .filter(Q(provider_call_id__in=call_ids) | Q(provider_uuid__in=uuids) | Q(custom_identifier__in=identifiers),
                    connection=connection)
            .order_by("pk")
        )
        by_id = {c.provider_call_id: c for c in existing if c.provider_call_id}
        by_uuid = {c.provider_uuid: c for c in existing if c.provider_uuid}
        by_identifier = {c.custom_identifier: c for c in existing if c.custom_identifier}
        numbers = {p.customer_number for p in parsed if p.customer_number.startswith("+")}
        contacts: dict[str, Contact | None] = dict.fromkeys(numbers)
        from contacts.models import ContactPhone

        contacts.update(
            (phone.number, phone.contact) for phone in ContactPhone.objects.filter(number__in=numbers).select_related("contact")
        )
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
        _create_contacts([n for n, c in contacts.items() if c is None and phones.try_e164(n)], contacts)
        for call in list(fresh.values()) + list(dirty.values()):
            if call.contact_id is None and call.customer_number in contacts and contacts[call.customer_number] is not None:
                call.contact = contacts[call.customer_number]
        with_recording = [c for c in [*fresh.values(), *dirty.values()] if c.recording_url and c.recording_status == Call.Recording.NONE]
        for call in with_recording:
            call.recording_status = Call.Recording.PENDING
        Call.objects.bulk_create(list(fresh.values()))
        if dirty:
            Call.objects.bulk_update(
                list(dirty.values()),
                ["provider_call_id", "provider_uuid", "status", "agent", "contact", "raw", "recording_status", *MERGED_FIELDS],
            )
        created, updated = len(fresh), len(dirty)
        if with_recording:
            from telephony import recordings

            recordings.queue_sweep()
        if follow_ups:
            for call in fresh.values():
                if call.is_missed_inbound and call.pk:
                    followups.open_for(call)
    return created, updated
