"""The pages and endpoints: thin, but every one renders and answers bad input with a visible message."""

import json

import responses
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from inbox.models import CannedResponse, Message, OptStatus, Template, TemplateInsightsOptIn
from tests.factories import ContactPhoneFactory

from .conftest import TATA

SEND_URL = f"{TATA}/whatsapp-cloud/messages"


@responses.activate
def test_thread_shows_composer_and_sends_text(logged_in, agent, conversation, django_capture_on_commit_callbacks):
    client = logged_in(agent)
    page = client.get(reverse("inbox:conversation", args=[conversation.pk]))
    assert b'id="composer"' in page.content and b"Link preview" in page.content
    responses.post(SEND_URL, json={"id": "r"})
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("outbound:send", args=[conversation.pk]), {"kind": "text", "body": "Hello there"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and b'id="composer"' in answer.content
    assert Message.objects.get(direction="out").status == "sent"


def test_send_errors_come_back_in_the_composer(logged_in, agent, conversation):
    client = logged_in(agent)
    big = SimpleUploadedFile("huge.png", b"x" * (5 * 1024 * 1024 + 10), content_type="image/png")
    answer = client.post(reverse("outbound:send", args=[conversation.pk]), {"kind": "text", "body": "see", "file": big})
    assert answer.status_code == 422 and b"WhatsApp images can be at most 5 MB" in answer.content


def test_canned_shortcut_expands_on_send(logged_in, agent, conversation, django_capture_on_commit_callbacks):
    CannedResponse.objects.create(shortcut="thanks", body="Thank you for choosing us!")
    with responses.RequestsMock() as mock, django_capture_on_commit_callbacks(execute=True):
        mock.post(SEND_URL, json={"id": "r"})
        logged_in(agent).post(reverse("outbound:send", args=[conversation.pk]), {"kind": "text", "body": "/thanks"})
    assert Message.objects.get(direction="out").body == "Thank you for choosing us!"
    found = logged_in(agent).get(reverse("outbound:canned_search"), {"q": "th"}).json()
    assert found["results"][0]["shortcut"] == "thanks"


def test_window_closed_composer_offers_only_templates_and_says_why(logged_in, agent, stale_conversation, template):
    page = logged_in(agent).get(reverse("outbound:composer", args=[stale_conversation.pk]))
    html = page.content.decode()
    assert "more than 24 hours ago" in html and 'data-tab="text"' not in html and "order_update" in html


def test_opted_out_composer_says_why(logged_in, agent, conversation):
    OptStatus.objects.create(contact=conversation.contact, channel=conversation.channel, opted_out=True, changed_at=timezone.now(), reason="STOP")
    html = logged_in(agent).get(reverse("outbound:composer", args=[conversation.pk])).content.decode()
    assert "opted out" in html and 'id="composer-form"' not in html


def test_other_team_cannot_use_the_composer(logged_in, other_agent, conversation):
    assert logged_in(other_agent).post(reverse("outbound:send", args=[conversation.pk]), {"body": "x"}).status_code == 404


@responses.activate
def test_failed_bubble_has_retry_and_retry_sends(logged_in, agent, conversation, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, status=401, json={"description": "JWT - Auth-Token not valid"})
    client = logged_in(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("outbound:send", args=[conversation.pk]), {"kind": "text", "body": "hi"})
    message = Message.objects.get(direction="out")
    bubble = client.get(reverse("inbox:message", args=[message.pk])).content.decode()
    assert "JWT - Auth-Token not valid" in bubble and reverse("outbound:retry", args=[message.pk]) in bubble
    responses.replace(responses.POST, SEND_URL, json={"id": "ok"})
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("outbound:retry", args=[message.pk]))
    assert answer.status_code == 200
    message.refresh_from_db()
    assert message.status == "sent"


@responses.activate
def test_template_send_from_composer_with_preview(logged_in, agent, stale_conversation, template, django_capture_on_commit_callbacks):
    client = logged_in(agent)
    fields = client.get(reverse("outbound:template_fields"), {"template": template.pk, "conversation": stale_conversation.pk, "body_1": "{first_name}"})
    assert "Hi Meera, your order {{2}}" in fields.content.decode()
    answer = client.post(reverse("outbound:send", args=[stale_conversation.pk]), {"kind": "template", "template": template.pk, "body_1": "Meera"})
    assert answer.status_code == 422 and "Fill in" in answer.content.decode()
    responses.post(SEND_URL, json={"id": "r"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("outbound:send", args=[stale_conversation.pk]),
                    {"kind": "template", "template": template.pk, "header_1": "A-1", "body_1": "Meera", "body_2": "A-1", "button_0": "A-1"})
    assert json.loads(responses.calls[0].request.body)["type"] == "template"


@responses.activate
def test_start_conversation_from_contact_page(logged_in, agent, channel, customer, template, django_capture_on_commit_callbacks):
    client = logged_in(agent)
    contact_page = client.get(customer.get_absolute_url()).content.decode()
    assert reverse("outbound:start", args=[customer.pk]) in contact_page and "Opted in" in contact_page
    form = client.get(reverse("outbound:start", args=[customer.pk]), {"channel": channel.pk, "template": template.pk})
    assert b"Body {{1}}" in form.content
    responses.post(SEND_URL, json={"id": "r"})
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("outbound:start", args=[customer.pk]),
                             {"channel": channel.pk, "template": template.pk, "header_1": "A", "body_1": "B", "body_2": "C", "button_0": "D"})
    assert answer.status_code == 302
    assert Message.objects.get(direction="out", conversation__contact=customer).status == "sent"


