"""The sandbox speaks RCS: every example the reference lists is accepted at /rcs/messages and shown on the
customer's phone; what the reference refuses is refused with its error bodies; Sampark's own client and
the Test connection action work against it."""

import json
import pathlib

import pytest
from django.urls import reverse

from inbox import channels
from inbox.models import Channel
from inbox.providers import tata_rcs
from sandbox import omni
from sandbox.models import SandboxMessage
from tests.inbox.tata_payloads import PARTNER_TOKEN

pytestmark = pytest.mark.django_db

BASE = "http://testserver/sandbox/api/tata"
EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "rcs_send"
CUSTOMER = "+919812345678"


@pytest.fixture
def rcs(settings, sales_team):
    settings.SANDBOX_CALLBACK_DELAYS = (0, 0, 0)
    return Channel.objects.create(
        kind=Channel.Kind.RCS, name="Sandbox RCS", phone_number="+919876500002", api_base_url=BASE,
        access_token="rcs-token", partner_token=PARTNER_TOKEN, team=sales_team,
    )


@pytest.fixture
def posted(monkeypatch):
    calls = []
    monkeypatch.setattr(omni, "deliver_later", lambda url, token, callbacks: calls.extend(json.loads(c.body) for c in callbacks))
    return calls


def send(client, body, token="rcs-token"):
    return client.post(reverse("sandbox:rcs_messages"), body, content_type="application/json", HTTP_AUTHORIZATION=token)


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_every_reference_example_is_accepted_and_shown_on_the_phone(client, logged_in, admin_user, rcs, posted, name):
    body = {**json.loads((EXAMPLES / f"{name}.json").read_text()), "to": CUSTOMER}
    response = send(client, body)
    assert response.status_code == 200, response.content
    message = SandboxMessage.objects.get(provider_message_id=response.json()["id"])
    assert [p["entity"]["eventType"] for p in posted] == ["SEND_MESSAGE_SUCCESS", "MESSAGE_DELIVERED", "MESSAGE_READ"]

    page = logged_in(admin_user).get(reverse("sandbox:customer"), {"channel": rcs.pk, "phone": CUSTOMER}).content.decode()
    view = omni.rcs_view(body["content"])
    if view["text"]:
        assert "hello!!!!" in page
    for card in view["cards"]:
        assert card["title"] in page and card["description"] in page and "🖼" in page
    if view["carousel"]:
        assert 'aria-label="Carousel of 2 cards"' in page
    chips = view["chips"] + [c for card in view["cards"] for c in card["chips"]]
    for chip in chips:
        assert chip["title"] in page
        if chip["kind"] == "reply":
            assert f'name="choice_id" value="{chip["postback"]}"' in page  # tappable
    assert omni.business_text(message)


@pytest.mark.parametrize(
    "content,title",
    [
        (None, "content is required"),
        ({}, "content is required"),
        ({"plainText": ""}, "plainText must be a non-empty string"),
        ({"plainText": "a", "richCardDetails": {}}, "not both"),
        ({"richCardDetails": {"carousel": {"cardWidth": "MEDIUM_WIDTH", "contents": [{"cardTitle": "only one"}]}}}, "minimum 2 cards and maximum 10 cards"),
        ({"richCardDetails": {"carousel": {"contents": [{"cardTitle": str(i)} for i in range(11)]}}}, "minimum 2 cards and maximum 10 cards"),
        ({"richCardDetails": {"standalone": {"cardOrientation": "VERTICAL", "content": {"cardTitle": "t", "suggestions": [
            {"reply": {"plainText": f"R{i}", "postBack": {"data": f"r{i}"}}} for i in range(5)]}}}}, "up to 4 buttons"),
        ({"plainText": "hi", "suggestions": [{"reply": {"plainText": "Yes"}}]}, "plainText and postBack.data"),
        ({"plainText": "hi", "suggestions": [{"action": {"plainText": "Go", "postBack": {"data": "g"}, "openUrl": {"url": "javascript:alert(1)"}}}]}, "http(s) URL"),
        ({"plainText": "hi", "suggestions": [{"action": {"plainText": "Go", "postBack": {"data": "g"}, "teleport": {}}}]}, "has none of"),
        ({"richCardDetails": {"standalone": {"content": {}}}}, "needs a title, a description or media"),
    ],
)
def test_what_the_reference_refuses_is_refused_with_its_400_body(client, rcs, posted, content, title):
    response = send(client, {"to": CUSTOMER, "content": content, "source": "api"})
    assert response.status_code == 400
    assert response.json()["code"] == 400 and title in response.json()["title"]
    assert not posted and not SandboxMessage.objects.exists()


def test_invalid_phone_number_is_the_reference_body(client, rcs):
    response = send(client, {"to": "12", "content": {"plainText": "hi"}})
    assert (response.status_code, response.json()) == (400, {"title": "Invalid Phone number", "code": 400})


def test_unauthorized_is_the_reference_401(client, rcs):
    response = send(client, {"to": CUSTOMER, "content": {"plainText": "hi"}}, token="wrong")
    assert response.status_code == 401 and response.json()["error_code"] == "AUTH_FAILED"


