from accounts.models import User
from accounts.selectors import can_manage_contacts_in_bulk
from imports.models import ImportJob


def can_import_history(user: User) -> bool:
    """History imports write many conversations at once: supervisors and admins, like contact imports."""
    return can_manage_contacts_in_bulk(user)


def visible_jobs(user: User):
    """A job is seen by the person who started it, and by admins."""
    jobs = ImportJob.objects.select_related("channel", "contact", "created_by")
    if not can_import_history(user):
        return jobs.none()
    return jobs if user.is_admin_role else jobs.filter(created_by=user)
