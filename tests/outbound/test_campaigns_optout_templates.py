"""Campaigns, opt-in/out sync, canned replies, and templates (create rules, sync, fill-in, insights)."""

import datetime
import json

import pytest
import responses
from django.utils import timezone
from responses import matchers

from campaigns import services as campaigns
from contacts.services import merge_contacts
from core.errors import ApplicationError, NotAllowed
from inbox import canned, opt_status
from inbox.message_templates import fill, stats, sync, validation
from inbox.models import Message, OptStatus, Template, TemplateInsightsOptIn
from tests.factories import ContactPhoneFactory, LabelFactory

from .conftest import TATA

SEND_URL = f"{TATA}/whatsapp-cloud/messages"
VALUES = {"header_1": "A-1", "body_1": "{first_name}", "body_2": "A-1", "button_0": "A-1"}


@pytest.fixture
def vip_contacts(customer):
    vip = LabelFactory(name="vip")
    contacts = [customer] + [ContactPhoneFactory(contact__name=f"Customer {i}").contact for i in range(3)]
    for contact in contacts:
        contact.labels.add(vip)
    ContactPhoneFactory(contact__name="Not VIP")
    return vip, contacts


@responses.activate
def test_campaign_sends_to_the_filtered_contacts_and_reports_each(channel, template, supervisor, vip_contacts, admin_user, django_capture_on_commit_callbacks):
    vip, contacts = vip_contacts
    OptStatus.objects.create(contact=contacts[1], channel=channel, opted_out=True, changed_at=timezone.now())
    responses.post(SEND_URL, json={"id": "ok"})
    with django_capture_on_commit_callbacks(execute=True):
        campaign = campaigns.start(by=supervisor, name="Diwali", channel=channel, template=template, values=VALUES, filters={"label": str(vip.pk)})
    assert campaign.recipients.count() == 4
    sent = [json.loads(c.request.body) for c in responses.calls]
    assert len(sent) == 3  # the opted-out contact is skipped
    first_names = sorted(s["template"]["components"][1]["parameters"][0]["text"] for s in sent)
    assert first_names == sorted(c.name.split(" ")[0] for c in contacts if c != contacts[1])
    skipped = campaign.recipients.get(contact=contacts[1])
    assert skipped.status == "skipped" and "opted out" in skipped.reason
    progress = campaigns.progress(campaign)
    assert progress["sent"] == 3 and progress["skipped"] == 1 and progress["percent"] == 100
    campaign.refresh_from_db()
    assert campaign.status == "done"
    # Re-running never queues anyone twice.
    campaigns.run(campaign.pk)
    assert Message.objects.filter(type="template").count() == 3


def test_agents_cannot_send_campaigns(channel, template, agent, vip_contacts):
    with pytest.raises(NotAllowed):
        campaigns.start(by=agent, name="x", channel=channel, template=template, values=VALUES, filters={})


def test_campaign_needs_every_blank(channel, template, supervisor, vip_contacts):
    with pytest.raises(ApplicationError, match="Fill in"):
        campaigns.start(by=supervisor, name="x", channel=channel, template=template, values={"body_1": "x"}, filters={"everyone": "1"})


def test_campaign_audience_is_never_everyone_by_default(channel, template, supervisor, vip_contacts):
    with pytest.raises(ApplicationError, match="Choose who receives it"):
        campaigns.start(by=supervisor, name="x", channel=channel, template=template, values=VALUES, filters={})
    assert campaigns.recipient_count(supervisor, {}) == 0
    assert campaigns.recipient_count(supervisor, {"everyone": "1"}) == 5


@responses.activate
def test_opt_out_is_local_at_once_and_synced_to_tata(channel, customer, agent, django_capture_on_commit_callbacks):
    responses.post(
        f"{TATA}/business/optin_optout", json={"success": True},
        match=[matchers.json_params_matcher({"recipient_numbers": ["+919812345678"], "type": "optout", "auto_optin_in_days": 30})],
    )
    with django_capture_on_commit_callbacks(execute=True):
        row = opt_status.set_contact_opt(customer, channel, opt_in=False, by=agent, auto_optin_days=30, reason="asked")
    row.refresh_from_db()
    assert row.opted_out and row.synced_at and row.sync_error == ""
    assert row.auto_optin_at.date() == (timezone.now() + datetime.timedelta(days=30)).date()


