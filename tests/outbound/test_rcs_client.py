"""The RCS client: the reference's 21 send examples byte for byte, every limit (before any request), every
error class of the reference, and the send answer."""

import datetime
import json
import pathlib
import re

import pytest
import requests
import responses
from responses import matchers

from inbox.providers import tata_rcs as rcs

BASE = "https://rcs.test"
AUTH = "jwt-rcs"
SEND_URL = f"{BASE}/rcs/messages"
ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "tests" / "fixtures" / "rcs_send"
REFERENCE = ROOT / "docs" / "reference" / "tata-omni-whatsapp-rcs-api.txt"

UTC = datetime.timezone.utc
REPLIES = (rcs.Reply("Suggestion #1", "suggestion_1"), rcs.Reply("Suggestion #2", "suggestion_2"))
ACTIONS = {
    "open_url": rcs.OpenUrl("Open website", "open_url", "https://www.tatatelebusiness.com"),
    "dialer_action": rcs.Dial("Call us", "dialer_action", "+919090909090"),
    "show_location": rcs.ShowLocation("Show location", "show_location", 23.0917101, 72.5949363, "Fab India Store"),
    "share_location": rcs.ShareLocation("Share location", "share_location"),
    "create_calendar_event": rcs.CalendarEvent(
        "Add to calendar", "create_calendar_event", "Store visit",
        datetime.datetime(2024, 11, 8, 15, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30))),
        datetime.datetime(2024, 11, 8, 11, 0, tzinfo=UTC),
        "Your appointment at Fab India Store",
    ),
}


def card(n: str = "", suggestions=()) -> rcs.Card:
    return rcs.Card(
        title=f"Card title{' ' + n if n else ''}",
        description=f"Card description{' ' + n if n else ''}",
        media=rcs.Media(f"https://example.com/card{n}.png"),
        suggestions=tuple(suggestions),
    )


def examples() -> dict[str, rcs.RcsMessage]:
    built = {"plain_text": rcs.Text("hello!!!!"), "plain_text_suggested_replies": rcs.Text("hello!!!!", REPLIES)}
    built |= {f"plain_text_{k}": rcs.Text("hello!!!!", (a,)) for k, a in ACTIONS.items()}
    built |= {"card": rcs.RichCard(card()), "card_suggested_replies": rcs.RichCard(card(suggestions=REPLIES))}
    built |= {f"card_{k}": rcs.RichCard(card(suggestions=(a,))) for k, a in ACTIONS.items()}
    built |= {"carousel": rcs.Carousel((card("1"), card("2"))), "carousel_suggested_replies": rcs.Carousel((card("1", REPLIES), card("2", REPLIES)))}
    built |= {f"carousel_{k}": rcs.Carousel((card("1", (a,)), card("2", (a,)))) for k, a in ACTIONS.items()}
    return built


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def test_there_is_one_example_file_per_reference_example():
    listed = REFERENCE.read_text().split("RCS messages can be type of:")[1].split("Request\n")[0].strip().splitlines()
    assert len(listed) == 21
    names = {re.sub(r"[^a-z]+", "_", line.lower().replace("with suggested actions - ", "").replace("with ", "")).strip("_") for line in listed}
    assert names == {p.stem for p in EXAMPLES.glob("*.json")} == set(examples())


def test_the_plain_text_example_is_the_reference_verbatim():
    text = REFERENCE.read_text()
    block = text.split("Examples: \nPlain Text\nExample Value\nSchema\n", 1)[1]
    reference_example = json.JSONDecoder().raw_decode(block)[0]
    assert reference_example == example("plain_text")


@pytest.mark.parametrize("name", sorted(examples()))
def test_builder_output_equals_the_reference_example(name):
    assert rcs.message_payload("+91xxxxxxxxxx", examples()[name], source="api") == example(name)


@responses.activate
@pytest.mark.parametrize("name", sorted(examples()))
def test_each_example_goes_on_the_wire_as_is(name):
    expected = {**example(name), "to": "+919812345678", "source": rcs.SOURCE}
    responses.post(
        SEND_URL,
        json={"id": "cbc63f46-e9df-4722-94c5-47150f77eb49"},
        match=[matchers.json_params_matcher(expected, strict_match=True), matchers.header_matcher({"Authorization": AUTH})],
    )
    assert rcs.send_message(BASE, AUTH, "+919812345678", examples()[name]) == "cbc63f46-e9df-4722-94c5-47150f77eb49"


# ---------------------------------------------------------------- limits: refused before any request

TOO_MANY = tuple(rcs.Reply(f"R{i}", f"r{i}") for i in range(5))
EVENT = ACTIONS["create_calendar_event"]


