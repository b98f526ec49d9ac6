"""The fake Tata omni API: the reference's paths and JSON, and signed callbacks in the fixtures' shapes."""

import json

import pytest
import responses
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inbox.models import Channel
from inbox.providers import tata_whatsapp
from inbox.providers.tata_whatsapp import TataError, signature_matches
from sandbox import omni
from sandbox.models import SandboxMessage
from tests.inbox.tata_payloads import PARTNER_TOKEN

pytestmark = pytest.mark.django_db

BASE = "http://testserver/sandbox/api/tata"


@pytest.fixture
def channel(settings):
    settings.SANDBOX_CALLBACK_DELAYS = (0, 0, 0)
    return Channel.objects.create(
        kind=Channel.Kind.WHATSAPP, name="Sandbox WhatsApp", phone_number="+919876500001",
        api_base_url=BASE, access_token="sandbox-token", partner_token=PARTNER_TOKEN,
    )


@pytest.fixture
def posted(monkeypatch):
    """Run the callback thread's work inline and collect what it would post."""
    calls = []

    def deliver_now(url, partner_token, callbacks):
        for callback in callbacks:
            calls.append((url, tata_whatsapp.sign(callback.body, partner_token) if partner_token else None, json.loads(callback.body)))

    monkeypatch.setattr(omni, "deliver_later", deliver_now)
    return calls


def auth(token="sandbox-token"):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def customer_wrote(channel, phone="+919812345678"):
    omni.customer_message(channel, phone, text="hi")


def test_send_answers_an_id_and_posts_sent_delivered_read_signed(client, channel, posted):
    customer_wrote(channel)
    payload = tata_whatsapp.message_payload("+919812345678", tata_whatsapp.text_content("Your order shipped"), callback_data="sampark-msg-abc")
    response = client.post(reverse("sandbox:wa_messages"), payload, content_type="application/json", **auth())
    assert response.status_code == 200
    request_id = response.json()["id"]
    assert SandboxMessage.objects.get(request_id=request_id).type == "text"

    assert [body["statuses"][0]["status"] for _, _, body in posted] == ["sent", "delivered", "read"]
    url, signature, sent = posted[0]
    assert url == "http://testserver" + channel_webhook_path(channel)
    assert signature_matches(json.dumps(sent, indent=2, ensure_ascii=False).encode(), PARTNER_TOKEN, signature)
    status = sent["statuses"][0]
    assert status["custom_callback_data"] == "sampark-msg-abc"
    assert status["recipient_id"] == "919812345678" and status["id"].startswith("wamid.")
    assert sent["businessPhoneNumber"] == "+919876500001"
    assert set(status) == {"id", "status", "timestamp", "recipient_id", "conversation", "pricing", "custom_callback_data"}
    assert "conversation" not in posted[2][2]["statuses"][0]  # read carries no conversation, like wa_status_read.json


def channel_webhook_path(channel):
    return reverse("webhooks:tata", args=[channel.webhook_token])


def test_free_form_outside_24_hours_fails_with_131047_but_templates_go(client, channel, posted):
    text = tata_whatsapp.message_payload("+919812345679", tata_whatsapp.text_content("Hello?"), callback_data="sampark-msg-1")
    assert client.post(reverse("sandbox:wa_messages"), text, content_type="application/json", **auth()).status_code == 200
    failed = posted[-1][2]["statuses"][0]
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131047
    template = tata_whatsapp.message_payload("+919812345679", tata_whatsapp.template_content("welcome", "en", []), callback_data="sampark-msg-2")
    client.post(reverse("sandbox:wa_messages"), template, content_type="application/json", **auth())
    assert [p[2]["statuses"][0]["status"] for p in posted[-3:]] == ["sent", "delivered", "read"]


def test_bad_token_and_bad_body_answer_like_tata(client, channel):
    url = reverse("sandbox:wa_messages")
    missing = client.post(url, {}, content_type="application/json")
    assert missing.status_code == 401 and missing.json()["error"] == "AUTH_TOKEN_NOT_FOUND"
    wrong = client.post(url, {}, content_type="application/json", **auth("nope"))
    assert wrong.status_code == 401 and wrong.json()["error_code"] == "AUTH_FAILED"
    bad = client.post(url, {"to": "12", "type": "text", "text": {"body": "x"}}, content_type="application/json", **auth())
    assert bad.status_code == 400 and "phone number" in bad.json()["message"]


