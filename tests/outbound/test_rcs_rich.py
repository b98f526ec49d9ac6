"""Rich RCS messages from the composer's builders (inbox.rich): the spec → the reference's JSON with our
postback data, the limits named, sent once through the outbound pipeline, drawn as sent, a tap traced
to its chip and card, snippets with their access rules, card media served to Tata."""

import json
import pathlib

import pytest
import responses
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.errors import ApplicationError, NotAllowed
from inbox.models import Channel, Conversation, Message
from inbox.providers import tata_rcs
from inbox.rich import service, spec as specs
from inbox.rich.models import RichSnippet
from inbox.templatetags.bubbles import bubble
from tests.factories import UserFactory
from tests.inbox.tata_payloads import PARTNER_TOKEN, fixture_json, post_payload

RCS_API = "https://rcs.test"
SEND_URL = f"{RCS_API}/rcs/messages"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def rcs_channel(sales_team):
    return Channel.objects.create(
        kind=Channel.Kind.RCS, name="Support RCS", phone_number="+918000000009", api_base_url=RCS_API,
        access_token="rcs-jwt", partner_token=PARTNER_TOKEN, team=sales_team,
    )


@pytest.fixture
def rcs_conversation(rcs_channel, customer):
    return Conversation.objects.create(channel=rcs_channel, contact=customer, team=rcs_channel.team)


def carousel_spec(**first_card) -> dict:
    return {
        "kind": "carousel",
        "cards": [
            {"title": "Goa, 3 nights", "description": "Beach stay", "media_url": "https://cdn.example/goa.jpg", "media_height": "MEDIUM",
             "suggestions": [{"type": "reply", "text": "Book Goa"}, {"type": "url", "text": "Details", "url": "https://travel.example/goa"}],
             **first_card},
            {"title": "Manali, 4 nights", "description": "Snow",
             "suggestions": [{"type": "reply", "text": "Book Manali"},
                             {"type": "calendar", "text": "Remind me", "title": "Trip", "start": "2026-12-20T10:00", "end": "2026-12-20T11:00"}]},
        ],
    }


def test_the_builder_writes_the_references_carousel_with_a_postback_per_chip():
    content = tata_rcs.content_json(specs.to_message(carousel_spec()))
    carousel = content["richCardDetails"]["carousel"]
    assert carousel["cardWidth"] == "MEDIUM_WIDTH" and len(carousel["contents"]) == 2
    first = carousel["contents"][0]
    assert first["cardTitle"] == "Goa, 3 nights" and first["cardMedia"] == {"mediaHeight": "MEDIUM", "contentInfo": {"fileUrl": "https://cdn.example/goa.jpg"}}
    assert first["suggestions"][0] == {"reply": {"plainText": "Book Goa", "postBack": {"data": "c1s1"}}}
    assert first["suggestions"][1]["action"]["openUrl"] == {"url": "https://travel.example/goa"}
    event = carousel["contents"][1]["suggestions"][1]["action"]["createCalendarEvent"]
    assert event["title"] == "Trip" and event["startTime"].endswith("Z")


@pytest.mark.parametrize("kind,item", [
    ("dial", {"phone": "+91 98123 45678"}),
    ("location", {"latitude": "19.076", "longitude": "72.8777", "label": "Office"}),
    ("share_location", {}),
])
def test_each_action_on_a_text(kind, item):
    message = specs.to_message({"kind": "text", "text": "Hello", "suggestions": [{"type": kind, "text": "Go", **item}]})
    assert isinstance(message, tata_rcs.Text) and message.suggestions[0].postback == "s1"


@pytest.mark.parametrize("spec,named", [
    ({"kind": "carousel", "cards": [{"title": "one"}]}, "minimum 2 cards and maximum 10 cards"),
    ({"kind": "carousel", "cards": [{"title": str(i)} for i in range(11)]}, "maximum 10 cards"),
    ({"kind": "card", "cards": [{"title": "x", "suggestions": [{"type": "reply", "text": str(i)} for i in range(5)]}]}, "up to 4 buttons"),
    ({"kind": "text", "text": "x", "suggestions": [{"type": "reply", "text": "a" * 26}]}, "longer than 25 characters"),
    ({"kind": "text", "text": "x", "suggestions": [{"type": "dial", "text": "Call", "phone": "12345"}]}, "international form"),
    ({"kind": "text", "text": "x", "suggestions": [{"type": "calendar", "text": "Cal", "title": "T", "start": "2026-12-20T11:00", "end": "2026-12-20T10:00"}]}, "end after it starts"),
    ({"kind": "text", "text": "x", "suggestions": [{"type": "location", "text": "Map", "latitude": "north", "longitude": "1"}]}, "must be numbers"),
    ({"kind": "card", "cards": [{"title": "t", "media_url": "javascript:alert(1)"}]}, "http(s) link"),
    ({"kind": "card", "cards": [{}]}, "needs a title, a description or media"),
    ({"kind": "poster"}, "Choose a kind"),
    ([1, 2], "could not be read"),
])
def test_limits_are_refused_with_a_message_that_names_them(spec, named):
    with pytest.raises(ApplicationError) as refused:
        specs.to_message(spec)
    assert named in refused.value.message


