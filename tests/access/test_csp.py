"""Finding 3 (pages): every page carries a Content-Security-Policy that runs no inline script except
the request's nonce, and no template relies on inline script or event handlers."""

import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse



def _policy(response) -> dict:
    return {part.split()[0]: part.split()[1:] for part in response["Content-Security-Policy"].split("; ")}


def test_pages_carry_a_policy_without_unsafe_inline_script(client, logged_in, agent):
    for response in (client.get("/accounts/login/"), logged_in(agent).get("/inbox/"), logged_in(agent).get("/contacts/")):
        policy = _policy(response)
        assert policy["script-src"][0] == "'self'" and policy["script-src"][1].startswith("'nonce-")
        assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        # The composer previews a chosen photo from a blob: URL; blob: is allowed for images and nothing else.
        assert "blob:" in policy["img-src"] and "blob:" not in policy["script-src"] and "blob:" not in policy.get("default-src", [])


def test_each_request_has_its_own_nonce_and_inline_scripts_carry_it(logged_in, supervisor):
    client = logged_in(supervisor)
    first, second = client.get("/contacts/"), client.get("/contacts/")
    assert _policy(first)["script-src"][1] != _policy(second)["script-src"][1]
    response = client.get(reverse("campaigns:create"))  # a page with an inline script
    nonce = _policy(response)["script-src"][1][len("'nonce-"):-1]
    assert f'<script nonce="{nonce}">' in response.content.decode()


def test_templates_use_no_inline_handlers_or_unnonced_scripts():
    offenders = []
    for template in Path(settings.BASE_DIR).glob("*/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        text = template.read_text()
        offenders += [f"{template}: {m.group(0)}" for m in re.finditer(r"\son[a-z]+\s*=", text)]
        offenders += [f"{template}: {m.group(0)}" for m in re.finditer(r"<script(?![^>]*\b(src|nonce)=)[^>]*>", text)]
        offenders += [f"{template}: {m.group(0)}" for m in re.finditer(r"(href|src)\s*=\s*[\"']?\s*javascript:", text, re.I)]
    assert offenders == [], "use static/js/app.js data attributes or a nonce: " + "; ".join(offenders)
