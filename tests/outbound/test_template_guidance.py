"""An agent who cannot create templates is told whom to ask; a template created in the app says it is
pending approval and when the number's templates were last synced."""

import pytest
import responses
from django.urls import reverse

from inbox.models import Template
from tests.factories import UserFactory

from .conftest import TATA


@pytest.fixture
def admins(db):
    return [UserFactory(username="asha", first_name="Asha", last_name="Rao", role="admin"),
            UserFactory(username="dev", first_name="Dev", last_name="Patel", role="admin")]


def test_an_agent_without_templates_is_told_which_admins_to_ask(logged_in, agent, admins, stale_conversation):
    composer = logged_in(agent).get(reverse("outbound:composer", args=[stale_conversation.pk])).content.decode()
    assert "No approved templates on Sales WhatsApp." in composer
    assert "Only admins sync and create templates: ask Asha Rao or Dev Patel." in composer
    page = logged_in(agent).get(reverse("outbound:templates")).content.decode()
    assert "ask Asha Rao or Dev Patel" in page and "Sync from Tata" not in page


def test_an_admin_without_templates_gets_the_link_to_sync_or_create(logged_in, admins, stale_conversation):
    composer = logged_in(admins[0]).get(reverse("outbound:composer", args=[stale_conversation.pk])).content.decode()
    assert "Sync or create templates" in composer and "ask Asha" not in composer


@responses.activate
def test_a_template_created_in_the_app_is_pending_approval_with_its_last_sync(logged_in, admins, channel):
    admin = logged_in(admins[0])
    assert "Never synced with Tata" in admin.get(reverse("outbound:templates")).content.decode()
    responses.post(f"{TATA}/templates", json={"id": "new-1"})
    created = admin.post(reverse("outbound:template_create"), {"channel": channel.pk, "name": "promo_one", "language": "en",
                                                                "category": "MARKETING", "body": "Big sale today"}, follow=True).content.decode()
    assert "pending until WhatsApp approves it" in created
    assert "pending approval" in created and "sync to see its decision (last checked" in created
    assert "Last synced with Tata" in created
    assert Template.objects.get(name="promo_one").status == "PENDING"