def test_our_client_uploads_downloads_and_deletes_media_through_the_sandbox(client, channel):
    upload = client.post(reverse("sandbox:media_upload"), {"file": SimpleUploadedFile("box.jpg", b"\xff\xd8 jpeg", "image/jpeg")}, **auth())
    media_id = upload.json()["id"]
    link = client.get(reverse("sandbox:media_download", args=[media_id]), **auth()).json()
    assert link["mime_type"] == "image/jpeg"
    assert b"".join(client.get(link["url"].replace("http://testserver", "")).streaming_content) == b"\xff\xd8 jpeg"
    assert client.get(reverse("sandbox:file", args=["forged"])).status_code == 403
    assert client.delete(reverse("sandbox:media_delete", args=[media_id]), **auth()).json() == {"success": True}
    gone = client.get(reverse("sandbox:media_download", args=[media_id]), **auth())
    assert gone.status_code == 424 and gone.json()["error"] == "GET_MEDIA_URL"


@responses.activate
def test_the_real_client_speaks_to_the_sandbox(client, channel):
    """inbox.providers.tata_whatsapp against the sandbox, through `responses` passing to the test client."""

    def forward(request):
        method = request.method.lower()
        path = request.url.replace("http://testserver", "")
        kwargs = {"HTTP_AUTHORIZATION": request.headers.get("Authorization", "")}
        if request.body:
            kwargs.update(data=request.body, content_type=request.headers.get("Content-Type"))
        answer = getattr(client, method)(path, **kwargs)
        return answer.status_code, {}, answer.content

    responses.add_callback(responses.POST, f"{BASE}/templates", callback=forward)
    responses.add_callback(responses.GET, f"{BASE}/templates", callback=forward)
    responses.add_callback(responses.POST, f"{BASE}/business/optin_optout", callback=forward)
    responses.add_callback(responses.POST, f"{BASE}/templates/insights/optin", callback=forward)
    template_id = tata_whatsapp.create_template(BASE, "sandbox-token", {"name": "order_update", "language": "en", "category": "UTILITY", "components": [{"type": "BODY", "text": "Hi {{1}}"}]})
    listed = tata_whatsapp.list_templates(BASE, "sandbox-token")
    assert [(t["id"], t["name"], t["status"]) for t in listed] == [(template_id, "order_update", "APPROVED")]
    tata_whatsapp.set_opt_status(BASE, "sandbox-token", ["+919812345678"], opt_in=False, auto_optin_in_days=1)
    tata_whatsapp.enable_template_insights(BASE, "sandbox-token")
    with pytest.raises(TataError) as error:
        tata_whatsapp.create_template(BASE, "sandbox-token", {"name": "order_update", "language": "en", "components": []})
    assert error.value.status_code == 424 and not error.value.retryable


def test_rcs_send_posts_success_delivered_read(client, settings, posted):
    settings.SANDBOX_CALLBACK_DELAYS = (0, 0, 0)
    rcs = Channel.objects.create(kind=Channel.Kind.RCS, name="RCS", phone_number="+919876500002", api_base_url=BASE,
                                 access_token="rcs-token", partner_token=PARTNER_TOKEN)
    response = client.post(reverse("sandbox:rcs_messages"), {"to": "+919812345678", "content": {"plainText": "hello"}},
                           content_type="application/json", **auth("rcs-token"))
    message_id = response.json()["id"]
    events = [(p[2]["entityType"], p[2]["entity"]["eventType"], p[2]["entity"]["messageId"]) for p in posted]
    assert events == [("STATUS_EVENT", "SEND_MESSAGE_SUCCESS", message_id), ("USER_EVENT", "MESSAGE_DELIVERED", message_id),
                      ("USER_EVENT", "MESSAGE_READ", message_id)]
    assert rcs


def test_deliver_later_posts_in_order_off_the_request(channel):
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, "http://hooks.test/x", status=200)
        thread = omni.deliver_later("http://hooks.test/x", "secret", [omni.Callback(0.05, b'{"a":1}'), omni.Callback(0.1, b'{"a":2}')])
        thread.join(timeout=5)
        assert [c.request.body for c in mock.calls] == [b'{"a":1}', b'{"a":2}']
        assert mock.calls[0].request.headers["x-hub-signature-256"] == tata_whatsapp.sign(b'{"a":1}', "secret")
