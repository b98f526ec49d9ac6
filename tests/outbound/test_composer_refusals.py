"""Every refusal of the composer comes back as a 422 with its reason, never as a 5xx: for htmx only the
reason, retargeted into the composer's error slot (what the agent typed and attached stays put)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inbox.models import Channel, Conversation, Message

HTMX = {"HTTP_HX_REQUEST": "true"}


def send(client, conversation, data, **extra):
    return client.post(reverse("outbound:send", args=[conversation.pk]), data, **extra)


def assert_refused(answer, reason):
    assert answer.status_code == 422, answer.content
    assert answer["HX-Retarget"] == "#composer-error" and answer["HX-Reswap"] == "outerHTML"
    html = answer.content.decode()
    assert 'id="composer-error"' in html and reason in html
    assert 'id="composer-form"' not in html  # only the reason: the agent's form is not replaced


def test_empty_message_says_so(logged_in, agent, conversation):
    assert_refused(send(logged_in(agent), conversation, {"kind": "text", "body": "  "}, **HTMX), "Write a message first.")


def test_too_large_file_says_the_limit(logged_in, agent, conversation):
    big = SimpleUploadedFile("huge.png", b"x" * (5 * 1024 * 1024 + 10), content_type="image/png")
    answer = send(logged_in(agent), conversation, {"kind": "text", "body": "see", "file": big}, **HTMX)
    assert_refused(answer, "WhatsApp images can be at most 5 MB")
    assert not Message.objects.filter(direction="out").exists()


@pytest.mark.parametrize("choice", ["", "abc", "-1", "999999", "9" * 30])
def test_template_left_on_choose_is_a_reason_not_a_500(logged_in, agent, stale_conversation, template, choice):
    answer = send(logged_in(agent), stale_conversation, {"kind": "template", "template": choice}, **HTMX)
    assert answer.status_code == 422
    assert "Choose a template first." in answer.content.decode() or "not one of this number" in answer.content.decode()


def test_another_numbers_template_is_refused(logged_in, agent, stale_conversation, template, sales_team):
    other = Channel.objects.create(name="Other", phone_number="+918000000009", api_base_url="https://x.test", access_token="t", team=sales_team)
    template.channel = other
    template.save()
    assert_refused(send(logged_in(agent), stale_conversation, {"kind": "template", "template": template.pk}, **HTMX), "not one of this number")


@pytest.mark.parametrize("reply_to", ["abc", "0", "123456", "9" * 30])
def test_garbled_quote_is_a_reason_not_a_500(logged_in, agent, conversation, reply_to):
    answer = send(logged_in(agent), conversation, {"kind": "text", "body": "hi", "reply_to": reply_to}, **HTMX)
    assert_refused(answer, "The quoted message is not one of this conversation.")


def test_unknown_kind_is_refused(logged_in, agent, conversation):
    assert_refused(send(logged_in(agent), conversation, {"kind": "fax", "body": "hi"}, **HTMX), "Unknown kind of message")


def test_whatsapp_only_kind_on_rcs_is_refused_in_words(logged_in, agent, customer, sales_team):
    rcs = Channel.objects.create(kind=Channel.Kind.RCS, name="RCS", phone_number="+918000000002", api_base_url="https://x.test",
                                 access_token="t", team=sales_team)
    conversation = Conversation.objects.create(channel=rcs, contact=customer, team=sales_team)
    answer = send(logged_in(agent), conversation, {"kind": "location", "latitude": "19.07", "longitude": "72.87"}, **HTMX)
    assert_refused(answer, "are WhatsApp messages; on an RCS number you can send text.")


def test_without_htmx_the_whole_composer_comes_back_with_the_text(logged_in, agent, conversation):
    answer = send(logged_in(agent), conversation, {"kind": "text", "body": "x" * 5000})
    assert answer.status_code == 422
    html = answer.content.decode()
    assert 'id="composer-form"' in html and "at most 4096 characters" in html and "x" * 5000 in html


@pytest.mark.parametrize("query", ["template=", "template=abc", "template=&conversation=abc", "template=" + "9" * 30, "template=²"])
def test_template_fields_choose_again_is_empty_not_an_error(logged_in, agent, query):
    answer = logged_in(agent).get(reverse("outbound:template_fields") + "?" + query)
    assert answer.status_code == 200 and answer.content == b""


def test_composer_form_does_not_leak_its_disabled_elt_to_the_template_select(logged_in, agent, stale_conversation, template):
    html = logged_in(agent).get(reverse("inbox:conversation", args=[stale_conversation.pk])).content.decode()
    assert 'hx-disabled-elt="#composer-form button[type=submit]" hx-disinherit="*"' in html
    assert 'id="composer-error"' in html  # the slot refusals are swapped into
