"""Opt-in / opt-out per contact and business number, synced to Tata's /business/optin_optout.

Our record takes effect at once (an opted-out contact cannot be messaged from the moment an agent
says so); Tata is told after commit by `inbox.sync_opt_status`, and a failed sync stays visible with
its reason until it is retried.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from contacts.models import Contact, ContactPhone
from core.errors import ApplicationError
from core.tasks import enqueue
from inbox.models import Channel, OptStatus
from inbox.providers import tata_whatsapp as tata

SYNC_BATCH = 500
MAX_AUTO_OPTIN_DAYS = 365


def set_opt(
    contacts, channel: Channel, *, opt_in: bool, by: User | None, auto_optin_days: int | None = None, reason: str = ""
) -> int:
    """Opt the contacts in or out on this number; returns how many rows changed. Contacts without a
    phone cannot be opted out at Tata and are skipped."""
    if auto_optin_days is not None and not (1 <= auto_optin_days <= MAX_AUTO_OPTIN_DAYS):
        raise ApplicationError(f"Automatic opt-in is after 1 to {MAX_AUTO_OPTIN_DAYS} days.")
    if opt_in:
        auto_optin_days = None
    now = timezone.now()
    auto_at = now + datetime.timedelta(days=auto_optin_days) if auto_optin_days else None
    contact_ids = list(
        ContactPhone.objects.filter(contact__in=contacts).values_list("contact_id", flat=True).distinct()
    )
    with transaction.atomic():
        existing = {o.contact_id: o for o in OptStatus.objects.select_for_update().filter(channel=channel, contact_id__in=contact_ids)}
        changed, new = [], []
        for contact_id in contact_ids:
            row = existing.get(contact_id)
            if row is None:
                row = OptStatus(contact_id=contact_id, channel=channel)
                new.append(row)
            else:
                changed.append(row)
            row.opted_out = not opt_in
            row.auto_optin_at = auto_at
            row.reason = reason[:200]
            row.changed_by = by
            row.changed_at = now
            row.synced_at = None
            row.sync_error = ""
        OptStatus.objects.bulk_create(new, batch_size=1000)
        OptStatus.objects.bulk_update(changed, ["opted_out", "auto_optin_at", "reason", "changed_by", "changed_at", "synced_at", "sync_error"], batch_size=1000)
        enqueue("inbox.sync_opt_status", channel.pk, opt_in, auto_optin_days, contact_ids)
    return len(contact_ids)


def set_contact_opt(contact: Contact, channel: Channel, *, opt_in: bool, by: User | None, auto_optin_days: int | None = None, reason: str = "") -> OptStatus:
    if not contact.phones.exists():
        raise ApplicationError(f"{contact} has no phone number to opt in or out.")
    set_opt(Contact.objects.filter(pk=contact.pk), channel, opt_in=opt_in, by=by, auto_optin_days=auto_optin_days, reason=reason)
    return OptStatus.objects.get(contact=contact, channel=channel)


def sync(channel_id: int, opt_in: bool, auto_optin_days: int | None, contact_ids: list[int]) -> tuple[int, str]:
    """Tell Tata, in batches. Only rows still in the state we are sending are marked synced (an agent
    may have flipped one back meanwhile; that change has its own sync queued)."""
    channel = Channel.objects.get(pk=channel_id)
    synced, error = 0, ""
    for start in range(0, len(contact_ids), SYNC_BATCH):
        batch = contact_ids[start : start + SYNC_BATCH]
        numbers = list(ContactPhone.objects.filter(contact_id__in=batch).values_list("number", flat=True))
        rows = OptStatus.objects.filter(channel=channel, contact_id__in=batch, opted_out=not opt_in)
        try:
            tata.set_opt_status(channel.api_base_url, channel.authorization, numbers, opt_in=opt_in, auto_optin_in_days=auto_optin_days)
        except tata.TataError as exc:
            error = exc.message
            rows.update(sync_error=f"Tata did not confirm: {exc.message}")
            continue
        synced += rows.update(synced_at=timezone.now(), sync_error="")
    return synced, error


def resync(channel: Channel, *, by: User | None) -> int:
    """Send again every state Tata has not confirmed on this number."""
    pending = OptStatus.objects.filter(channel=channel, synced_at__isnull=True)
    count = 0
    for opted_out in (True, False):
        rows = list(pending.filter(opted_out=opted_out))
        if not rows:
            continue
        days = None
        if opted_out and rows[0].auto_optin_at:
            days = max(1, (rows[0].auto_optin_at - rows[0].changed_at).days)
        enqueue("inbox.sync_opt_status", channel.pk, not opted_out, days, [r.contact_id for r in rows])
        count += len(rows)
    return count


def opted_out_contact_ids(channel: Channel, now=None) -> set[int]:
    from django.db.models import Q

    now = now or timezone.now()
    return set(
        OptStatus.objects.filter(channel=channel, opted_out=True)
        .filter(Q(auto_optin_at__isnull=True) | Q(auto_optin_at__gt=now))
        .values_list("contact_id", flat=True)
    )


def merge_opt_statuses(keep: Contact, duplicate: Contact) -> None:
    """Contact merge hook: one row per number survives; an opt-out on either contact wins."""
    for row in OptStatus.objects.filter(contact=duplicate):
        kept = OptStatus.objects.filter(contact=keep, channel_id=row.channel_id).first()
        if kept is None:
            continue  # repointed by the merge
        if row.opted_out and not kept.opted_out:
            kept.opted_out, kept.auto_optin_at, kept.reason, kept.changed_at = True, row.auto_optin_at, row.reason, row.changed_at
            kept.save()
        row.delete()
