from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from accounts import api_keys as keys
from accounts.forms import ApiKeyForm


def home(request):
    """The inbox is home once it exists; until then, contacts."""
    for name in ("inbox:index", "contacts:list"):
        try:
            return redirect(reverse(name))
        except NoReverseMatch:
            continue
    return redirect("contacts:list")


def api_keys(request):
    """The user's own API keys: make one (shown once, on this answer only), see when each was last used."""
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        _, new_key = keys.create(request.user, name=form.cleaned_data["name"])
        form = ApiKeyForm()
    response = render(request, "accounts/api_keys.html", {"form": form, "keys": keys.keys_of(request.user), "new_key": new_key})
    response["Cache-Control"] = "no-store"  # the page may carry a key
    return response


@require_POST
def revoke_api_key(request, pk):
    key = get_object_or_404(keys.keys_of(request.user), pk=pk)
    keys.revoke(key, by=request.user)
    messages.success(request, f"“{key.name}” revoked: requests with it are refused from now on.")
    return redirect("accounts:api_keys")
