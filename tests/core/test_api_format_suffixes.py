"""The API has no format-suffix routes (issue #11, finding 19): `/api/contacts/<pk>/notes.json` was a
500 for everyone (custom actions take no `format` argument). Every suffix now 404s cleanly."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def test_no_api_route_takes_a_format_suffix():
    routes = [route for route in _patterns(get_resolver()) if route.startswith("api/")]
    assert routes
    assert not [route for route in routes if "format" in route]


@pytest.mark.parametrize(
    "path", ["/api/contacts/{pk}/notes.json", "/api/contacts/{pk}/notes.api", "/api/contacts/{pk}.json", "/api/contacts.json", "/api/labels.json"]
)
def test_a_format_suffix_answers_404_not_500(api, admin_user, agent, path):
    contact = ContactFactory(owner=agent)
    for user in (admin_user, agent):
        response = api(user).get(path.format(pk=contact.pk))
        assert response.status_code == 404
