"""Smartflo's requests to /dialplan/<token>/ skip the middleware that serves people.

Sessions, authentication, messages, CSRF (the view is exempt), htmx, the login redirect, the user's
time zone, whitenoise and the page policies do nothing for a machine posting call variables, yet
cost more than answering it (~150 µs of the ~200 µs Django spends around a bare JSON view). Placed
right after SecurityMiddleware (HTTPS redirect and its headers still apply), this answers the dialplan
URL itself and passes every other request on. The host is checked against ALLOWED_HOSTS as
CommonMiddleware would; the request_started/finished signals (connection upkeep) still run.
"""

from django.urls import Resolver404, get_resolver, reverse

from dialplan import views


class AnswerDialplanFirst:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = reverse("dialplan:answer", kwargs={"token": "t"})[: -len("t/")]  # "/dialplan/"
        self.resolver = get_resolver("dialplan.urls")  # the app's own routes, not a walk past every app's

    def __call__(self, request):
        path = request.path_info
        if path.startswith(self.prefix):
            try:
                match = self.resolver.resolve(path[len(self.prefix) - 1:])  # a root resolver takes "/…"
            except Resolver404:
                match = None
            if match is not None and match.func is views.answer:
                request.get_host()  # DisallowedHost → 400, as CommonMiddleware does for every other URL
                request.resolver_match = match
                return views.answer(request, *match.args, **match.kwargs)
        return self.get_response(request)
