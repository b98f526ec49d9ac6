"""The rich RCS builder's place in the composer (inbox/templates/inbox/_rcs_builder.html)."""

from django import template

from inbox.models import Channel
from inbox.rich import service

register = template.Library()


@register.simple_tag
def rcs_send_blocked(conversation) -> str:
    """Why an RCS conversation cannot send at all ("" when it can, and always "" off RCS): shown instead
    of a composer."""
    if conversation.channel.kind != Channel.Kind.RCS:
        return ""
    return service.can_send_rich(conversation)