@pytest.mark.parametrize(
    "message,says",
    [
        (rcs.Text("   "), "needs some text"),
        (rcs.Text("x" * 3073), "at most 3072 characters"),
        (rcs.Text("hi", tuple(rcs.Reply(f"R{i}", f"r{i}") for i in range(12))), "at most 11 suggestions"),
        (rcs.RichCard(card(suggestions=TOO_MANY)), "up to 4 buttons"),
        (rcs.RichCard(rcs.Card()), "needs a title, a description or media"),
        (rcs.RichCard(rcs.Card(title="t" * 201)), "title is at most 200"),
        (rcs.RichCard(rcs.Card(description="d" * 2001)), "description is at most 2000"),
        (rcs.RichCard(card(), orientation="DIAGONAL"), "orientation"),
        (rcs.RichCard(rcs.Card(media=rcs.Media("https://x.in/a.png", height="HUGE"))), "media height"),
        (rcs.RichCard(rcs.Card(media=rcs.Media("javascript:alert(1)"))), "must be an http(s) link"),
        (rcs.RichCard(rcs.Card(title="t", media=rcs.Media("https://x.in/" + "a" * 2048))), "longer than 2048"),
        (rcs.Carousel((card("1"),)), "minimum 2 cards and maximum 10 cards; this one has 1"),
        (rcs.Carousel(tuple(card(str(i)) for i in range(11))), "minimum 2 cards and maximum 10 cards; this one has 11"),
        (rcs.Carousel((card("1"), card("2", TOO_MANY))), "Card 2 of the carousel can include up to 4 buttons"),
        (rcs.Carousel((card("1"), card("2")), width="WIDE"), "card width"),
        (rcs.Text("hi", (rcs.Reply("A label much longer than twenty-five", "p"),)), "longer than 25 characters"),
        (rcs.Text("hi", (rcs.Reply("Yes", ""),)), "postback data of 1 to 2048"),
        (rcs.Text("hi", (rcs.Reply("Yes", "p" * 2049),)), "postback data of 1 to 2048"),
        (rcs.Text("hi", (rcs.Reply("Yes", "same"), rcs.Reply("No", "same"))), "share the postback data"),
        (rcs.Text("hi", (rcs.Reply(" ", "p"),)), "needs a label"),
        (rcs.Text("hi", (rcs.OpenUrl("Open", "o", "javascript:alert(1)"),)), "must be an http(s) link"),
        (rcs.Text("hi", (rcs.Dial("Call", "d", "9090909090"),)), "international form"),
        (rcs.Text("hi", (rcs.ShowLocation("Map", "m", 91.0, 0.0),)), "latitude is between -90 and 90"),
        (rcs.Text("hi", (rcs.ShowLocation("Map", "m", float("nan"), 0.0),)), "latitude is between -90 and 90"),
        (rcs.Text("hi", (rcs.CalendarEvent("Cal", "c", " ", EVENT.start, EVENT.end),)), "needs a title"),
        (rcs.Text("hi", (rcs.CalendarEvent("Cal", "c", "T", EVENT.end, EVENT.start),)), "must end after it starts"),
        (rcs.Text("hi", (rcs.CalendarEvent("Cal", "c", "T", datetime.datetime(2024, 1, 1), datetime.datetime(2024, 1, 2)),)), "time zone"),
        (rcs.Text("hi", ("not a suggestion",)), "Not a suggestion"),
    ],
)
@responses.activate
def test_every_limit_is_named_and_checked_before_any_request(message, says):
    with pytest.raises(rcs.RcsContentError) as caught:
        rcs.send_message(BASE, AUTH, "+919812345678", message)
    assert says in caught.value.message
    assert caught.value.retryable is False
    assert len(responses.calls) == 0


@responses.activate
def test_the_limits_themselves_pass():
    responses.post(SEND_URL, json={"id": "ok"})
    ten = rcs.Carousel(tuple(card(str(i), tuple(rcs.Reply(f"R{j}", f"r{j}") for j in range(4))) for i in range(10)))
    rcs.send_message(BASE, AUTH, "+919812345678", ten)
    rcs.send_message(BASE, AUTH, "+919812345678", rcs.Text("x" * 3072, tuple(rcs.Reply(f"R{i}", f"r{i}") for i in range(11))))
    rcs.send_message(BASE, AUTH, "+919812345678", rcs.RichCard(rcs.Card(title="t" * 200, description="d" * 2000)))
    assert len(responses.calls) == 3


@responses.activate
def test_the_recipient_must_be_international():
    with pytest.raises(rcs.RcsContentError, match="international form"):
        rcs.send_message(BASE, AUTH, "9812345678", rcs.Text("hi"))
    assert len(responses.calls) == 0


