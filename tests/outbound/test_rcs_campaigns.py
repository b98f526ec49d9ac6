"""RCS campaigns: a saved rich snippet to a filtered set of contacts on an RCS number, through the same
form, confirmation, progress and per-recipient results as WhatsApp campaigns."""

import json

import pytest
import responses
from django.urls import reverse

from campaigns import services as campaigns
from campaigns.models import Campaign, Recipient
from core.errors import ApplicationError
from inbox.models import Channel, Message, OptStatus
from inbox.rich import service as rich
from tests.factories import ContactPhoneFactory, LabelFactory
from tests.inbox.tata_payloads import PARTNER_TOKEN, post_payload

RCS_API = "https://rcs.test"
CAROUSEL = {"kind": "carousel", "cards": [
    {"title": "Goa", "suggestions": [{"type": "reply", "text": "Book Goa"}]},
    {"title": "Manali", "suggestions": [{"type": "reply", "text": "Book Manali"}]},
]}


@pytest.fixture
def rcs_channel(sales_team):
    return Channel.objects.create(kind=Channel.Kind.RCS, name="Support RCS", phone_number="+918000000009", api_base_url=RCS_API,
                                  access_token="rcs-jwt", partner_token=PARTNER_TOKEN, team=sales_team)


@pytest.fixture
def audience(db):
    label = LabelFactory(name="trips")
    for i in range(3):
        ContactPhoneFactory(number=f"+91981234560{i}", contact__name=f"Traveller {i}").contact.labels.add(label)
    return {"label": str(label.pk)}


@pytest.fixture
def snippet(admin_user):
    return rich.save_snippet(admin_user, name="Winter trips", spec=CAROUSEL, shared=True)


@responses.activate
def test_a_snippet_goes_to_each_contact_once_with_progress_and_results(rcs_channel, audience, snippet, supervisor, client, django_capture_on_commit_callbacks):
    ids = iter(f"rcs-{i}" for i in range(10))
    responses.add_callback(responses.POST, f"{RCS_API}/rcs/messages", callback=lambda request: (200, {}, json.dumps({"id": next(ids)})))
    # The last contact opted out: skipped with the reason, as on WhatsApp.
    contact = LabelFactory._meta.model.objects.get(name="trips").contacts.order_by("pk").last()
    OptStatus.objects.create(contact=contact, channel=rcs_channel, opted_out=True, changed_at="2026-12-01T00:00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        campaign = campaigns.start_rich(by=supervisor, name="", channel=rcs_channel, snippet=snippet, filters=audience)
    campaign.refresh_from_db()
    assert campaign.name.startswith("Winter trips") and campaign.rich_spec == CAROUSEL
    assert len(responses.calls) == 2
    assert all(json.loads(call.request.body)["content"]["richCardDetails"]["carousel"]["contents"][0]["cardTitle"] == "Goa" for call in responses.calls)
    progress = campaigns.progress(campaign)
    assert (progress["sent"], progress["skipped"], progress["waiting"]) == (2, 1, 0)
    assert campaign.status == Campaign.Status.DONE
    assert "opted out" in Recipient.objects.get(status="skipped").reason
    # Delivered and read callbacks move the per-recipient results, as for WhatsApp.
    for event in ("MESSAGE_DELIVERED", "MESSAGE_READ"):
        body = {"userPhoneNumber": "+919812345600", "entityType": "USER_EVENT",
                "entity": {"eventType": event, "messageId": "rcs-0", "sendTime": "2026-12-02T10:00:00Z", "senderPhoneNumber": "+919812345600"}}
        with django_capture_on_commit_callbacks(execute=True):
            assert post_payload(client, rcs_channel, body).status_code == 200
    assert campaigns.progress(campaign)["read"] == 1
    assert Message.objects.filter(type="rich", source="system").count() == 2


def test_the_form_offers_snippets_on_an_rcs_number_and_confirms_the_count(rcs_channel, audience, snippet, logged_in, supervisor, django_capture_on_commit_callbacks):
    client = logged_in(supervisor)
    form = client.get(reverse("campaigns:create"), {"channel": rcs_channel.pk, **audience}).content.decode()
    assert "Saved rich message" in form and "Winter trips (shared)" in form and "Approved template" not in form
    data = {"channel": rcs_channel.pk, "snippet": snippet.pk, "name": "Trips", **audience}
    confirm = client.post(reverse("campaigns:create"), data)
    assert confirm.status_code == 200 and "the rich message" in confirm.content.decode() and 'id="confirm-count">3<' in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        started = client.post(reverse("campaigns:create"), {**data, "confirmed_count": "3"})
    campaign = Campaign.objects.get()
    assert started.status_code == 302 and campaign.snippet == snippet and campaign.template is None
    assert "RCS: Winter trips" in client.get(reverse("campaigns:list")).content.decode()


def test_an_agents_own_snippet_is_not_anothers_campaign(rcs_channel, audience, agent, supervisor):
    own = rich.save_snippet(agent, name="Mine", spec=CAROUSEL)
    with pytest.raises(ApplicationError):
        campaigns.check_rich(by=supervisor, channel=rcs_channel, snippet=own, filters=audience)
