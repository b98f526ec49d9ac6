"""REST API: channels (admins create, secrets write-only), conversations with the inbox filters, messages."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts import api_keys
from contacts.models import Contact, ContactPhone, Label
from inbox.models import Channel, Conversation, Message
from tests.inbox.tata_payloads import make_channel, post_fixture

pytestmark = pytest.mark.django_db


def test_admin_creates_a_channel_and_gets_its_webhook_url(api, admin_user, sales_team):
    response = api(admin_user).post(
        "/api/channels/",
        {"name": "Support line", "phone_number": "098765 00001", "access_token": "jwt-secret", "partner_token": "partner-secret", "team": sales_team.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    channel = Channel.objects.get()
    assert data["webhook_url"] == channel.webhook_url
    assert data["webhook_url"].startswith("http://127.0.0.1:8000/webhooks/tata/") and channel.webhook_token in data["webhook_url"]
    assert data["phone_number"] == "+919876500001" and data["kind"] == "whatsapp"
    assert data["has_access_token"] is True and data["has_partner_token"] is True
    assert "jwt-secret" not in response.content.decode() and "partner-secret" not in response.content.decode()
    assert channel.access_token == "jwt-secret" and channel.partner_token == "partner-secret"
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM inbox_channel")
        assert "jwt-secret" not in cursor.fetchone()[0]  # encrypted at rest


def test_channel_errors_say_what_to_fix(api, admin_user):
    client = api(admin_user)
    bad = client.post("/api/channels/", {"name": "X", "phone_number": "12"}, format="json")
    assert bad.status_code == 400 and "phone_number" in bad.json()
    client.post("/api/channels/", {"name": "A", "phone_number": "+919876500001"}, format="json")
    again = client.post("/api/channels/", {"name": "B", "phone_number": "+91 98765 00001"}, format="json")
    assert again.status_code == 400 and "already exists" in str(again.json())


def test_agents_can_list_channels_but_not_create_them(api, agent):
    make_channel()
    client = api(agent)
    assert client.post("/api/channels/", {"name": "X", "phone_number": "+919876500009"}, format="json").status_code == 403
    listed = client.get("/api/channels/").json()
    assert [c["name"] for c in listed] == ["Test whatsapp"] and "partner_token" not in listed[0]


def test_updating_a_channel_without_secrets_keeps_them(api, admin_user):
    channel = make_channel()
    response = api(admin_user).patch(f"/api/channels/{channel.pk}/", {"name": "Renamed", "partner_token": ""}, format="json")
    assert response.status_code == 200
    channel.refresh_from_db()
    assert channel.name == "Renamed" and channel.partner_token == "test-partner-token"


def test_api_key_auth_and_anonymous_refusal(admin_user):
    _, key = api_keys.create(admin_user, name="test")
    client = APIClient()
    assert client.get("/api/conversations/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/conversations/").status_code == 200


@pytest.fixture
def inbox_rows(sales_team, support_team, agent, teammate):
    channel_a, channel_b = make_channel(), make_channel(phone="+919876500002", name="Second")
    vip = Label.objects.create(name="VIP")

    def conversation(number, channel, **fields):
        contact = Contact.objects.create(name=number)
        ContactPhone.objects.create(contact=contact, number=number, is_primary=True)
        return Conversation.objects.create(channel=channel, contact=contact, **fields)

    rows = {
        "mine": conversation("+919800000001", channel_a, team=sales_team, assignee=agent),
        "teammate": conversation("+919800000002", channel_a, team=sales_team, assignee=teammate, status="pending"),
        "pool": conversation("+919800000003", channel_b),
        "support": conversation("+919800000004", channel_a, team=support_team),
        "resolved": conversation("+919800000005", channel_b, team=sales_team, status="resolved"),
    }
    rows["pool"].labels.add(vip)
    return rows, channel_a, channel_b, vip


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_conversation_filters_match_the_inbox(api, agent, supervisor, inbox_rows):
    rows, channel_a, channel_b, vip = inbox_rows
    client = api(agent)
    visible = {rows[k].pk for k in ("mine", "teammate", "pool", "resolved")}
    assert _ids(client.get("/api/conversations/")) == visible  # never another team's
    assert _ids(client.get("/api/conversations/?view=mine")) == {rows["mine"].pk}
    assert _ids(client.get("/api/conversations/?view=unassigned")) == {rows["pool"].pk, rows["resolved"].pk}
    assert _ids(client.get("/api/conversations/?status=pending")) == {rows["teammate"].pk}
    assert _ids(client.get(f"/api/conversations/?channel={channel_b.pk}")) == {rows["pool"].pk, rows["resolved"].pk}
    assert _ids(client.get(f"/api/conversations/?label={vip.pk}")) == {rows["pool"].pk}
    assert rows["support"].pk in _ids(api(supervisor).get("/api/conversations/"))
    assert client.get(f"/api/conversations/{rows['support'].pk}/").status_code == 404
    assert client.get(f"/api/conversations/{rows['support'].pk}/messages/").status_code == 404
    assert client.get("/api/conversations/?view=everything").status_code == 400
    assert client.get("/api/conversations/?channel=abc").status_code == 400


def test_conversation_list_query_count_does_not_grow_with_page_size(api, supervisor, inbox_rows):
    client = api(supervisor)
    with CaptureQueriesContext(connection) as small:
        client.get("/api/conversations/?page_size=2")
    for n in range(30):
        contact = Contact.objects.create(name=f"extra {n}")
        ContactPhone.objects.create(contact=contact, number=f"+91981{n:07d}", is_primary=True)
        Conversation.objects.create(channel=inbox_rows[1], contact=contact)
    with CaptureQueriesContext(connection) as large:
        client.get("/api/conversations/")
    assert len(large.captured_queries) == len(small.captured_queries)


def test_messages_of_a_conversation_carry_provider_id_direction_type_and_status(
    client, api, admin_user, django_capture_on_commit_callbacks
):
    channel = make_channel()
    with django_capture_on_commit_callbacks(execute=True):
        for name in ["wa_in_text.json", "wa_status_read.json", "wa_in_reaction.json", "wa_in_location.json"]:
            post_fixture(client, channel, name)
    conversation = Conversation.objects.get(contact__phones__number="+919812345678")
    response = api(admin_user).get(f"/api/conversations/{conversation.pk}/messages/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["direction"], r["type"], r["status"]) for r in rows] == [
        ("in", "reaction", "received"),
        ("in", "location", "received"),
        ("out", "unknown", "read"),
        ("in", "text", "received"),
    ]
    by_type = {r["type"]: r for r in rows}
    assert by_type["text"]["provider_message_id"] == "wamid.HBgMOTE5ODEyMzQ1Njc4FQIAEhggQUFBQTExMTEA"
    assert by_type["unknown"]["source"] == "campaign" and by_type["unknown"]["reactions"]["in"]["emoji"] == "👍"
    assert by_type["reaction"]["reply_to"] == by_type["unknown"]["id"]
    assert Message.objects.count() == 4


def test_openapi_schema_documents_the_inbox_endpoints(api, admin_user):
    schema = api(admin_user).get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ["/api/channels/", "/api/conversations/", "/api/conversations/{id}/messages/"]:
        assert path in schema
    assert "webhook_url" in schema and "provider_message_id" in schema


def test_conversation_pages_link_to_each_other_without_counting_every_conversation(api, supervisor, monkeypatch):
    from core.pagination import PagesWithoutCount
    from inbox.api import ConversationViewSet

    monkeypatch.setattr(ConversationViewSet, "pagination_class", type("Sized", (PagesWithoutCount,), {"page_size": 2}))
    channel = make_channel()
    for n in range(5):
        Conversation.objects.create(channel=channel, contact=Contact.objects.create(name=f"c{n}"))
    client = api(supervisor)
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/api/conversations/?status=open").json()
    assert not any("COUNT(" in q["sql"] for q in queries.captured_queries)
    assert set(first) == {"next", "previous", "results"} and len(first["results"]) == 2
    assert first["previous"] is None and first["next"].endswith("/api/conversations/?page=2&status=open")
    second = client.get(first["next"]).json()
    assert second["previous"].endswith("/api/conversations/?status=open")
    third = client.get(second["next"]).json()
    assert len(third["results"]) == 1 and third["next"] is None and "page=2" in third["previous"]
    seen = [c["id"] for page in (first, second, third) for c in page["results"]]
    assert len(seen) == len(set(seen)) == 5
    assert client.get("/api/conversations/?page=abc").status_code == 404
    assert client.get("/api/conversations/?page=0").status_code == 404
