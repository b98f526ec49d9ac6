"""Every route of the access matrix, called with hostile values in every parameter name the code reads
(issue #11: hostile input never gives a 5xx). A query string or form field that should name a row — an
id, a label, an owner — may hold NUL, a lone surrogate's bytes, bytes that are not UTF-8, a number no
column holds or plain text: each route must answer it (404, 400, a form error, an empty list), never fail.

The parameter names are read from the source (`request.GET.get("label")`, `source.get("owner")`…), so a
view that starts reading a new one is probed without touching this file; the routes are the matrix's.
"""

import pathlib
import re

import pytest

pytestmark = pytest.mark.django_db

from tests.access.test_access_matrix import ROUTES, _url, world  # noqa: F401 - the matrix's world fixture

ROOT = pathlib.Path(__file__).resolve().parents[2]
APPS = ("accounts", "campaigns", "contacts", "core", "dialplan", "imports", "inbox", "sandbox", "telephony")
READ = re.compile(r"""(?:GET|POST|query_params|data|source|params)(?:\.get|\.getlist)?\(?\[?["']([a-z_0-9]+)["']""")
# Percent-encoded as they arrive: NUL, a lone surrogate's UTF-8 bytes, not UTF-8, a bigint overflow,
# more digits than Python reads as an int, text where an id goes, an impossible date.
HOSTILE = ["%00", "a%00b", "%ED%A0%80", "%FF%FE", "9" * 30, "9" * 5000, "x%27+OR+1%3D1", "2000-13-45"]


def parameter_names() -> list[str]:
    names = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                names.update(READ.findall(path.read_text()))
    return sorted(names)


def test_the_parameter_names_are_found():
    names = parameter_names()
    assert {"q", "label", "owner", "edit", "pk", "channel", "since", "ids"} <= set(names), names


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_hostile_parameters_never_give_a_5xx(world, name):
    from django.test import Client

    row = ROUTES[name]
    url = _url(name.split("#")[0], {key: world.value(value) for key, value in row.args.items() if key != "query"})
    names = parameter_names()
    failures = []
    for role in ("admin", "other"):
        client = Client(raise_request_exception=False)
        client.force_login(world.users[role])
        for value in HOSTILE:
            query = "&".join(f"{key}={value}" for key in names)
            if row.method == "GET":
                response = client.get(f"{url}?{query}")
            else:
                response = client.generic(row.method, f"{url}?{query}", query, content_type="application/x-www-form-urlencoded")
            if response.status_code >= 500:
                failures.append((role, value[:12], response.status_code))
    assert not failures, f"{name}: {failures}"


def test_merging_with_a_duplicate_that_is_no_id_is_a_404(logged_in, supervisor):
    from django.urls import reverse

    from tests.factories import ContactFactory

    contact = ContactFactory()
    client = logged_in(supervisor)
    for other in ("abc", "9" * 30, "\x00"):
        assert client.post(reverse("contacts:merge", args=[contact.pk]), {"other": other}).status_code == 404


# JSON bodies: DRF's own parser recursed on deep nesting (a 500) and a non-object `custom_fields` tripped
# the service; strings with NUL or a lone surrogate and NaN must not reach PostgreSQL either.
HOSTILE_JSON = [b"[" * 5000, b'{"name": "a\\u0000b"}', b'{"name": "\\ud800"}', b'{"name": NaN}', b"\xff\xfe", b'{"name": 1e999}']
HOSTILE_VALUES = ["a\x00b", "\ud800", "9" * 30, 12, [], {}, None, "x" * 100_000]


def _api_writes(world):
    contact = world.contact.pk
    return [
        ("post", "/api/contacts/", ["name", "email", "phones", "owner", "labels", "custom_fields"]),
        ("patch", f"/api/contacts/{contact}/", ["name", "email", "phones", "owner", "labels", "custom_fields"]),
        ("post", f"/api/contacts/{contact}/merge/", ["duplicate"]),
        ("post", f"/api/contacts/{contact}/notes/", ["body"]),
        ("patch", f"/api/channels/{world.channel.pk}/", ["name", "phone_number", "team", "accept_unsigned_posts"]),
    ]


def test_hostile_json_bodies_and_values_on_the_api_are_4xx(world):
    import json

    from rest_framework.test import APIClient

    client = APIClient(raise_request_exception=False)
    client.force_login(world.users["admin"])
    failures = []
    for method, url, fields in _api_writes(world):
        bodies = HOSTILE_JSON + [json.dumps({"name": "ok", field: value}).encode() for field in fields for value in HOSTILE_VALUES]
        for body in bodies:
            status = getattr(client, method)(url, body, content_type="application/json").status_code
            if status >= 500:
                failures.append((method, url, body[:40], status))
    assert not failures, failures


@pytest.mark.parametrize("value", ['"NaN"', '"Infinity"', '"1e999999999"', "1e999", "[1]", '"-1e-999999"'])
def test_a_custom_number_that_is_no_finite_number_of_sane_size_is_a_400(api, admin_user, value):
    from contacts.models import CustomField
    from tests.factories import ContactFactory

    CustomField.objects.create(key="orders", label="Orders", field_type="number")
    contact = ContactFactory()
    response = api(admin_user).patch(f"/api/contacts/{contact.pk}/", f'{{"custom_fields": {{"orders": {value}}}}}', content_type="application/json")
    assert response.status_code == 400 and "Orders" in response.json()["custom_fields"][0]