@responses.activate
def test_contact_opt_out_from_contact_page(logged_in, agent, channel, customer, django_capture_on_commit_callbacks):
    responses.post(f"{TATA}/business/optin_optout", json={"success": True})
    with django_capture_on_commit_callbacks(execute=True):
        logged_in(agent).post(reverse("outbound:contact_opt", args=[customer.pk]), {"channel": channel.pk, "action": "optout", "auto_optin_days": "7"})
    row = OptStatus.objects.get(contact=customer)
    assert row.opted_out and row.synced_at
    assert "Opted out" in logged_in(agent).get(customer.get_absolute_url()).content.decode()


@responses.activate
def test_template_pages(logged_in, admin_user, agent, channel, template):
    admin = logged_in(admin_user)
    assert b"order_update" in admin.get(reverse("outbound:templates")).content
    bad = admin.post(reverse("outbound:template_create"), {"channel": channel.pk, "name": "Bad Name", "language": "en", "category": "MARKETING", "body": "Hi", "ttl": "10"})
    assert bad.status_code == 422 and "lowercase letters" in bad.content.decode() and "43,200" in bad.content.decode()
    responses.post(f"{TATA}/templates", json={"id": "new-1"})
    ok = admin.post(reverse("outbound:template_create"), {"channel": channel.pk, "name": "promo_one", "language": "en", "category": "MARKETING", "body": "Big sale today", "ttl": "86400"})
    assert ok.status_code == 302 and Template.objects.get(name="promo_one").status == "PENDING"
    insights = admin.get(reverse("outbound:template_insights", args=[template.pk])).content.decode()
    assert "Switch on template insights" in insights
    responses.post(f"{TATA}/templates/insights/optin", json={"success": True})
    responses.get(f"{TATA}/templates/insights", json={"data": {"data_points": []}})
    after = admin.post(reverse("outbound:template_insights", args=[template.pk])).content.decode()
    assert TemplateInsightsOptIn.objects.exists() and "insights-chart" in after
    assert logged_in(agent).post(reverse("outbound:template_create"), {}).status_code == 403


def test_canned_page_manages_own_replies(logged_in, agent):
    client = logged_in(agent)
    assert client.post(reverse("outbound:canned"), {"shortcut": "hello", "body": "Hello!"}).status_code == 302
    reply = CannedResponse.objects.get()
    assert reply.owner == agent
    page = client.post(reverse("outbound:canned"), {"shortcut": "x", "body": "y", "shared": "1"})
    assert "Only admins" in page.content.decode()


@responses.activate
def test_campaign_pages(logged_in, supervisor, agent, channel, template, customer, django_capture_on_commit_callbacks):
    client = logged_in(supervisor)
    form = client.get(reverse("campaigns:create"), {"channel": channel.pk, "template": template.pk})
    assert b"Choose who receives it" in form.content and b"Send to" not in form.content  # never everyone by default
    form = client.get(reverse("campaigns:create"), {"channel": channel.pk, "template": template.pk, "everyone": "1"})
    assert "Send to 1 contact…" in form.content.decode()
    responses.post(SEND_URL, json={"id": "r"})
    fields = {"channel": channel.pk, "template": template.pk, "name": "Test", "everyone": "1",
              "header_1": "A", "body_1": "{first_name}", "body_2": "C", "button_0": "D"}
    confirm = client.post(reverse("campaigns:create"), fields).content.decode()
    assert "Yes, send to 1 contact" in confirm and "every contact" in confirm and not Campaign.objects.exists()
    ContactPhoneFactory(contact__name="Arrived meanwhile")
    again = client.post(reverse("campaigns:create"), {**fields, "confirmed_count": "1"}).content.decode()
    assert "The audience changed since you looked: it is now 2 contacts." in again and not Campaign.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("campaigns:create"), {**fields, "confirmed_count": "2"})
    campaign = Campaign.objects.get()
    assert answer.status_code == 302 and campaign.name == "Test" and campaign.recipients.count() == 2
    detail = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "Meera Iyer" in detail and "result-sent" in detail
    assert b"campaign-live" in client.get(reverse("campaigns:progress", args=[campaign.pk])).content
    assert logged_in(agent).get(reverse("campaigns:list")).status_code == 403


def test_bulk_opt_page(logged_in, supervisor, channel, customer, django_capture_on_commit_callbacks):
    with responses.RequestsMock() as mock, django_capture_on_commit_callbacks(execute=True):
        mock.post(f"{TATA}/business/optin_optout", json={"success": True})
        page = logged_in(supervisor).get(reverse("outbound:bulk_opt"), {"q": "Meera"})
        assert b"<strong>1</strong> contacts" in page.content
        confirm = logged_in(supervisor).post(reverse("outbound:bulk_opt"), {"q": "Meera", "channel": channel.pk, "action": "optout"})
        assert "Yes, opt out 1 contact" in confirm.content.decode() and not OptStatus.objects.exists()
        answer = logged_in(supervisor).post(reverse("outbound:bulk_opt"), {"q": "Meera", "channel": channel.pk, "action": "optout", "confirmed_count": "1"})
    assert answer.status_code == 302 and OptStatus.objects.get().opted_out


def test_opt_out_days_that_are_not_a_number_are_refused_with_a_message(logged_in, agent, supervisor, channel, customer):
    bad = {"channel": channel.pk, "action": "optout", "auto_optin_days": "a week"}
    page = logged_in(agent).post(reverse("outbound:contact_opt", args=[customer.pk]), bad, follow=True)
    assert "Automatic opt-in is a number of days." in page.content.decode()
    bulk = logged_in(supervisor).post(reverse("outbound:bulk_opt"), {"q": customer.name, **bad})
    assert "Automatic opt-in is a number of days." in bulk.content.decode()
    assert not OptStatus.objects.exists()
