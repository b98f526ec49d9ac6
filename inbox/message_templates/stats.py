"""Template insights: sent / delivered / read per day, after Tata's one-time insights opt-in."""

import dataclasses
import datetime

from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError
from inbox.models import Channel, Template, TemplateInsightsOptIn
from inbox.providers import tata_whatsapp as tata


def insights_enabled(channel: Channel) -> bool:
    return TemplateInsightsOptIn.objects.filter(channel=channel).exists()


def enable_insights(channel: Channel, *, by: User | None) -> TemplateInsightsOptIn:
    """Tata's one-time opt-in for template insights, remembered so it is asked once."""
    existing = TemplateInsightsOptIn.objects.filter(channel=channel).first()
    if existing:
        return existing
    try:
        tata.enable_template_insights(channel.api_base_url, channel.authorization)
    except tata.TataError as exc:
        raise ApplicationError(f"Tata did not switch insights on: {exc.message}", code="provider_error") from exc
    optin, _ = TemplateInsightsOptIn.objects.get_or_create(channel=channel, defaults={"enabled_at": timezone.now(), "enabled_by": by})
    return optin


@dataclasses.dataclass
class Day:
    date: datetime.date
    sent: int = 0
    delivered: int = 0
    read: int = 0


def template_insights(template: Template, *, days: int = 30, today: datetime.date | None = None) -> list[Day]:
    """Sent / delivered / read per day for the last `days` days (days without data count zero)."""
    channel = template.channel
    if not insights_enabled(channel):
        raise ApplicationError("Template insights are off for this number; switch them on first (once).", code="insights_off")
    today = today or timezone.localdate()
    start = today - datetime.timedelta(days=days - 1)
    try:
        if template.provider_template_id:
            points = tata.template_insights(channel.api_base_url, channel.authorization, [template.provider_template_id], start, today)
        else:
            points = tata.template_insights_by_name(channel.api_base_url, channel.authorization, template.name, template.language, start, today)
    except tata.TataError as exc:
        raise ApplicationError(f"Tata could not give insights: {exc.message}", code="provider_error") from exc
    by_day = {start + datetime.timedelta(days=i): Day(start + datetime.timedelta(days=i)) for i in range(days)}
    for point in points:
        if template.provider_template_id and str(point.get("template_id", "")) not in ("", template.provider_template_id):
            continue
        day = datetime.datetime.fromtimestamp(int(point.get("start", 0)), tz=datetime.UTC).date()
        if day in by_day:
            by_day[day].sent += int(point.get("sent") or 0)
            by_day[day].delivered += int(point.get("delivered") or 0)
            by_day[day].read += int(point.get("read") or 0)
    return list(by_day.values())
