from django import template

from telephony.models import Call

register = template.Library()


@register.simple_tag
def latest_missed_call(conversation):
    """The newest missed call a voice conversation holds (its follow-up messages point at the calls)."""
    return Call.objects.filter(follow_up__conversation=conversation).order_by("-started_at", "-id").first()
