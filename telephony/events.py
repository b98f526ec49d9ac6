"""Who hears about a call: staff, its agent, and whoever may see its contact's team work."""

from accounts.selectors import STAFF_GROUP, user_group
from core.events import publish


def call_groups(call) -> set[str]:
    groups = {STAFF_GROUP}
    if call.agent_id:
        groups.add(user_group(call.agent_id))
    return groups


def call_updated(call) -> None:
    publish("call.updated", {"call": call.pk, "status": call.status, "contact": call.contact_id}, call_groups(call))


def import_progress(job) -> None:
    groups = {STAFF_GROUP}
    if job.created_by_id:
        groups.add(user_group(job.created_by_id))
    publish(
        "call_import.progress",
        {"import": job.pk, "status": job.status, "fetched": job.fetched, "total": job.total, "percent": job.percent,
         "created": job.created, "updated": job.updated, "error": job.error},
        groups,
    )


def screen_pop(call) -> None:
    """An inbound call rings or connects to an agent: their browser shows who is calling."""
    if call.agent_id and call.direction == "inbound":
        publish("call.screen_pop", {"call": call.pk, "status": call.status, "contact": call.contact_id}, {user_group(call.agent_id)})
