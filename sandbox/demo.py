"""Demo data for `make run`: a WhatsApp and an RCS number served by the sandbox, so the whole loop
(customer writes → webhook → inbox → reply → sandbox → status callbacks) works on a fresh machine."""

import secrets
import uuid

from django.conf import settings
from django.utils import timezone

from accounts.models import Team
from inbox.models import Channel, Template
from sandbox.models import SandboxTemplate
from sandbox.omni import SANDBOX_PATH

SANDBOX_CHANNELS = [
    (Channel.Kind.WHATSAPP, "Sandbox WhatsApp", "+919876500001", "Sales"),
    (Channel.Kind.RCS, "Sandbox RCS", "+919876500002", "Support"),
]


def seed(rng=None, stdout=None, contacts=None):
    if not settings.SANDBOX_ENABLED:
        return
    base = settings.PUBLIC_BASE_URL + SANDBOX_PATH
    for kind, name, number, team_name in SANDBOX_CHANNELS:
        channel, created = Channel.objects.get_or_create(
            kind=kind,
            phone_number=number,
            defaults={
                "name": name,
                "api_base_url": base,
                "access_token": secrets.token_urlsafe(24),
                "partner_token": secrets.token_urlsafe(24),
                "team": Team.objects.filter(name=team_name).first(),
            },
        )
        if channel.api_base_url != base:  # PUBLIC_BASE_URL changed since the last seed
            channel.api_base_url = base
            channel.save(update_fields=["api_base_url"])
        if stdout is not None and created:
            stdout.write(f"  sandbox channel {channel.name}: play the customer at /sandbox/ once the app runs\n")
        if kind == Channel.Kind.WHATSAPP:
            seed_templates(channel)
    _seed_smartflo_history(rng)


# Approved templates on the sandbox's WhatsApp number, in Meta's shapes: plain text, a media header,
# buttons. Most demo conversations are past the 24-hour window, where only a template may be sent.
DEMO_TEMPLATES = [
    ("order_update", "UTILITY", [
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way. We will let you know when it is delivered.",
         "example": {"body_text": [["Meera", "A-4521"]]}},
    ]),
    ("follow_up", "UTILITY", [
        {"type": "BODY", "text": "Hi {{1}}, we are following up on your message to us. Would you like to continue the conversation?",
         "example": {"body_text": [["Meera"]]}},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Yes, please"}, {"type": "QUICK_REPLY", "text": "No, thanks"}]},
    ]),
    ("festive_offer", "MARKETING", [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1hZ2UvanBlZw==:demo"]}},
        {"type": "BODY", "text": "Hi {{1}}, enjoy {{2}} off on everything this festive season.", "example": {"body_text": [["Meera", "20%"]]}},
        {"type": "FOOTER", "text": "Reply STOP to opt out"},
        {"type": "BUTTONS", "buttons": [
            {"type": "URL", "text": "Shop now", "url": "https://shop.example.in/offers/{{1}}", "example": ["festive"]},
            {"type": "QUICK_REPLY", "text": "Not interested"},
        ]},
    ]),
]


def seed_templates(channel: Channel) -> None:
    """The sandbox knows them (so a sync from it keeps them) and Sampark has them as synced."""
    now = timezone.now()
    for name, category, components in DEMO_TEMPLATES:
        remote, _ = SandboxTemplate.objects.get_or_create(
            channel=channel, name=name, language="en",
            defaults={"template_id": str(uuid.uuid4()), "category": category, "status": "APPROVED", "components": components},
        )
        Template.objects.get_or_create(
            channel=channel, name=name, language="en",
            defaults={"category": category, "status": remote.status, "components": remote.components,
                      "provider_template_id": remote.template_id, "synced_at": now},
        )


def _seed_smartflo_history(rng):
    """Past calls the sandbox Smartflo lists in its call records (found by "Import previous calls")."""
    import random

    from sandbox.smartflo import sandbox_connections, seed_history

    for connection in sandbox_connections():
        seed_history(connection, count=120, days=20, rng=rng or random.Random(7))
