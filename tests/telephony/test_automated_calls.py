"""Automated confirmation / reminder calls: starting a campaign from the contacts filter, placing its
calls at its rate with click-to-call-support, refusals, settling, and the audio they play and keep."""

import array
import io
import json
import math
import wave

import pytest
import responses
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.models import Contact
from core.errors import ApplicationError, NotAllowed
from telephony import audio, automated
from telephony.models import AutomatedCall, Call, CallCampaign
from tests.telephony.factories import ConnectionFactory

BASE = "https://smartflo.test"


def wav(rate=16000, channels=2, seconds=0.5, width=2):
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(channels)
        target.setsampwidth(width)
        target.setframerate(rate)
        samples = array.array("h", (int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(rate * seconds)) for _ in range(channels)))
        target.writeframes(samples.tobytes() if width == 2 else bytes((s >> 8) + 128 for s in samples))
    return out.getvalue()


@pytest.fixture
def connection(db):
    return ConnectionFactory(api_key="support-key", phone_numbers=["+918069000000", "+918069000001"])


@pytest.fixture
def customers(db):
    made = []
    for name, number in (("Meera COD", "+919812345678"), ("Kabir COD", "+919812300002")):
        contact = Contact.objects.create(name=name)
        contact.phones.create(number=number, is_primary=True)
        made.append(contact)
    Contact.objects.create(name="Nobody COD")  # no phone: not called
    return made


@pytest.fixture
def enqueued(monkeypatch):
    later = []
    monkeypatch.setattr(automated, "enqueue_later", lambda task, args, countdown: later.append((task, args, countdown)))
    monkeypatch.setattr(automated, "enqueue", lambda task, *args: None)
    return later


def test_a_campaign_calls_the_contacts_of_the_filter_with_their_numbers(supervisor, connection, customers, enqueued):
    campaign = automated.start(by=supervisor, name="", kind="payment_reminder", connection=connection, caller_id="+918069000001",
                               filters={"q": "COD"}, calls_per_minute=30, transfer_to="06-02 123")
    assert campaign.name.startswith("Payment reminder — ") and campaign.transfer_to == "0602123"
    assert sorted(campaign.calls.values_list("number", flat=True)) == ["+919812300002", "+919812345678"]
    assert set(campaign.calls.values_list("status", flat=True)) == {"pending"}


@pytest.mark.parametrize(("change", "words"), [
    ({"api_key": ""}, "Click to Call Support API key"),
    ({"provider": "exotel"}, "need a Tata Smartflo account"),
])
def test_a_campaign_needs_a_smartflo_account_with_its_support_key(supervisor, connection, customers, change, words):
    for field, value in change.items():
        setattr(connection, field, value)
    with pytest.raises(ApplicationError, match=words):
        automated.start(by=supervisor, name="x", kind="confirmation", connection=connection, filters={"q": "COD"})


def test_a_campaign_needs_an_audience_a_number_of_the_account_and_a_supervisor(supervisor, agent, connection, customers):
    with pytest.raises(ApplicationError, match="Choose whom to call"):
        automated.start(by=supervisor, name="x", kind="confirmation", connection=connection, filters={})
    with pytest.raises(ApplicationError, match="one of the account's numbers"):
        automated.start(by=supervisor, name="x", kind="confirmation", connection=connection, caller_id="+911111111111", filters={"q": "COD"})
    with pytest.raises(NotAllowed):
        automated.start(by=agent, name="x", kind="confirmation", connection=connection, filters={"q": "COD"})


@responses.activate
def test_calls_are_placed_one_at_a_time_at_the_campaigns_rate_with_click_to_call_support(supervisor, connection, customers, enqueued):
    responses.post(f"{BASE}/v1/click_to_call_support", json={"success": True, "message": "Originate successfully queued", "ref_id": "r-9"})
    campaign = automated.start(by=supervisor, name="COD", kind="confirmation", connection=connection, filters={"q": "COD"}, calls_per_minute=20)
    first = automated.place_next(campaign.pk)
    call = Call.objects.get(pk=first.call_id)
    assert json.loads(responses.calls[0].request.body) == {
        "customer_number": first.number.lstrip("+"), "api_key": "support-key", "async": 1, "caller_id": "918069000000",
        "customer_ring_timeout": 30, "custom_identifier": call.custom_identifier}
    assert call.custom_identifier.startswith("sampark-auto-") and call.ref_id == "r-9" and call.direction == "outbound"
    assert call.contact == first.contact and first.status == "placed"
    assert enqueued == [("telephony.place_automated_call", (campaign.pk,), 3.0)]  # 60 s / 20 calls a minute
    automated.place_next(campaign.pk)
    assert len(responses.calls) == 2 and automated.progress(campaign)["calling"] == 2
    assert enqueued[1] == ("telephony.place_automated_call", (campaign.pk,), 181)  # nobody waits: look again to give up the unanswered
    assert automated.place_next(campaign.pk) is None and len(responses.calls) == 2


