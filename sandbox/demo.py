"""Demo data for `make run`: a WhatsApp and an RCS number served by the sandbox, so the whole loop
(customer writes → webhook → inbox → reply → sandbox → status callbacks) works on a fresh machine."""

import secrets

from django.conf import settings

from accounts.models import Team
from inbox.models import Channel
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
