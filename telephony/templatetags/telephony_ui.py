from django import template

from telephony.models import Call

register = template.Library()


@register.simple_tag
def latest_missed_call(conversation):
    """The newest missed call a voice conversation holds (its follow-up messages point at the calls)."""
    return Call.objects.filter(follow_up__conversation=conversation).order_by("-started_at", "-id").first()


def _per_request(request, name, compute):
    """Read once per request (a calls page shows fifty buttons)."""
    key = f"_telephony_{name}"
    if not hasattr(request, key):
        setattr(request, key, compute())
    return getattr(request, key)


@register.inclusion_tag("telephony/_call_button.html", takes_context=True)
def call_button(context, target, label="Call"):
    """Click-to-call for a contact (any of its numbers) or a number. Not shown at all when no Tata
    Smartflo account is connected; a user without a phone line is told whom to ask."""
    from core import phones
    from telephony import live
    from telephony.models import AgentLine

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not target:
        return {"show": False}
    connection = _per_request(request, "connection", live.calling_connection)
    if connection is None:
        return {"show": False}
    if isinstance(target, str):
        numbers = [target] if phones.try_e164(target) else []
    else:
        numbers = [p.number for p in target.phones.all()]
    if not numbers:
        return {"show": False}
    line = _per_request(request, "line", lambda: AgentLine.objects.filter(user=user).first())
    has_line = line is not None and bool(line.agent_id or line.extension or line.mobile or user.phone)
    return {
        "show": True, "numbers": [(n, phones.display(n)) for n in numbers], "caller_ids": connection.phone_numbers,
        "no_line": "" if has_line else live.no_line_message(), "label": label, "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