@responses.activate
def test_a_refused_call_is_failed_with_smartflos_words_and_the_campaign_goes_on(supervisor, connection, customers, enqueued):
    responses.post(f"{BASE}/v1/click_to_call_support", json={"success": False, "message": "Invalid customer number"}, status=400)
    campaign = automated.start(by=supervisor, name="COD", kind="confirmation", connection=connection, filters={"q": "COD"})
    refused = automated.place_next(campaign.pk)
    refused.refresh_from_db()
    assert refused.status == "failed" and "not valid" in refused.reason
    assert refused.call.status == "failed"
    assert enqueued  # the next contact is still called


def test_a_call_that_never_streams_stops_holding_the_campaign(supervisor, connection, customers, enqueued, settings):
    settings.TELEPHONY_AUTOMATED_GIVE_UP_SECONDS = 0
    campaign = automated.start(by=supervisor, name="COD", kind="confirmation", connection=connection, filters={"q": "COD"})
    campaign.calls.update(status=AutomatedCall.Status.PLACED, placed_at="2026-01-01T00:00:00Z")
    automated.finish_if_settled(campaign)
    campaign.refresh_from_db()
    assert campaign.status == "done" and automated.progress(campaign)["not_answered"] == 2


def test_stopping_a_campaign_skips_who_is_still_waiting(supervisor, connection, customers, enqueued):
    campaign = automated.start(by=supervisor, name="COD", kind="confirmation", connection=connection, filters={"q": "COD"})
    automated.cancel(campaign, by=supervisor)
    assert campaign.status == "cancelled" and set(campaign.calls.values_list("status", flat=True)) == {"skipped"}
    assert automated.place_next(campaign.pk) is None


@pytest.mark.parametrize(("rate", "channels", "width"), [(16000, 2, 2), (8000, 1, 2), (44100, 1, 2), (11025, 1, 1)])
def test_an_uploaded_wav_becomes_mulaw_8khz(rate, channels, width):
    ulaw = automated.prompt_from_upload(SimpleUploadedFile("p.wav", wav(rate, channels, 0.5, width)))
    assert abs(len(ulaw) - 4000) <= 2  # 0.5 s at 8 kHz, one byte a sample
    assert max(abs(s) for s in audio.decode(ulaw)) > 4000  # the tone survived


def test_an_upload_that_is_not_a_wav_is_refused_in_words():
    with pytest.raises(ApplicationError, match="WAV"):
        automated.prompt_from_upload(SimpleUploadedFile("p.mp3", b"ID3\x03\x00 not a wav"))


def test_the_mulaw_codec_matches_g711():
    assert audio.encode(array.array("h", [0, 32767, -32768, 1000, -1000])) == bytes([0xFF, 0x80, 0x00, 0xCE, 0x4E])
    assert list(audio.decode(bytes([0xFF, 0x80, 0x00]))) == [0, 32124, -32124]
    assert audio.frames(b"\x01" * 170) == [b"\x01" * 160, b"\x01" * 10 + audio.SILENCE[:150]]
    with wave.open(io.BytesIO(audio.to_wav(b"\xff" * 800))) as kept:
        assert (kept.getframerate(), kept.getnframes()) == (8000, 800)


def test_the_campaign_pages_start_and_show_a_campaign(client, supervisor, connection, customers, enqueued, settings):
    client.force_login(supervisor)
    connection.is_default = True
    connection.save()
    form = client.get("/telephony/automated/new/", {"q": "COD"})
    assert form.status_code == 200 and b'id="automated-count">2<' in form.content
    upload = SimpleUploadedFile("cod.wav", wav(8000, 1, 0.2), content_type="audio/wav")
    answer = client.post("/telephony/automated/new/", {"q": "COD", "name": "COD today", "kind": "confirmation",
                                                        "caller_id": "+918069000000", "calls_per_minute": "5", "prompt": upload})
    campaign = CallCampaign.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/telephony/automated/{campaign.pk}/"
    assert campaign.prompt_name == "cod.wav" and campaign.prompt.name.startswith("prompts/") and len(campaign.prompt.read()) == 1600
    page = client.get(f"/telephony/automated/{campaign.pk}/")
    assert b"0 of 2 done" in page.content and b"Meera COD" in page.content
    bad = client.post("/telephony/automated/new/", {"q": "COD", "prompt": SimpleUploadedFile("x.wav", b"nope")})
    assert bad.status_code == 422 and b"WAV" in bad.content
