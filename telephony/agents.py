"""Agents on the phone: each user's Smartflo agent id, extension and mobile (AgentLine).

Imported from Smartflo's users API with a review step: `propose` matches each Smartflo agent to a
user (email first, then phone, then name) and the admin confirms each match with `apply`; nothing is
written before that. A user edits their own line on their profile page (`save_own_line`)."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from core import phones
from core.errors import ApplicationError, NotAllowed
from telephony.models import AgentLine, TelephonyConnection
from telephony.providers import smartflo
from telephony.services import client_for


@dataclass
class Proposal:
    agent: smartflo.AgentUser
    user: User | None
    reason: str  # "email", "phone", "name", "" (no match)
    current: AgentLine | None  # the line that agent id already belongs to, if any


def propose(connection: TelephonyConnection, *, by) -> list[Proposal]:
    """Smartflo's agents, each with the user it most likely is. Reads only."""
    if not by.is_admin_role:
        raise NotAllowed("Only admins import agents.")
    agents = [a for a in client_for(connection).agents() if a.agent_id or a.extension or a.mobile]
    users = list(User.objects.filter(is_active=True).select_related("agent_line"))
    by_email = {u.email.strip().lower(): u for u in users if u.email}
    by_phone = {u.phone: u for u in users if u.phone}
    for user in users:
        line = getattr(user, "agent_line", None)
        if line is not None and line.mobile:
            by_phone.setdefault(line.mobile, user)
    by_name = {}
    for user in users:
        for name in {str(user).casefold(), user.username.casefold()}:
            by_name.setdefault(name, user)
    lines = {line.agent_id: line for line in AgentLine.objects.filter(agent_id__in=[a.agent_id for a in agents if a.agent_id])}
    proposals = []
    for agent in agents:
        user, reason = None, ""
        if agent.email and agent.email.lower() in by_email:
            user, reason = by_email[agent.email.lower()], "email"
        elif agent.mobile and agent.mobile in by_phone:
            user, reason = by_phone[agent.mobile], "phone"
        elif agent.name and agent.name.strip().casefold() in by_name:
            user, reason = by_name[agent.name.strip().casefold()], "name"
        proposals.append(Proposal(agent, user, reason, lines.get(agent.agent_id)))
    return proposals


def apply(rows: list[dict], *, by) -> int:
    """Save the matches the admin confirmed: rows of {user, agent_id, extension, mobile}. An agent id
    another user holds moves to the confirmed user. Returns how many lines were written."""
    if not by.is_admin_role:
        raise NotAllowed("Only admins import agents.")
    written = 0
    with transaction.atomic():
        for row in rows:
            user = User.objects.filter(pk=row["user"], is_active=True).first()
            if user is None:
                continue
            if row.get("agent_id"):
                AgentLine.objects.filter(agent_id=row["agent_id"]).exclude(user=user).update(agent_id="")
            line, _ = AgentLine.objects.get_or_create(user=user)
            line.agent_id, line.extension = row.get("agent_id", ""), row.get("extension", "")
            line.mobile = phones.try_e164(row.get("mobile", "")) or ""
            _validate(line)
            line.save()
            written += 1
    return written


def save_own_line(user: User, *, agent_id: str, extension: str, mobile: str) -> AgentLine:
    line = AgentLine.objects.filter(user=user).first() or AgentLine(user=user)
    line.agent_id, line.extension = agent_id.strip(), extension.strip()
    mobile = mobile.strip()
    line.mobile = phones.try_e164(mobile) or "" if mobile else ""
    if mobile and not line.mobile:
        raise ApplicationError(f"“{mobile}” is not a phone number.")
    if line.agent_id and AgentLine.objects.filter(agent_id=line.agent_id).exclude(user=user).exists():
        raise ApplicationError("Another user already has this Smartflo agent id; ask an admin.")
    _validate(line)
    line.save()
    return line


def _validate(line: AgentLine) -> None:
    try:
        line.full_clean(exclude=["user"])
    except ValidationError as exc:
        raise ApplicationError(" ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())) from exc


def line_of(user: User) -> AgentLine | None:
    return AgentLine.objects.filter(user=user).select_related("user").first()
