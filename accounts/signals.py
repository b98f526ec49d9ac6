"""Whoever's teams, role or account change has their open sockets' groups worked out again."""

from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.dispatch import receiver

from accounts.models import Team, User
from core import events


@receiver(m2m_changed, sender=Team.members.through)
def team_members_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action == "pre_clear":
        if not reverse:  # who was there, before they are gone
            instance._cleared_user_ids = set(instance.members.values_list("pk", flat=True))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if reverse:  # user.teams.add(...): the instance is the user
        users = {instance.pk}
    else:
        users = set(pk_set or ()) if action != "post_clear" else getattr(instance, "_cleared_user_ids", set())
    events.membership_changed(users)


@receiver(pre_delete, sender=Team)
def team_deleted(sender, instance, **kwargs):
    events.membership_changed(instance.members.values_list("pk", flat=True))


@receiver(post_save, sender=User)
def user_saved(sender, instance, created, update_fields=None, **kwargs):
    if created or (update_fields is not None and set(update_fields) <= {"last_login", "password"}):
        return  # a sign-in touches last_login: nothing a socket hears depends on it
    events.membership_changed([instance.pk])