def test_bot_conversation_limit_is_the_reference_403(client, rcs, posted, settings):
    settings.SANDBOX_RCS_BOT_CONVERSATION_LIMIT = 1
    assert send(client, {"to": CUSTOMER, "content": {"plainText": "hi"}}).status_code == 200
    assert send(client, {"to": CUSTOMER, "content": {"plainText": "again"}}).status_code == 200  # same conversation
    response = send(client, {"to": "+919812345679", "content": {"plainText": "hi"}})
    assert (response.status_code, response.json()) == (403, {"message": "Bot conversation limit is exceeded", "error": "Forbidden", "statusCode": 403})


def test_our_client_sends_every_shape_to_the_sandbox(live_server, settings, rcs, posted):
    """Sampark's own RCS client against the sandbox over real HTTP; the 403 comes back typed."""
    base = live_server.url + "/sandbox/api/tata"
    card = tata_rcs.Card("Title", "Text", tata_rcs.Media("https://example.com/a.png"), (tata_rcs.Reply("Yes", "yes"),))
    for message in (tata_rcs.Text("hi", (tata_rcs.ShareLocation("Share", "share"),)), tata_rcs.RichCard(card), tata_rcs.Carousel((card, card))):
        assert tata_rcs.send_message(base, "rcs-token", CUSTOMER, message)
    settings.SANDBOX_RCS_BOT_CONVERSATION_LIMIT = 1
    with pytest.raises(tata_rcs.RcsBotLimitExceeded):
        tata_rcs.send_message(base, "rcs-token", "+919812345679", tata_rcs.Text("hi"))


def test_test_connection_against_the_sandbox(live_server, rcs):
    Channel.objects.filter(pk=rcs.pk).update(api_base_url=live_server.url + "/sandbox/api/tata")
    rcs.refresh_from_db()
    ok, text = channels.test_connection(rcs)
    assert ok and "accepts the token sent as “Authorization: <token>" in text
    rcs.access_token = "not-the-token"
    ok, text = channels.test_connection(rcs)
    assert not ok and "refuses the token in both forms" in text


def test_test_connection_on_a_whatsapp_channel_against_the_sandbox(live_server):
    whatsapp = Channel.objects.create(
        name="Sandbox WhatsApp", phone_number="+919876500001", api_base_url=live_server.url + "/sandbox/api/tata",
        access_token="wa-token", auth_scheme=Channel.AuthScheme.BEARER,
    )
    ok, text = channels.test_connection(whatsapp)
    assert ok and "accepts the token sent as “Authorization: Bearer <token>”" in text


def test_a_tapped_reply_chip_names_our_message_and_lands_linked_to_it(client, rcs, posted, django_capture_on_commit_callbacks):
    from inbox.models import Conversation, Message
    from tests.factories import ContactPhoneFactory
    from tests.inbox.tata_payloads import post_raw

    contact = ContactPhoneFactory(number=CUSTOMER).contact
    body = json.loads((EXAMPLES / "plain_text_suggested_replies.json").read_text()) | {"to": CUSTOMER}
    sent_id = send(client, body).json()["id"]
    conversation = Conversation.objects.create(channel=rcs, contact=contact)
    ours = Message.objects.create(
        channel=rcs, conversation=conversation, direction="out", source="agent", body="hello!!!!", status="sent",
        provider_message_id=sent_id, timestamp=SandboxMessage.objects.get(provider_message_id=sent_id).created_at,
    )
    _, tap = omni.customer_rcs_message(
        rcs, CUSTOMER, choice_id="suggestion_2", choice_title="Suggestion #2", reply_to=SandboxMessage.objects.get(provider_message_id=sent_id)
    )
    assert json.loads(tap)["metaData"]["orgMsgId"] == sent_id
    with django_capture_on_commit_callbacks(execute=True):
        assert post_raw(client, rcs, tap).status_code == 200
    answer = Message.objects.get(direction="in")
    assert (answer.type, answer.body, answer.reply_to) == ("suggestion", "Suggestion #2", ours)


def test_the_customer_taps_a_suggested_action_on_a_carousel_card(logged_in, admin_user, rcs, posted, monkeypatch):
    """Chips are drawn on their card, replies and actions alike; a tap goes out as Tata's suggestionResponse
    (type ACTION for an action) naming the business message, and the thread redraws as an htmx swap."""
    body = json.loads((EXAMPLES / "carousel_dialer_action.json").read_text()) | {"to": CUSTOMER}
    client = logged_in(admin_user)
    sent_id = send(client, body).json()["id"]
    page = client.get(reverse("sandbox:customer"), {"channel": rcs.pk, "phone": CUSTOMER}).content.decode()
    assert page.count('value="ACTION"') == 2 and "📞 Call us" in page and "+919090909090" in page
    webhook_posts = []
    monkeypatch.setattr(omni, "post_signed", lambda url, token, payload: webhook_posts.append(json.loads(payload)) or type("R", (), {"status_code": 200})())
    tapped = client.post(reverse("sandbox:send"), {
        "channel": rcs.pk, "phone": CUSTOMER, "kind": "text", "choice_id": "dialer_action", "choice_title": "Call us", "choice_type": "ACTION",
        "reply_to": SandboxMessage.objects.get(provider_message_id=sent_id).pk,
    }, HTTP_HX_REQUEST="true")
    assert tapped.status_code == 200, tapped.content
    assert 'aria-label="Carousel of 2 cards"' in tapped.content.decode()  # the #thread partial draws cards and chips too
    entity = webhook_posts[0]["entity"]
    assert entity["suggestionResponse"] == {"postBack": {"data": "dialer_action"}, "plainText": "Call us", "type": "ACTION"}
    assert webhook_posts[0]["metaData"]["orgMsgId"] == sent_id