# ---------------------------------------------------------------- the reference's errors


@responses.activate
def test_400_title_and_code():
    responses.post(SEND_URL, status=400, json={"title": "Invalid Phone number", "code": 400})
    with pytest.raises(rcs.RcsInvalidRequest) as caught:
        rcs.send_message(BASE, AUTH, "+919812345678", rcs.Text("hi"))
    assert caught.value.message == "Tata refused the RCS message: Invalid Phone number."
    assert caught.value.code == "400" and caught.value.retryable is False


@responses.activate
def test_401_names_the_token_and_its_form():
    responses.post(SEND_URL, status=401, json={
        "status": "ERROR", "status_code": 401, "error": "UNAUTHORIZED", "error_code": "AUTH_FAILED",
        "description": "authentication : JWT - Auth-Token not valid or expired",
    })
    with pytest.raises(rcs.RcsUnauthorized) as caught:
        rcs.send_message(BASE, AUTH, "+919812345678", rcs.Text("hi"))
    assert "JWT - Auth-Token not valid or expired" in caught.value.message and "Test connection" in caught.value.message
    assert caught.value.retryable is False and caught.value.code == "AUTH_FAILED"


@responses.activate
def test_403_bot_conversation_limit_in_an_agents_words():
    responses.post(SEND_URL, status=403, json={"message": "Bot conversation limit is exceeded", "error": "Forbidden", "statusCode": 403})
    with pytest.raises(rcs.RcsBotLimitExceeded) as caught:
        rcs.send_message(BASE, AUTH, "+919812345678", rcs.Text("hi"))
    assert caught.value.message == rcs.BOT_LIMIT_TEXT
    assert "conversation limit" in caught.value.message and caught.value.retryable is False


@responses.activate
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_busy_and_server_errors_are_retryable(status):
    responses.post(SEND_URL, status=status, body="busy")
    with pytest.raises(rcs.RcsError) as caught:
        rcs.send_message(BASE, AUTH, "+919812345678", rcs.Text("hi"))
    assert caught.value.retryable is True and caught.value.status_code == status


@responses.activate
def test_other_403_is_permanent_and_keeps_tatas_words():
    responses.post(SEND_URL, status=403, json={"message": "Bot is not launched", "error": "Forbidden", "statusCode": 403})
    with pytest.raises(rcs.RcsError) as caught:
        rcs.send_message(BASE, AUTH, "+919812345678", rcs.Text("hi"))
    assert not isinstance(caught.value, rcs.RcsBotLimitExceeded)
    assert caught.value.message == "Bot is not launched" and caught.value.retryable is False


@responses.activate
@pytest.mark.parametrize(
    "failure,in_doubt",
    [(requests.ConnectTimeout("connect"), False), (requests.ReadTimeout("read"), True), (requests.ConnectionError("refused"), False)],
)
def test_timeouts_and_connection_errors_are_retryable_and_say_whether_tata_may_have_it(failure, in_doubt):
    responses.post(SEND_URL, body=failure)
    with pytest.raises(rcs.TataError) as caught:
        rcs.send_message(BASE, AUTH, "+919812345678", rcs.Text("hi"))
    assert caught.value.retryable is True
    assert rcs.may_have_been_accepted(caught.value) is in_doubt


@responses.activate
@pytest.mark.parametrize("answer", [{"ok": True}, {"id": ""}, {"id": 12}, ["x"]])
def test_a_send_answer_without_an_id_is_an_error(answer):
    responses.post(SEND_URL, json=answer)
    with pytest.raises(rcs.RcsError, match="no message id"):
        rcs.send_message(BASE, AUTH, "+919812345678", rcs.Text("hi"))


@responses.activate
def test_a_send_answer_that_is_not_json_is_an_error():
    responses.post(SEND_URL, body="<html>", status=200)
    with pytest.raises(rcs.RcsError, match="not JSON"):
        rcs.send_message(BASE, AUTH, "+919812345678", rcs.Text("hi"))


@responses.activate
def test_check_authorization_reads_401_as_refused_and_400_as_authenticated():
    responses.post(SEND_URL, status=401, json={"status": "ERROR", "error_code": "AUTH_FAILED"}, match=[matchers.header_matcher({"Authorization": "plain"})])
    responses.post(SEND_URL, status=400, json={"title": "Invalid Phone number", "code": 400}, match=[matchers.header_matcher({"Authorization": "Bearer x"})])
    assert rcs.check_authorization(BASE, "plain") is False
    assert rcs.check_authorization(BASE, "Bearer x") is True
    assert json.loads(responses.calls[0].request.body)["to"] == ""  # a probe that cannot deliver
