import zoneinfo

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.utils import timezone

# Paths reachable without a session: the login page, static files, the API (it has its own auth),
# and provider-facing URLs, which authenticate with a per-channel token and signature instead.
PUBLIC_PREFIXES = ("/accounts/login/", "/static/", "/api/", "/webhooks/", "/dialplan/", "/telephony/status/", "/telephony/voice/", "/sandbox/api/", "/healthz",
                   "/rcs-cards/",  # (rcs-rich) card media Tata's RCS platform fetches; the link's token is the secret
                   "/favicon.ico")


class LoginRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(PUBLIC_PREFIXES):
            if request.path.startswith("/admin/"):
                return self.get_response(request)  # Django admin has its own login page
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)


class UserTimezoneMiddleware:
    """Show times in the agent's own zone (default Asia/Kolkata); storage stays UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tz_name = getattr(request.user, "time_zone", None) or settings.TIME_ZONE
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz_name))
        except zoneinfo.ZoneInfoNotFoundError:
            timezone.deactivate()
        return self.get_response(request)
