"""What a user may see and do. Role rules live here, and only here."""

from django.conf import settings
from django.db.models import QuerySet

from accounts.models import Role, User

STAFF_GROUP = "staff"  # admins and supervisors: hear everything
AGENTS_GROUP = "agents"  # every signed-in user: hears work nobody owns yet (no team, no assignee)


# Both are read several times while one request is answered (visibility of the conversation, of its
# contact, whom it may be assigned to), so they are kept on the user object, as Django's ModelBackend
# keeps permissions (`_perm_cache`). A request loads its user afresh; so does a Celery task.


def teammate_ids(user: User) -> frozenset[int]:
    """The user and everyone who shares a team with them."""
    if not hasattr(user, "_teammate_ids"):
        user._teammate_ids = frozenset(User.objects.filter(teams__members=user).values_list("pk", flat=True)) | {user.pk}
    return user._teammate_ids


def team_ids(user: User) -> tuple[int, ...]:
    if not hasattr(user, "_team_ids"):
        user._team_ids = tuple(user.teams.values_list("pk", flat=True))
    return user._team_ids


def assignable_users(user: User) -> QuerySet[User]:
    """Who `user` may assign work (contacts, conversations) to."""
    users = User.objects.filter(is_active=True)
    if user.sees_everything:
        return users
    return users.filter(pk__in=teammate_ids(user))


def can_access_admin(user: User) -> bool:
    return user.is_active and user.is_admin_role


def can_manage_contacts_in_bulk(user: User) -> bool:
    """Import, export and merge touch many records at once: supervisors and admins only."""
    return user.is_active and user.sees_everything


def can_delete_contacts(user: User) -> bool:
    return user.is_active and user.is_admin_role


def can_define_custom_fields(user: User) -> bool:
    return user.is_active and user.is_admin_role


def can_play_customer(user: User) -> bool:
    """The sandbox ("Play the customer") writes as any customer to any number: admins only, and only
    where the sandbox is switched on."""
    return settings.SANDBOX_ENABLED and user.is_active and user.is_admin_role


def realtime_groups(user: User) -> list[str]:
    """The Channels groups a user's browser joins; publish() targets the same names."""
    groups = [user_group(user.pk), AGENTS_GROUP]
    groups += [team_group(pk) for pk in team_ids(user)]
    if user.sees_everything:
        groups.append(STAFF_GROUP)
    return groups


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


def role_label(user: User) -> str:
    return Role(user.role).label
