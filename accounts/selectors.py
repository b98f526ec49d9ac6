"""What a user may see and do. Role rules live here, and only here."""

from django.db.models import QuerySet

from accounts.models import Role, User

STAFF_GROUP = "staff"  # admins and supervisors: hear everything
AGENTS_GROUP = "agents"  # every signed-in user: hears work nobody owns yet (no team, no assignee)


def teammate_ids(user: User) -> set[int]:
    """The user and everyone who shares a team with them."""
    ids = set(User.objects.filter(teams__members=user).values_list("pk", flat=True))
    ids.add(user.pk)
    return ids


def team_ids(user: User) -> list[int]:
    return list(user.teams.values_list("pk", flat=True))


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
