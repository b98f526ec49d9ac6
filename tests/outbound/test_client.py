"""The Tata client: every request shape we send (field names as in the Tata reference) and every error class."""

import datetime
import json

import pytest
import requests
import responses
from responses import matchers

from inbox.providers import tata_whatsapp as tata

BASE = "https://tata.test"
TOKEN = "Bearer jwt-abc"  # functions take the whole Authorization value (Channel.authorization)
AUTH = matchers.header_matcher({"Authorization": "Bearer jwt-abc"})


def sent_json(call) -> dict:
    return json.loads(call.request.body)


@responses.activate
def test_text_message_shape():
    responses.post(f"{BASE}/whatsapp-cloud/messages", json={"id": "tata-1"}, match=[AUTH])
    payload = tata.message_payload(
        "+919812345678", tata.text_content("Hello 😇\nsecond line https://x.in", preview_url=True), callback_data="sampark-msg-u1"
    )
    assert tata.send_message(BASE, TOKEN, payload) == "tata-1"
    assert sent_json(responses.calls[0]) == {
        "to": "+919812345678",
        "type": "text",
        "text": {"body": "Hello 😇\nsecond line https://x.in", "preview_url": True},
        "source": "sampark",
        "metaData": {"custom_callback_data": "sampark-msg-u1"},
    }


@responses.activate
def test_reply_quotes_the_original_by_wamid():
    responses.post(f"{BASE}/whatsapp-cloud/messages", json={"id": "tata-2"})
    payload = tata.message_payload("+91981", tata.text_content("yes"), callback_data="c", reply_to_provider_id="wamid.X")
    tata.send_message(BASE, TOKEN, payload)
    assert sent_json(responses.calls[0])["context"] == {"message_id": "wamid.X"}


def test_media_location_and_interactive_shapes():
    assert tata.media_content("image", "m1", caption="Invoice") == {"type": "image", "image": {"id": "m1", "caption": "Invoice"}}
    assert tata.media_content("document", "m2", caption="c", filename="bill.pdf") == {
        "type": "document", "document": {"id": "m2", "caption": "c", "filename": "bill.pdf"}
    }
    assert tata.media_content("audio", "m3", caption="ignored") == {"type": "audio", "audio": {"id": "m3"}}
    assert tata.location_content(23.09, 72.59, name="Fab India Store", address="Mumbai") == {
        "type": "location", "location": {"latitude": 23.09, "longitude": 72.59, "name": "Fab India Store", "address": "Mumbai"}
    }
    buttons = tata.buttons_content("Pick one", [("b1", "Yes"), ("b2", "No")], footer="f")
    assert buttons == {
        "type": "interactive",
        "interactive": {
            "type": "button", "body": {"text": "Pick one"}, "footer": {"text": "f"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "b1", "title": "Yes"}}, {"type": "reply", "reply": {"id": "b2", "title": "No"}}]},
        },
    }
    listing = tata.list_content("Menu", "Choose", [{"title": "Plans", "rows": [{"id": "r1", "title": "Gold"}]}], header="Our plans")
    assert listing["interactive"] == {
        "type": "list", "body": {"text": "Menu"}, "header": {"type": "text", "text": "Our plans"},
        "action": {"button": "Choose", "sections": [{"title": "Plans", "rows": [{"id": "r1", "title": "Gold"}]}]},
    }


@responses.activate
def test_template_message_shape():
    responses.post(f"{BASE}/whatsapp-cloud/messages", json={"id": "tata-3"})
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Meera"}]}]
    payload = tata.message_payload("+919812345678", tata.template_content("welcome", "en", components), callback_data="cb")
    tata.send_message(BASE, TOKEN, payload)
    assert sent_json(responses.calls[0]) == {
        "to": "+919812345678",
        "type": "template",
        "template": {"name": "welcome", "language": {"code": "en"}, "components": components},
        "source": "sampark",
        "metaData": {"custom_callback_data": "cb"},
    }


