"""Ingest's hooks into contacts: merge folds conversations, agents see their conversations' contacts,
messages appear on the contact timeline."""

import pytest

from contacts.selectors import visible_contacts
from contacts.services import merge_contacts
from contacts.timeline import timeline_for
from inbox.models import Conversation, Message
from tests.inbox.tata_payloads import fixture_json, make_channel, post_fixture, post_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(sales_team):
    return make_channel(team=sales_team)


@pytest.fixture
def deliver(client, channel, django_capture_on_commit_callbacks):
    def post(name=None, payload=None):
        with django_capture_on_commit_callbacks(execute=True):
            response = post_payload(client, channel, payload) if payload else post_fixture(client, channel, name)
        assert response.status_code == 200

    return post


def test_merge_folds_the_duplicates_conversation_on_the_same_number(deliver, supervisor):
    deliver("wa_in_text.json")  # +919812345678
    other = fixture_json("wa_in_image.json")
    other["messages"]["from"] = other["contacts"][0]["wa_id"] = "919812345699"
    deliver(payload=other)
    keep, duplicate = (Conversation.objects.get(contact__phones__number=n).contact for n in ("+919812345678", "+919812345699"))
    merge_contacts(keep, duplicate, by=supervisor)
    conversation = Conversation.objects.get()
    assert conversation.contact == keep and conversation.messages.count() == 2
    assert conversation.unread_count == 2 and conversation.last_message_preview.startswith("📷 Photo")


def test_agent_sees_the_contact_of_a_conversation_they_can_see(deliver, agent, other_agent, sales_team):
    deliver("wa_in_text.json")
    contact = Conversation.objects.get().contact
    contact.owner = other_agent  # owned outside the Sales team: not visible by ownership
    contact.save()
    assert visible_contacts(agent).filter(pk=contact.pk).exists()
    assert not visible_contacts(other_agent.__class__.objects.create(username="zed", role="agent")).filter(pk=contact.pk).exists()


def test_messages_show_on_the_contact_timeline_without_reaction_rows(deliver, client, admin_user):
    deliver("wa_in_text.json")
    reaction = fixture_json("wa_in_reaction.json")
    reaction["messages"]["reaction"]["message_id"] = Message.objects.get().provider_message_id
    deliver(payload=reaction)
    contact = Conversation.objects.get().contact
    entries = timeline_for(contact, admin_user)
    assert [(e.kind, e.obj.body) for e in entries] == [("message", "Hi, I want to know the status of my order #4521")]
    client.force_login(admin_user)
    page = client.get(contact.get_absolute_url())
    assert page.status_code == 200 and "Hi, I want to know the status of my order #4521" in page.content.decode()