@responses.activate
def test_failed_opt_sync_is_recorded_and_can_be_resent(channel, customer, agent, django_capture_on_commit_callbacks):
    responses.post(f"{TATA}/business/optin_optout", status=401, json={"description": "JWT - Auth-Token not valid"})
    with django_capture_on_commit_callbacks(execute=True):
        row = opt_status.set_contact_opt(customer, channel, opt_in=False, by=agent)
    row.refresh_from_db()
    assert row.synced_at is None and "Auth-Token not valid" in row.sync_error
    responses.replace(responses.POST, f"{TATA}/business/optin_optout", json={"success": True})
    with django_capture_on_commit_callbacks(execute=True):
        assert opt_status.resync(channel, by=agent) == 1
    row.refresh_from_db()
    assert row.synced_at is not None


@responses.activate
def test_bulk_opt_in_from_a_filter(channel, supervisor, vip_contacts, django_capture_on_commit_callbacks):
    vip, contacts = vip_contacts
    responses.post(f"{TATA}/business/optin_optout", json={"success": True})
    with django_capture_on_commit_callbacks(execute=True):
        count = opt_status.set_opt(campaigns.audience(supervisor, {"label": vip.pk}), channel, opt_in=True, by=supervisor)
    assert count == 4
    body = json.loads(responses.calls[0].request.body)
    assert body["type"] == "optin" and len(body["recipient_numbers"]) == 4


def test_merge_keeps_the_opt_out(channel, customer):
    other = ContactPhoneFactory().contact
    OptStatus.objects.create(contact=customer, channel=channel, opted_out=False, changed_at=timezone.now())
    OptStatus.objects.create(contact=other, channel=channel, opted_out=True, changed_at=timezone.now())
    merge_contacts(customer, other)
    assert OptStatus.objects.get(contact=customer, channel=channel).opted_out


# ---------------------------------------------------------------- canned replies


def test_canned_replies_expand_own_before_shared(agent, admin_user, teammate):
    canned.save(admin_user, shortcut="thanks", body="Thank you for writing to us!", shared=True)
    canned.save(agent, shortcut="thanks", body="Thanks — Rahul")
    assert canned.expand(agent, "/thanks") == "Thanks — Rahul"
    assert canned.expand(teammate, "/thanks") == "Thank you for writing to us!"
    assert canned.expand(teammate, "/thanks a lot") == "/thanks a lot"
    assert [r.body for r in canned.search(agent, "/th")] == ["Thanks — Rahul"]
    with pytest.raises(NotAllowed):
        canned.save(agent, shortcut="hi", body="x", shared=True)
    with pytest.raises(ApplicationError, match="already exists"):
        canned.save(admin_user, shortcut="thanks", body="again", shared=True)
    shared = canned.available(agent).get(owner__isnull=True)
    with pytest.raises(NotAllowed):
        canned.delete(agent, shared)


# ---------------------------------------------------------------- templates


def draft(**overrides):
    base = dict(name="order_update", language="en", category="UTILITY", body="Hi {{1}}, order {{2}} ships today.", body_examples=["Meera", "A-1"])
    return validation.TemplateDraft(**{**base, **overrides})


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"name": "Order Update"}, "lowercase letters"),
        ({"language": "xx"}, "language code"),
        ({"category": "PROMO"}, "MARKETING, UTILITY or AUTHENTICATION"),
        ({"category": "MARKETING", "ttl_seconds": 43_199}, "between 43,200 s"),
        ({"category": "MARKETING", "ttl_seconds": 2_592_001}, "between 43,200 s"),
        ({"ttl_seconds": 86_400}, "marketing templates only"),
        ({"body_examples": ["Meera"]}, "example value for each of the 2"),
        ({"body": "Hi {{1}}, order {{3}}"}, "in order"),
        ({"footer": "x" * 61}, "footer is at most 60"),
        ({"buttons": [{"type": "QUICK_REPLY", "text": str(i)} for i in range(4)]}, "At most 3 quick-reply"),
        ({"buttons": [{"type": "URL", "text": "Go", "value": "ftp://x"}]}, "https://"),
        ({"header_format": "IMAGE"}, "Attach a sample image"),
        ({"components_json": json.dumps([{"type": "BODY", "text": "Hi"}, {"type": "CAROUSEL", "cards": [{}]}])}, "between 2 and 10 cards"),
    ],
)
def test_template_rules_are_checked_before_tata(channel, admin_user, overrides, message):
    with pytest.raises(ApplicationError) as caught:
        sync.create_template(channel, draft(**overrides), by=admin_user)
    assert message in caught.value.message


