"""How telephony plugs into contacts (registered from TelephonyConfig.ready)."""

from django.db.models import Q

from contacts.timeline import Entry
from telephony.models import Call
from telephony.selectors import visible_calls


def calls_source(contact, viewer, limit: int) -> list[Entry]:
    """Timeline source: the contact's calls the viewer may see (the calls page's rule,
    telephony.selectors.call_visibility)."""
    calls = (
        visible_calls(viewer).filter(contact=contact)
        .select_related("agent", "connection")
        .prefetch_related("notes__author")
        .order_by("-started_at", "-id")[:limit]
    )
    return [Entry(call.at, "call", call) for call in calls]


def contacts_of_own_calls(user) -> Q:
    """Visibility grant: an agent may open the contact of any call they took."""
    return Q(pk__in=Call.objects.filter(agent=user).values("contact_id"))
