"""Demo: a Smartflo account served by the sandbox, so `make run` shows calls landing: ring a sandbox
number at /sandbox/calls/, answer as an agent or let it go missed, and import previous calls."""

import secrets

from django.conf import settings

from accounts.models import Role, Team, User
from telephony.models import AgentLine, TelephonyConnection

SANDBOX_NAME = "Sandbox Smartflo"


def seed(rng=None, stdout=None, **_):
    if not settings.SANDBOX_ENABLED:
        return
    from sandbox.smartflo import SANDBOX_DIDS, SMARTFLO_PATH

    base = settings.PUBLIC_BASE_URL + SMARTFLO_PATH
    connection = TelephonyConnection.objects.filter(name=SANDBOX_NAME, provider="tata_smartflo").first()
    if connection is None:
        connection = TelephonyConnection.objects.create(
            provider="tata_smartflo", name=SANDBOX_NAME, base_url=base, auth_token=secrets.token_urlsafe(24),
            phone_numbers=list(SANDBOX_DIDS), team=Team.objects.filter(name="Support").first(),
            is_default=not TelephonyConnection.objects.filter(is_default=True).exists(),
        )
        if stdout is not None:
            stdout.write("  sandbox Smartflo account: ring it at /sandbox/calls/ once the app runs\n")
    elif connection.base_url != base:  # PUBLIC_BASE_URL changed since the last seed
        connection.base_url = base
        connection.save(update_fields=["base_url"])
    # Supervisors and admins get their own agent ids, so they can monitor, whisper and barge from the
    # live calls page (agents get theirs from the dialplan demo).
    for index, user in enumerate(User.objects.filter(role__in=[Role.SUPERVISOR, Role.ADMIN]).order_by("pk")):
        AgentLine.objects.get_or_create(user=user, defaults={"agent_id": f"0509{index + 1:04d}"})