@responses.activate
def test_marketing_ttl_at_the_limits_is_accepted(channel, admin_user):
    responses.post(f"{TATA}/templates", json={"id": "t-9"})
    sync.create_template(channel, draft(category="MARKETING", ttl_seconds=43_200), by=admin_user)
    assert json.loads(responses.calls[0].request.body)["message_send_ttl_seconds"] == 43_200


@responses.activate
def test_media_template_uploads_a_handle_then_creates(channel, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    responses.post(f"{TATA}/whatsapp-cloud/media/handle", json={"id": "handle-1"})
    responses.post(f"{TATA}/templates", json={"id": "t-2"})
    template = sync.create_template(
        channel,
        draft(header_format="IMAGE", header_file=SimpleUploadedFile("banner.png", b"\x89PNG", content_type="image/png"),
              buttons=[{"type": "QUICK_REPLY", "text": "Yes"}, {"type": "URL", "text": "Track", "value": "https://shop.in/t/{{1}}"}]),
        by=admin_user,
    )
    created = json.loads(responses.calls[1].request.body)
    assert created["components"][0] == {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["handle-1"]}}
    assert created["components"][-1]["buttons"][1]["url"] == "https://shop.in/t/{{1}}"
    assert template.status == "PENDING" and template.provider_template_id == "t-2"


@responses.activate
def test_sync_adds_updates_and_marks_deleted(channel, template):
    Template.objects.create(channel=channel, name="old_one", language="en", status="APPROVED")
    responses.get(f"{TATA}/templates", json={"data": [
        {"id": "tpl-1", "name": "order_update", "language": "en", "status": "APPROVED", "category": "UTILITY", "components": template.components},
        {"id": "tpl-2", "name": "welcome", "language": "hi", "status": "PENDING", "category": "MARKETING", "components": [{"type": "BODY", "text": "नमस्ते"}]},
    ]})
    assert sync.sync_templates(channel) == {"created": 1, "updated": 1, "deleted": 1}
    assert Template.objects.get(name="old_one").status == "DELETED"
    assert Template.objects.get(name="welcome").language == "hi"


def test_send_components_fill_every_kind_of_blank(template, customer):
    components, preview = fill.send_components(template, VALUES, contact=customer)
    assert components == [
        {"type": "header", "parameters": [{"type": "text", "text": "A-1"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Meera"}, {"type": "text", "text": "A-1"}]},
        {"type": "button", "subtype": "url", "index": 0, "parameters": [{"type": "text", "text": "A-1"}]},
    ]
    assert preview == "Order A-1\nHi Meera, your order A-1 is on its way.\nReply STOP to opt out"
    assert [f.key for f in fill.template_fields(template)] == ["header_1", "body_1", "body_2", "button_0"]


@responses.activate
def test_insights_need_the_one_time_optin_then_chart_per_day(channel, template, admin_user):
    with pytest.raises(ApplicationError, match="switch them on"):
        stats.template_insights(template)
    responses.post(f"{TATA}/templates/insights/optin", json={"success": True})
    stats.enable_insights(channel, by=admin_user)
    stats.enable_insights(channel, by=admin_user)
    assert len(responses.calls) == 1 and TemplateInsightsOptIn.objects.count() == 1
    day = datetime.date(2024, 5, 22)
    start = int(datetime.datetime(2024, 5, 22, tzinfo=datetime.UTC).timestamp())
    responses.get(f"{TATA}/templates/insights", json={"data": {"data_points": [{"template_id": "tpl-1", "start": start, "end": start + 86400, "sent": 9, "delivered": 8, "read": 5}]}})
    days = stats.template_insights(template, days=7, today=day)
    assert len(days) == 7 and (days[-1].sent, days[-1].delivered, days[-1].read) == (9, 8, 5)
    assert days[0].sent == 0
