"""Inbound media: downloaded through Tata's media API into our storage, with visible failure and retry."""

import base64
import hashlib

import pytest
import responses

from core.errors import Conflict, NotAllowed
from inbox import services
from inbox.media import fetch_attachment
from inbox.models import Attachment
from tests.inbox.tata_payloads import capture_events, fixture_json, make_channel, post_fixture, post_payload

pytestmark = pytest.mark.django_db

IMAGE_ID = "1234567890123456"
MEDIA_API = f"https://tata.test/whatsapp-cloud/media/download/{IMAGE_ID}"
SIGNED_LINK = "https://s3.test/1677836099076_yUiMQSj0wd?X-Amz-Signature=abc"


@pytest.fixture
def channel():
    return make_channel()


@pytest.fixture
def deliver(client, channel, django_capture_on_commit_callbacks):
    def post(name=None, payload=None):
        with django_capture_on_commit_callbacks(execute=True):
            response = post_payload(client, channel, payload) if payload else post_fixture(client, channel, name)
        assert response.status_code == 200

    return post


@responses.activate
def test_image_is_fetched_by_id_then_from_the_signed_link_without_our_token(deliver):
    responses.get(MEDIA_API, json={"url": SIGNED_LINK, "mime_type": "image/jpeg"})
    responses.get(SIGNED_LINK, body=b"\xff\xd8\xffjpeg", content_type="image/jpeg")  # a JPEG's first bytes
    deliver("wa_in_image.json")
    attachment = Attachment.objects.get()
    assert attachment.status == "ready" and attachment.attempts == 1
    assert attachment.file.read() == b"\xff\xd8\xffjpeg" and attachment.size == 7
    assert attachment.file.name.endswith(".jpg") and attachment.mime_type == "image/jpeg"
    assert attachment.kind == "image" and attachment.provider_media_id == IMAGE_ID
    api_call, file_call = responses.calls
    assert api_call.request.headers["Authorization"] == "test-access-token"  # the reference's form, the default
    assert "Authorization" not in file_call.request.headers  # S3 refuses a second kind of auth


@responses.activate
def test_a_link_on_tatas_own_host_gets_the_token(deliver):
    own_link = "https://tata.test/files/abc"
    responses.get(MEDIA_API, json={"url": own_link})
    responses.get(own_link, body=b"data", content_type="image/jpeg")
    deliver("wa_in_image.json")
    assert responses.calls[1].request.headers["Authorization"] == "test-access-token"  # the reference's form, the default
    assert Attachment.objects.get().status == "ready"


@responses.activate
def test_document_keeps_its_file_name(deliver):
    responses.get("https://tata.test/whatsapp-cloud/media/download/2234567890123456", json={"url": SIGNED_LINK})
    responses.get(SIGNED_LINK, body=b"%PDF-1.7", content_type="application/pdf")
    deliver("wa_in_document.json")
    attachment = Attachment.objects.get()
    assert attachment.file_name == "invoice-4521.pdf" and attachment.file.name.split("/")[-1].startswith("invoice-4521")


@responses.activate
def test_permanent_failure_shows_tatas_reason_and_retry_fetches_it(deliver, agent, django_capture_on_commit_callbacks, monkeypatch):
    responses.get(
        MEDIA_API,
        status=424,
        json={"error": "GET_MEDIA_URL", "meta": {"message": "Object with ID does not exist", "code": 100}, "message": "Can't retrieve media url"},
    )
    deliver("wa_in_image.json")
    attachment = Attachment.objects.get()
    assert attachment.status == "failed"
    assert attachment.error == "Can't retrieve media url — Object with ID does not exist"

    responses.replace(responses.GET, MEDIA_API, json={"url": SIGNED_LINK})
    responses.get(SIGNED_LINK, body=b"jpeg", content_type="image/jpeg")
    sent = capture_events(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_attachment(attachment, by=agent)
    attachment.refresh_from_db()
    assert attachment.status == "ready" and attachment.attempts == 2 and attachment.error == ""
    # pending, downloading and ready are each announced so the thread updates live
    assert [e[0] for e in sent] == ["message.updated"] * 3
    with pytest.raises(Conflict):
        services.retry_attachment(attachment, by=agent)


@responses.activate
def test_temporary_failure_stays_pending_with_a_note_for_the_automatic_retry(deliver):
    responses.get(MEDIA_API, status=503, json={"message": "busy"})
    deliver("wa_in_image.json")
    attachment = Attachment.objects.get()
    assert attachment.status == "pending" and "trying again in 1 min" in attachment.error


@responses.activate
def test_a_file_that_does_not_match_its_sha256_is_not_kept(deliver):
    payload = fixture_json("wa_in_image.json")
    payload["messages"]["image"]["sha256"] = base64.b64encode(hashlib.sha256(b"the real file").digest()).decode()
    responses.get(MEDIA_API, json={"url": SIGNED_LINK})
    responses.get(SIGNED_LINK, body=b"something else")
    deliver(payload=payload)
    attachment = Attachment.objects.get()
    assert attachment.status != "ready" and "checksum" in attachment.error and not attachment.file

    responses.replace(responses.GET, SIGNED_LINK, body=b"the real file")
    Attachment.objects.filter(pk=attachment.pk).update(status="failed")
    attachment.refresh_from_db()
    services.retry_attachment(attachment, by=None)  # queues it (runs after commit)
    fetch_attachment(attachment.pk)
    attachment.refresh_from_db()
    assert attachment.status == "ready"


@responses.activate
def test_agents_who_cannot_see_the_conversation_cannot_retry(deliver, sales_team, other_agent):
    responses.get(MEDIA_API, status=424, json={"message": "gone"})
    deliver("wa_in_image.json")
    attachment = Attachment.objects.get()
    conversation = attachment.message.conversation
    conversation.team = sales_team
    conversation.save()
    with pytest.raises(NotAllowed):
        services.retry_attachment(attachment, by=other_agent)
