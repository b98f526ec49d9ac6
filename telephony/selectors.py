"""Reading calls, with who-may-see-what applied; the calls page's filters, counts and chart."""

import datetime
import re
from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import User
from contacts.selectors import visible_contacts
from core import phones
from telephony.models import Call

_DIGITS = re.compile(r"\D")


def call_visibility(user: User) -> Q:
    """Admins and supervisors: every call. An agent: the calls they took, and the calls of every
    contact they may see (the contact's timeline shows those anyway)."""
    if user.sees_everything:
        return Q()
    return Q(agent=user) | Q(contact__in=visible_contacts(user).values("pk"))


def visible_calls(user: User) -> QuerySet[Call]:
    return Call.objects.filter(call_visibility(user))


def can_see_call(user: User, call: Call) -> bool:
    return visible_calls(user).filter(pk=call.pk).exists()


@dataclass
class CallFilters:
    direction: str = ""
    status: str = ""
    agent: int | None = None
    number: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def filtered_calls(user: User, filters: CallFilters) -> QuerySet[Call]:
    calls = visible_calls(user)
    if filters.direction in Call.Direction.values:
        calls = calls.filter(direction=filters.direction)
    if filters.status in Call.Status.values:
        calls = calls.filter(status=filters.status)
    if filters.agent:
        calls = calls.filter(agent_id=filters.agent)
    if filters.number:
        digits = phones.search_digits(filters.number)
        if digits:
            calls = calls.filter(Q(customer_number__contains=digits) | Q(did_number__contains=digits))
    tz = timezone.get_current_timezone()
    if filters.date_from:
        calls = calls.filter(started_at__gte=datetime.datetime.combine(filters.date_from, datetime.time.min, tzinfo=tz))
    if filters.date_to:
        calls = calls.filter(started_at__lt=datetime.datetime.combine(filters.date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz))
    return calls.select_related("agent", "contact", "connection").order_by("-started_at", "-id")


def agent_counts(calls: QuerySet[Call]) -> list[dict]:
    """Per agent: answered, missed (their inbound calls nobody took are under "No agent"), average talk time."""
    rows = (
        calls.order_by().values("agent_id", "agent__first_name", "agent__last_name", "agent__username")
        .annotate(
            total=Count("id"),
            answered=Count("id", filter=Q(status=Call.Status.ANSWERED)),
            missed=Count("id", filter=Q(status__in=[Call.Status.MISSED, Call.Status.NO_ANSWER])),
            average_talk=Avg("talk_time", filter=Q(status=Call.Status.ANSWERED)),
        )
        .order_by("-total")
    )
    result = []
    for row in rows:
        name = " ".join(p for p in (row["agent__first_name"], row["agent__last_name"]) if p) or row["agent__username"] or "No agent"
        result.append({**row, "name": name, "average_talk": round(row["average_talk"] or 0)})
    return result


def per_day(calls: QuerySet[Call], days: int = 30, today: datetime.date | None = None) -> list[dict]:
    """Answered and missed calls per day (in the viewer's zone) over the last `days` days, oldest first."""
    today = today or timezone.localdate()
    start = today - datetime.timedelta(days=days - 1)
    tz = timezone.get_current_timezone()
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    counted = (
        calls.filter(started_at__gte=since).order_by()
        .annotate(day=TruncDate("started_at", tzinfo=tz)).values("day")
        .annotate(
            answered=Count("id", filter=Q(status=Call.Status.ANSWERED)),
            missed=Count("id", filter=~Q(status=Call.Status.ANSWERED)),
        )
    )
    by_day = {row["day"]: row for row in counted}
    return [
        {"day": day, "answered": by_day.get(day, {}).get("answered", 0), "missed": by_day.get(day, {}).get("missed", 0)}
        for day in (start + datetime.timedelta(days=n) for n in range(days))
    ]
