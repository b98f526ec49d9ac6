from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse


def home(request):
    """The inbox is home once it exists; until then, contacts."""
    for name in ("inbox:index", "contacts:list"):
        try:
            return redirect(reverse(name))
        except NoReverseMatch:
            continue
    return redirect("contacts:list")
