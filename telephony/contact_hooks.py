"""How telephony plugs into contacts (registered from TelephonyConfig.ready)."""

from django.db.models import Q

from contacts.timeline import Entry
from telephony.models import Call


def calls_source(contact, limit: int) -> list[Entry]:
    """Timeline source: the contact's calls. Whoever may see the contact sees its calls (the calls
    page applies the same rule: telephony.selectors.call_visibility)."""
    calls = (
        Call.objects.filter(contact=contact)
        .select_related("agent", "connection")
        .prefetch_related("notes__author")
        .order_by("-started_at", "-id")[:limit]
    )
    return [Entry(call.at, "call", call) for call in calls]


def contacts_of_own_calls(user) -> Q:
    """Visibility grant: an agent may open the contact of any call they took."""
    return Q(pk__in=Call.objects.filter(agent=user).values("contact_id"))