@responses.activate
def test_a_carousel_is_sent_once_and_drawn_as_sent(rcs_conversation, agent, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, json={"id": "rich-1"})
    with django_capture_on_commit_callbacks(execute=True):
        message = service.send_rich(rcs_conversation, by=agent, spec=carousel_spec())
    message.refresh_from_db()
    assert (message.type, message.status, message.provider_message_id) == ("rich", "sent", "rich-1")
    assert message.body == "Carousel (2 cards): Goa, 3 nights"
    assert len(responses.calls) == 1
    sent = json.loads(responses.calls[0].request.body)
    assert sent["content"] == message.content and sent["to"] == "+919812345678"
    html = bubble(message)
    assert 'aria-label="Carousel of 2 cards"' in html and "Manali, 4 nights" in html and "Snow" in html
    assert f'id="msg-{message.pk}-chip-c2s1"' in html and "Book Manali" in html and "🔗 " in html
    assert "cdn.example" in html and "<img" not in html  # another site's image is named, not loaded


def test_rich_messages_are_rcs_only_and_a_channel_without_a_token_says_so(conversation, rcs_conversation, agent):
    with pytest.raises(ApplicationError, match="this is a WhatsApp number"):
        service.send_rich(conversation, by=agent, spec=carousel_spec())
    Channel.objects.filter(pk=rcs_conversation.channel_id).update(access_token="")
    rcs_conversation.channel.refresh_from_db()
    assert "no RCS access token" in service.can_send_rich(rcs_conversation)


@responses.activate
def test_a_tap_names_the_chip_and_card_it_came_from(client, rcs_conversation, agent, django_capture_on_commit_callbacks):
    responses.post(SEND_URL, json={"id": "rich-2"})
    with django_capture_on_commit_callbacks(execute=True):
        sent = service.send_rich(rcs_conversation, by=agent, spec=carousel_spec())
    payload = fixture_json("rcs_in_suggestion_reply.json")
    payload["userPhoneNumber"] = "+919812345678"
    payload["metaData"] = {"orgMsgId": "rich-2"}
    payload["entity"]["suggestionResponse"] = {"postBack": {"data": "c2s1"}, "plainText": "Book Manali", "type": "REPLY"}
    with django_capture_on_commit_callbacks(execute=True):
        assert post_payload(client, rcs_conversation.channel, payload).status_code == 200
    tap = Message.objects.get(direction="in", type="suggestion")
    assert tap.reply_to_id == sent.pk
    html = bubble(tap)
    assert "Book Manali" in html and "on card 2 (“Manali, 4 nights”)" in html
    assert f'href="#msg-{sent.pk}-chip-c2s1"' in html


def test_a_tap_on_a_chip_we_do_not_know_shows_as_before(rcs_conversation):
    tap = Message.objects.create(
        channel=rcs_conversation.channel, conversation=rcs_conversation, direction="in", type="suggestion", body="Yes",
        content={"entity": {"suggestionResponse": {"postBack": {"data": "zzz"}, "plainText": "Yes", "type": "REPLY"}}},
        timestamp=timezone.now(),
    )
    assert "Yes" in bubble(tap) and "Tapped" in bubble(tap)


def test_snippets_admins_share_agents_keep_their_own(agent, admin_user):
    other = UserFactory()
    mine = service.save_snippet(agent, name="Trips", spec=carousel_spec())
    with pytest.raises(NotAllowed):
        service.save_snippet(agent, name="Everyone", spec=carousel_spec(), shared=True)
    shared = service.save_snippet(admin_user, name="Everyone", spec=carousel_spec(), shared=True)
    assert set(service.snippets_for(agent)) == {mine, shared}
    assert set(service.snippets_for(other)) == {shared}
    with pytest.raises(NotAllowed):
        service.snippet_for(other, mine.pk)
    with pytest.raises(NotAllowed):
        service.delete_snippet(agent, shared)
    service.delete_snippet(admin_user, shared)
    with pytest.raises(ApplicationError, match="minimum 2 cards"):
        service.save_snippet(agent, name="Broken", spec={"kind": "carousel", "cards": [{"title": "x"}]})
    assert RichSnippet.objects.count() == 1