@responses.activate
@pytest.mark.parametrize("path,function", [("/whatsapp-cloud/media", tata.upload_media), ("/whatsapp-cloud/media/handle", tata.upload_media_handle)])
def test_media_upload_is_multipart_file(path, function):
    responses.post(f"{BASE}{path}", json={"id": "5162148457229086"}, match=[AUTH])
    assert function(BASE, TOKEN, file_name="a.png", content=b"\x89PNG...", mime_type="image/png") == "5162148457229086"
    request = responses.calls[0].request
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="file"; filename="a.png"' in request.body
    assert b"Content-Type: image/png" in request.body


@responses.activate
def test_delete_media():
    responses.delete(f"{BASE}/whatsapp-cloud/media/516", json={"success": True}, match=[AUTH])
    tata.delete_media(BASE, TOKEN, "516")
    assert len(responses.calls) == 1


@responses.activate
def test_create_and_list_templates():
    definition = {"name": "welcome", "language": "en", "category": "MARKETING", "components": [{"type": "BODY", "text": "Hi"}]}
    responses.post(f"{BASE}/templates", json={"id": "bf07"}, match=[matchers.json_params_matcher(definition), AUTH])
    assert tata.create_template(BASE, TOKEN, definition) == "bf07"
    responses.get(
        f"{BASE}/templates",
        json={"data": [{"id": "1", "name": "a"}], "paging": {"cursors": {"after": "P2"}, "next": "https://…"}},
        match=[matchers.query_param_matcher({})],
    )
    responses.get(f"{BASE}/templates", json={"data": [{"id": "2", "name": "b"}], "paging": {"cursors": {"after": "P3"}}}, match=[matchers.query_param_matcher({"after": "P2"})])
    assert [t["id"] for t in tata.list_templates(BASE, TOKEN)] == ["1", "2"]


@responses.activate
def test_insights_query_and_both_answer_shapes():
    responses.get(
        f"{BASE}/templates/insights",
        match=[matchers.query_param_matcher({"startDate": "2024-05-01", "endDate": "2024-05-07", "granularity": "DAILY", "templateIDs": "817,818"})],
        json={"data": {"granularity": "DAILY", "data_points": [{"template_id": "817", "start": 1716336000, "end": 1716422400, "sent": 5, "delivered": 4, "read": 2}]}},
    )
    points = tata.template_insights(BASE, TOKEN, ["817", "818"], datetime.date(2024, 5, 1), datetime.date(2024, 5, 7))
    assert points[0]["sent"] == 5
    responses.get(
        f"{BASE}/templates/insights-by-name",
        match=[matchers.query_param_matcher({"name": "hello", "language": "en", "startDate": "2024-05-01", "endDate": "2024-05-07", "granularity": "DAILY"})],
        json={"data": [{"granularity": "DAILY", "data_points": [{"template_id": "1", "start": 1, "end": 2, "sent": 1, "delivered": 1, "read": 0}]}]},
    )
    assert len(tata.template_insights_by_name(BASE, TOKEN, "hello", "en", datetime.date(2024, 5, 1), datetime.date(2024, 5, 7))) == 1


@responses.activate
def test_insights_optin_and_opt_out_shapes():
    responses.post(f"{BASE}/templates/insights/optin", json={"success": True}, match=[AUTH])
    tata.enable_template_insights(BASE, TOKEN)
    responses.post(
        f"{BASE}/business/optin_optout",
        json={"success": True},
        match=[matchers.json_params_matcher({"recipient_numbers": ["+919812345678", "+919812345679"], "type": "optout", "auto_optin_in_days": 30})],
    )
    tata.set_opt_status(BASE, TOKEN, ["+919812345678", "+919812345679"], opt_in=False, auto_optin_in_days=30)
    responses.post(f"{BASE}/business/optin_optout", json={"success": True}, match=[matchers.json_params_matcher({"recipient_numbers": ["+919812345678"], "type": "optin"})])
    tata.set_opt_status(BASE, TOKEN, ["+919812345678"], opt_in=True, auto_optin_in_days=30)


# ---------------------------------------------------------------- errors


def _send():
    return tata.send_message(BASE, TOKEN, tata.message_payload("+91981", tata.text_content("x"), callback_data="c"))


