"""Keep the view's cached rule sets honest: any change that can alter an answer bumps every
dialplan's revision, and the next request recompiles."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from accounts.models import User
from dialplan import services
from dialplan.models import Dialplan, Holiday, Recording, Region, RegionPrefix, Rule, Schedule, ScheduleWindow
from telephony.models import AgentLine

WATCHED = [Dialplan, Rule, Recording, Schedule, ScheduleWindow, Holiday, Region, RegionPrefix, AgentLine, User]


def _changed(sender, **kwargs):
    if kwargs.get("raw"):
        return
    if sender is User and kwargs.get("update_fields") and set(kwargs["update_fields"]) <= {"last_login"}:
        return
    services.bump_revisions()


def connect():
    for model in WATCHED:
        post_save.connect(_changed, sender=model, dispatch_uid=f"dialplan-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"dialplan-delete-{model.__name__}")
    for through in (Rule.caller_labels.through, Region.agents.through):
        m2m_changed.connect(_changed, sender=through, dispatch_uid=f"dialplan-m2m-{through.__name__}")
