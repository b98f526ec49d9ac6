"""Who to ask: names for the places where a person cannot do something themselves."""

from django import template

from accounts.models import Role, User

register = template.Library()


@register.simple_tag
def admins_to_ask() -> str:
    """The active admins by name ("Asha Rao or Dev Patel"), for what only admins may do."""
    names = [str(user) for user in User.objects.filter(role=Role.ADMIN, is_active=True)]
    if not names:
        return "an admin"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
