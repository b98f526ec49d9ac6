"""The composer's state for a conversation: window, opt-out, templates — computed where it is shown."""

import dataclasses

from django import template

from inbox.message_templates import fill
from inbox.models import Channel
from inbox.outbound import rules
from inbox.providers import tata_rcs

register = template.Library()


@dataclasses.dataclass
class ComposerState:
    window: rules.WindowState
    opted_out: str  # the explanation, or ""
    templates: list
    free_form: bool
    whatsapp: bool  # WhatsApp-only controls (files, location, buttons, lists, templates, link preview)
    text_max: int


def composer_state_for(conversation) -> ComposerState:
    window = rules.window_state(conversation)
    status = rules.opt_out_of(conversation.contact_id, conversation.channel_id)
    whatsapp = conversation.channel.kind == Channel.Kind.WHATSAPP
    return ComposerState(
        window=window,
        opted_out=rules.opt_out_explanation(status) if status else "",
        templates=list(fill.sendable_templates(conversation.channel)) if whatsapp else [],
        free_form=window.open and not status,
        whatsapp=whatsapp,
        text_max=rules.TEXT_MAX if whatsapp else tata_rcs.MAX_TEXT,
    )


@register.simple_tag
def composer_state(conversation) -> ComposerState:
    return composer_state_for(conversation)


@register.inclusion_tag("inbox/outbound/_contact_actions.html", takes_context=True)
def contact_outbound_actions(context, contact):
    """Opt-in/out per number and "start a conversation" on the contact page."""
    from inbox.models import OptStatus

    channels = list(Channel.objects.filter(kind=Channel.Kind.WHATSAPP))
    statuses = {o.channel_id: o for o in OptStatus.objects.filter(contact=contact)}
    rows = [(c, statuses.get(c.pk), rules.opt_out_of(contact.pk, c.pk)) for c in channels]
    return {"contact": contact, "opt_rows": rows, "csrf_token": context.get("csrf_token")}
