"""Hostile posts to the webhook (issue #11, findings 5, 12, 19): stored first, answered 4xx, never 5xx."""

import json

import pytest

from inbox.ingest import parse as ingest
from inbox.models import WebhookEvent
from inbox.providers.tata_whatsapp import sign
from inbox.webhooks import REJECTED_BODY_KEPT
from tests.inbox.tata_payloads import fixture_bytes, make_channel, post_raw

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    return make_channel()


@pytest.mark.parametrize("depth", [70, 1_000, 100_000])
def test_deeply_nested_json_is_stored_answered_400_and_kept_unprocessable(client, channel, depth):
    body = b'{"entry": ' + b"[" * depth + b"]" * depth + b"}"
    response = post_raw(client, channel, body)
    assert response.status_code == 400  # was 500 (RecursionError) and nothing stored
    assert "nested" in response.json()["detail"]
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert event.status == "unprocessable" and bytes(event.body) == body
    with pytest.raises(ingest.Unprocessable, match="nested"):  # a replay reads it the same way
        ingest.parse_body(bytes(event.body))


@pytest.mark.parametrize("body", [b'{"messages": NaN}', b'{"id": 1' + b"0" * 5000 + b"}", b"\xff\xfe{}"])
def test_other_bodies_python_reads_but_no_database_stores_are_not_json(client, channel, body):
    response = post_raw(client, channel, body)
    assert response.status_code == 400
    assert WebhookEvent.objects.get().status == "unprocessable"


def test_a_multipart_body_is_stored_then_answered_400(client, channel):
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.json"\r\n\r\n{"x": 1}\r\n--b--\r\n'
    response = client.post(
        f"/webhooks/tata/{channel.webhook_token}/", data=body, content_type="multipart/form-data; boundary=b",
        HTTP_X_HUB_SIGNATURE_256=sign(body, channel.partner_token),
    )
    assert response.status_code == 400
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert event.status == "unprocessable" and bytes(event.body) == body


@pytest.mark.parametrize("signature", ["sha256=é" + "0" * 63, "sha256=\u2603", "ünïcødé"])
def test_a_non_ascii_signature_is_refused_with_403_not_500(client, channel, signature):
    response = post_raw(client, channel, fixture_bytes("wa_in_text.json"), signature=signature)
    assert response.status_code == 403
    assert WebhookEvent.objects.get().status == "rejected"


def test_an_unsigned_post_keeps_only_a_bounded_prefix_and_says_so(client, channel):
    body = json.dumps({"messages": {"padding": "x" * 3_000_000}}).encode()
    response = post_raw(client, channel, body, signature=None)
    assert response.status_code == 403
    event = WebhookEvent.objects.get()
    assert event.status == "rejected"
    assert bytes(event.body) == body[:REJECTED_BODY_KEPT]
    assert f"first {REJECTED_BODY_KEPT} of {len(body)} bytes" in event.error


def test_a_small_rejected_post_is_kept_whole(client, channel):
    body = fixture_bytes("wa_in_text.json")
    post_raw(client, channel, body, signature="sha256=" + "0" * 64)
    event = WebhookEvent.objects.get()
    assert bytes(event.body) == body and "bytes are kept" not in event.error


def test_header_values_are_stored_clean(client, channel):
    post_raw(client, channel, fixture_bytes("wa_in_text.json"), HTTP_USER_AGENT="probe\x00\ud800" + "x" * 1000)
    headers = WebhookEvent.objects.get().headers
    assert headers["User-Agent"].startswith("probe\ufffd\ufffd") and len(headers["User-Agent"]) == 500


@pytest.mark.parametrize(
    "body, expected",
    [
        (b'{"a": "\xed\xa0\x80"}', {"a": "\ufffd"}),  # a surrogate encoded in UTF-8: json.loads passes it through
        (b'{"\\u0000k": "\\uDFFF"}', {"\ufffdk": "\ufffd"}),
        ('{"a": "\ud800\x00"}'.encode("utf-8", "surrogatepass").replace(b"\x00", b"\\u0000"), {"a": "\ufffd\ufffd"}),
        ('{"a": "ok"}'.encode("utf-16"), {"a": "ok"}),
        (b'{"a": "' + b"{[" * 100 + b'"}', {"a": "{[" * 100}),  # brackets in a string are not nesting
    ],
)
def test_every_string_read_from_a_body_is_clean_whichever_way_it_was_written(body, expected):
    from core.untrusted import loads_json

    assert loads_json(body) == expected
