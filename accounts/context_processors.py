from django.urls import NoReverseMatch, reverse

from accounts.selectors import can_access_admin, can_manage_contacts_in_bulk, can_play_customer, role_label

# (label, url name, who sees it). An entry appears once its app provides the page.
NAVIGATION = [
    ("Inbox", "inbox:index", lambda user: True),
    ("Contacts", "contacts:list", lambda user: True),
    ("Calls", "telephony:calls", lambda user: True),
    ("Templates", "outbound:templates", lambda user: True),
    ("Campaigns", "campaigns:list", can_manage_contacts_in_bulk),
    ("Canned replies", "outbound:canned", lambda user: True),
    ("Dialplans", "admin:dialplan_dialplan_changelist", can_access_admin),
    ("Admin", "admin:index", can_access_admin),
    ("Play the customer", "sandbox:customer", can_play_customer),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = []
    for label, name, allowed in NAVIGATION:
        if not allowed(user):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url, "active": request.path.startswith(url) and url != "/"})
    return {"nav_items": items, "user_role": role_label(user)}