@responses.activate
def test_401_is_permanent_with_tata_description():
    responses.post(f"{BASE}/whatsapp-cloud/messages", status=401, json={"status": "ERROR", "status_code": 401, "error": "UNAUTHORIZED", "error_code": "AUTH_FAILED", "description": "JWT - Auth-Token not valid"})
    with pytest.raises(tata.TataError) as caught:
        _send()
    assert not caught.value.retryable
    assert caught.value.message == "JWT - Auth-Token not valid"
    assert caught.value.code == "AUTH_FAILED"


@responses.activate
def test_424_is_permanent_and_carries_meta_message():
    responses.post(f"{BASE}/whatsapp-cloud/messages", status=424, json={"error": "SEND_MESSAGE", "meta": {"message": "(#131047) Re-engagement message", "code": 131047}, "message": "Can't send message", "traceId": "t"})
    with pytest.raises(tata.TataError) as caught:
        _send()
    assert not caught.value.retryable
    assert "Re-engagement message" in caught.value.message


@responses.activate
def test_424_with_meta_throttling_code_is_retryable():
    responses.post(f"{BASE}/whatsapp-cloud/messages", status=424, json={"error": "SEND_MESSAGE", "meta": {"message": "(#130429) Rate limit hit", "code": 130429}, "message": "Can't send message"})
    with pytest.raises(tata.TataError) as caught:
        _send()
    assert caught.value.retryable


@responses.activate
def test_400_is_permanent():
    responses.post(f"{BASE}/whatsapp-cloud/messages", status=400, json={"message": "Bad Request Exception", "details": ["to must be a phone number"]})
    with pytest.raises(tata.TataError) as caught:
        _send()
    assert not caught.value.retryable and caught.value.status_code == 400


@responses.activate
@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_throttling_and_5xx_are_retryable_and_not_in_doubt(status):
    responses.post(f"{BASE}/whatsapp-cloud/messages", status=status, body="oops")
    with pytest.raises(tata.TataError) as caught:
        _send()
    assert caught.value.retryable
    assert not tata.may_have_been_accepted(caught.value)


@responses.activate
def test_read_timeout_is_retryable_but_may_have_been_accepted():
    responses.post(f"{BASE}/whatsapp-cloud/messages", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(tata.TataError) as caught:
        _send()
    assert caught.value.retryable
    assert tata.may_have_been_accepted(caught.value)


@responses.activate
def test_connect_errors_are_retryable_and_certainly_not_sent():
    responses.post(f"{BASE}/whatsapp-cloud/messages", body=requests.ConnectTimeout("connect timed out"))
    with pytest.raises(tata.TataError) as caught:
        _send()
    assert caught.value.retryable and not tata.may_have_been_accepted(caught.value)


@responses.activate
def test_ok_without_id_is_an_error():
    responses.post(f"{BASE}/whatsapp-cloud/messages", json={"ok": True})
    with pytest.raises(tata.TataError):
        _send()


def test_every_request_has_a_timeout(monkeypatch):
    seen = []

    def fake_request(session, method, url, **kwargs):
        seen.append(kwargs.get("timeout"))
        raise requests.ConnectionError("refused")

    monkeypatch.setattr(tata.requests.Session, "request", fake_request)
    calls = [
        _send,
        lambda: tata.upload_media(BASE, TOKEN, file_name="a", content=b"x", mime_type="image/png"),
        lambda: tata.create_template(BASE, TOKEN, {}),
        lambda: tata.list_templates(BASE, TOKEN),
        lambda: tata.enable_template_insights(BASE, TOKEN),
        lambda: tata.set_opt_status(BASE, TOKEN, ["+91"], opt_in=True),
        lambda: tata.delete_media(BASE, TOKEN, "1"),
    ]
    for call in calls:
        with pytest.raises(tata.TataError):
            call()
    assert all(seen) and len(seen) == len(calls)


def test_authorization_forms():
    assert tata.authorization("jwt-abc") == "jwt-abc"  # the reference's form is the default
    assert tata.authorization("jwt-abc", tata.AUTH_BEARER) == "Bearer jwt-abc"
    # A token pasted with its prefix is neither prefixed twice nor sent with it in the plain form.
    assert tata.authorization(" Bearer jwt-abc ", tata.AUTH_BEARER) == "Bearer jwt-abc"
    assert tata.authorization("bearer jwt-abc", tata.AUTH_PLAIN) == "jwt-abc"
