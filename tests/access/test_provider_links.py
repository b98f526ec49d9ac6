"""Finding 18: a provider-supplied URL becomes a link only if it is http(s), wherever it is shown."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from core.links import http_url
from inbox.templatetags.bubbles import bubble
from tests.inbox.ui_helpers import conversation_for, message_in

HOSTILE = ["javascript:alert(document.cookie)", " JavaScript:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>",
           "vbscript:msgbox(1)", "//evil.example/x", "http:///nohost", "\x01https://x.example"]


@pytest.mark.parametrize("url", HOSTILE)
def test_only_http_urls_pass(url):
    assert http_url(url) == ""


def test_http_urls_pass_unchanged():
    assert http_url("https://fb.me/ad?x=1") == "https://fb.me/ad?x=1"
    assert http_url("HTTP://Example.in/") == "HTTP://Example.in/"
    assert http_url(None) == "" and http_url(["https://x"]) == ""


@pytest.mark.django_db
@pytest.mark.parametrize("url", HOSTILE[:4])
def test_a_javascript_referral_is_not_linked(url):
    conversation = conversation_for()
    message = message_in(conversation, "Hi", content={"type": "text", "text": {"body": "Hi"},
                                                      "referral": {"source_url": url, "headline": "Sale", "source_type": "ad"}})
    html = str(bubble(message))
    assert "Sale" in html and "<a " not in html.split('class="referral"')[1].split("</div>")[0]
    assert "javascript" not in html.lower()


@pytest.mark.django_db
def test_an_http_referral_is_linked():
    conversation = conversation_for()
    message = message_in(conversation, "Hi", content={"type": "text", "text": {"body": "Hi"},
                                                      "referral": {"source_url": "https://fb.me/ad1", "headline": "Sale"}})
    assert 'href="https://fb.me/ad1"' in str(bubble(message))


@pytest.mark.django_db
def test_a_shared_contact_card_with_a_javascript_url_is_not_linked():
    conversation = conversation_for()
    card = {"name": {"formatted_name": "Evil"}, "urls": [{"url": "javascript:alert(1)"}, {"url": "https://ok.example"}]}
    message = message_in(conversation, "Evil", type="contacts", content={"type": "contacts", "contacts": [card]})
    html = str(bubble(message))
    assert 'href="javascript' not in html and 'href="https://ok.example"' in html


# The general guard: in templates, a variable becomes an href/src only through a known-safe source
# (our own URLs) or the |http_url filter. A new provider field rendered as a link fails here.
OWN_URLS = re.compile(r"\.get_absolute_url$|\|http_url$|^item\.url$")  # item.url: the navigation, built by reverse()


def test_templates_link_variables_only_through_safe_sources():
    offenders = []
    for template in Path(settings.BASE_DIR).glob("*/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        for match in re.finditer(r'(?:href|src|action)="([^"]*)"', template.read_text()):
            value = match.group(1)
            for expression in re.findall(r"\{\{\s*([^}]+?)\s*\}\}", value):
                starts_with_variable = value.lstrip().startswith("{{")
                if starts_with_variable and not OWN_URLS.search(expression):
                    offenders.append(f"{template}: {match.group(0)}")
    assert offenders == [], "link a provider's URL through |http_url (core.links): " + "; ".join(offenders)