def test_views_send_refuse_and_save(client, rcs_conversation, agent, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(agent)
    refused = client.post(reverse("rich:send", args=[rcs_conversation.pk]), {"spec": json.dumps({"kind": "carousel", "cards": [{"title": "x"}]})})
    assert refused.status_code == 422 and "minimum 2 cards" in refused.json()["error"]
    assert client.post(reverse("rich:send", args=[rcs_conversation.pk]), {"spec": "{not json"}).status_code == 422
    saved = client.post(reverse("rich:snippets"), {"name": "Trips", "spec": json.dumps(carousel_spec())})
    assert saved.status_code == 200 and saved.json()["shared"] is False
    assert client.post(reverse("rich:snippets"), {"name": "All", "shared": "1", "spec": json.dumps(carousel_spec())}).status_code == 403
    assert [s["name"] for s in client.get(reverse("rich:snippets")).json()["snippets"]] == ["Trips"]
    upload = client.post(reverse("rich:media_upload"), {"file": SimpleUploadedFile("goa.png", PNG, content_type="image/png")})
    url = upload.json()["url"]
    assert "/rcs-cards/" in url
    client.logout()
    served = client.get(url.split("127.0.0.1:8000", 1)[-1])  # public: Tata fetches it without a session
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    client.force_login(agent)
    html_upload = client.post(reverse("rich:media_upload"), {"file": SimpleUploadedFile("x.png", b"<svg onload=alert(1)>", content_type="image/png")})
    assert html_upload.status_code == 422 and "JPEG, PNG or GIF" in html_upload.json()["error"]


def test_an_agent_cannot_send_on_a_conversation_they_cannot_see(client, rcs_conversation, other_agent):
    client.force_login(other_agent)
    response = client.post(reverse("rich:send", args=[rcs_conversation.pk]), {"spec": json.dumps(carousel_spec())})
    assert response.status_code == 404


def test_the_composer_offers_the_builders_on_rcs_only_and_a_number_that_cannot_send_says_so(client, rcs_conversation, conversation, agent):
    client.force_login(agent)
    rcs = client.get(reverse("outbound:composer", args=[rcs_conversation.pk])).content.decode()
    assert "data-rcs-builder" in rcs and "+ Suggestions" in rcs and ">Carousel<" in rcs and 'data-tab="template"' not in rcs
    whatsapp = client.get(reverse("outbound:composer", args=[conversation.pk])).content.decode()
    assert "data-rcs-builder" not in whatsapp and 'data-tab="template"' in whatsapp
    Channel.objects.filter(pk=rcs_conversation.channel_id).update(access_token="")
    blocked = client.get(reverse("outbound:composer", args=[rcs_conversation.pk])).content.decode()
    assert "no RCS access token yet" in blocked and "<textarea" not in blocked and "data-rcs-builder" not in blocked


@pytest.mark.parametrize("name", sorted(p.stem for p in (pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "rcs_send").glob("*.json")))
def test_every_reference_shape_reads_back_into_the_records_that_write_it(name):
    """Bubbles and taps read stored content through tata_rcs.message_from_content: the inverse of content_json."""
    content = json.loads((pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "rcs_send" / f"{name}.json").read_text())["content"]
    assert tata_rcs.content_json(tata_rcs.message_from_content(content)) == content


@pytest.mark.parametrize("hostile", [None, [], "x", {"richCardDetails": {"carousel": {"contents": [None, 3]}}}, {"plainText": "x", "suggestions": [{"action": {"showLocation": {"coordinates": "north"}}}]}])
def test_hostile_stored_content_reads_without_error(hostile):
    tata_rcs.message_from_content(hostile)


def test_card_text_and_chip_labels_are_escaped_in_the_bubble(rcs_conversation):
    spec = {"kind": "card", "cards": [{"title": "<script>alert(1)</script>", "description": "<img src=x onerror=alert(2)>",
                                        "suggestions": [{"type": "reply", "text": "<b>yes</b>"}]}]}
    message = Message.objects.create(
        channel=rcs_conversation.channel, conversation=rcs_conversation, direction="out", type="rich", status="sent",
        content=tata_rcs.content_json(specs.to_message(spec)), timestamp=timezone.now(),
    )
    html = bubble(message)
    assert "<script>" not in html and "<img src=x" not in html and "<b>yes" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;yes&lt;/b&gt;" in html
