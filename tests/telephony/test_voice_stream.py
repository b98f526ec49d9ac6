"""The voice stream (telephony.streaming) speaking Smartflo's protocol, with a recorded μ-law fixture:
frame order, DTMF answers, marks, a stream that drops, and hostile frames that close the socket."""

import asyncio
import base64
import io
import json
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import responses
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core.files.base import ContentFile

from config.routing import provider_websocket_urlpatterns
from contacts.models import Contact
from telephony import audio, automated
from telephony.models import AutomatedCall, Call, CallAction, CallCampaign
from telephony.providers import smartflo_stream as protocol
from tests.telephony.factories import ConnectionFactory

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HELLO = (FIXTURES / "smartflo_stream_customer_hello.ulaw").read_bytes()
BASE = "https://smartflo.test"
PROMPT_FRAMES = 3


def recorded_frames(identifier: str) -> list[str]:
    return (FIXTURES / "smartflo_stream_confirm.jsonl").read_text().replace("{custom_identifier}", identifier).splitlines()


@pytest.fixture
def streamed_call(settings):
    """An automated call placed and waiting for its stream (a 60 ms prompt)."""
    settings.TELEPHONY_PROMPT_REPEATS = 2
    settings.TELEPHONY_PROMPT_WAIT_SECONDS = 0.04  # two frames of silence after the prompt, then the "wait" mark
    connection = ConnectionFactory(api_key="support-key")
    contact = Contact.objects.create(name="Meera Iyer")
    contact.phones.create(number="+919812345678", is_primary=True)
    campaign = CallCampaign(name="COD today", connection=connection, caller_id="+918069000000", transfer_to="0602123700")
    campaign.prompt.save("prompt.ulaw", ContentFile(audio.tone(0.06, (440.0,))), save=False)
    campaign.save()
    call = Call.objects.create(connection=connection, direction="outbound", custom_identifier="sampark-auto-abc123",
                               customer_number="+919812345678", contact=contact)
    automated = AutomatedCall.objects.create(campaign=campaign, contact=contact, number="+919812345678", call=call,
                                             status=AutomatedCall.Status.PLACED)
    return automated


def run(coroutine):
    """On a thread of its own: a browser test in the same process may have left an event loop running here."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def socket(connection, query=""):
    app = URLRouter(provider_websocket_urlpatterns)
    return WebsocketCommunicator(app, f"/ws/telephony/stream/{automated.stream_token(connection)}/{query}")


async def until(communicator, event, timeout=3):
    """Frames up to and including the first `event` (media frames are counted)."""
    seen = []
    while True:
        frame = protocol.read_outbound(await communicator.receive_from(timeout))
        seen.append(frame)
        if frame["event"] == event:
            return seen


@responses.activate
def test_a_recorded_confirmation_stream_in_order_plays_the_prompt_takes_1_and_keeps_the_audio(streamed_call):
    responses.post(f"{BASE}/v1/call/hangup", json={"success": True, "message": "Call hangup successfully"})
    frames = recorded_frames(streamed_call.call.custom_identifier)
    sid = json.loads(frames[1])["streamSid"]

    async def scenario():
        communicator = socket(streamed_call.campaign.connection)
        connected, _ = await communicator.connect()
        assert connected
        for text in frames[:2]:  # connected, start
            await communicator.send_to(text_data=text)
        prompt = await until(communicator, "mark")
        assert [f["event"] for f in prompt] == ["media"] * PROMPT_FRAMES + ["mark"]
        assert all(len(f["audio"]) == audio.FRAME_BYTES for f in prompt[:-1]) and prompt[-1]["mark"] == "prompt"
        wait = await until(communicator, "mark")
        assert [f["event"] for f in wait] == ["media", "media", "mark"] and wait[-1]["mark"] == "wait"
        assert set(wait[0]["audio"]) == {audio.SILENCE[0]}
        for text in frames[2:-2]:  # the customer's 60 media frames
            await communicator.send_to(text_data=text)
        await communicator.send_to(text_data=frames[-2])  # dtmf "1"
        after = await until(communicator, "mark")
        assert after[0]["event"] == "clear" and after[-1]["mark"] == "ack" and {f["event"] for f in after[1:-1]} == {"media"}
        await communicator.send_to(text_data=protocol.mark_echo_text(sid, "ack"))
        await communicator.send_to(text_data=frames[-1])  # stop
        closed = await communicator.receive_output(3)
        assert closed == {"type": "websocket.close", "code": 1000}
        await communicator.wait()

    Call.objects.filter(pk=streamed_call.call_id).update(provider_call_id="")
    run(scenario())
    streamed_call.refresh_from_db()
    call = streamed_call.call
    assert (streamed_call.status, streamed_call.outcome, streamed_call.digits, streamed_call.frames_in) == ("ended", "confirmed", "1", 60)
    assert call.status == "answered" and call.provider_call_id == "1764660000.314159"
    assert "confirmed (pressed 1)" in call.notes.get().body
    assert call.recording_status == "ready" and call.recording_mime == "audio/wav"
    assert "/" in call.recording.name.split("recordings/", 1)[1].split("/", 2)[2]  # under an unguessable directory
    with wave.open(io.BytesIO(call.recording.read())) as kept:
        assert (kept.getframerate(), kept.getnchannels(), kept.getsampwidth(), kept.getnframes()) == (8000, 1, 2, len(HELLO))
    assert json.loads(responses.calls[0].request.body) == {"call_id": "1764660000.314159"}  # hung up after the acknowledgement


def test_the_prompt_mark_replays_the_prompt_until_the_repeats_are_spent(streamed_call, settings):
    settings.TELEPHONY_PROMPT_REPEATS = 2
    identifier = streamed_call.call.custom_identifier

    async def scenario():
        communicator = socket(streamed_call.campaign.connection, f"?call={identifier}")
        await communicator.connect()
        await communicator.send_to(text_data=protocol.start_text("S1", "C1"))
        first = await until(communicator, "mark") + await until(communicator, "mark")
        await communicator.send_to(text_data=protocol.mark_echo_text("S1", "prompt"))  # reached: nothing to do yet
        assert await communicator.receive_nothing(0.1)
        await communicator.send_to(text_data=protocol.mark_echo_text("S1", "wait"))  # no key in time: again
        second = await until(communicator, "mark") + await until(communicator, "mark")
        assert len(first) == len(second) == PROMPT_FRAMES + 2 + 2
        await communicator.send_to(text_data=protocol.mark_echo_text("S1", "wait"))  # spent: hangs up (no call id: nothing to do)
        assert await communicator.receive_nothing(0.2)
        await communicator.send_to(text_data=protocol.stop_text("S1", "C1"))
        await communicator.wait()

    run(scenario())
    streamed_call.refresh_from_db()
    assert streamed_call.outcome == "no_answer" and "no answer on the keypad" in streamed_call.call.notes.get().body


def test_a_stream_that_drops_keeps_what_was_heard_and_says_so(streamed_call):
    payloads = protocol.payloads(audio.frames(HELLO))

    async def scenario():
        communicator = socket(streamed_call.campaign.connection, f"?call={streamed_call.call.custom_identifier}")
        await communicator.connect()
        await communicator.send_to(text_data=protocol.start_text("S2", "C2"))
        for index, payload in enumerate(payloads[:25]):
            await communicator.send_to(text_data=protocol.inbound_media_text("S2", index + 2, index + 1, payload))
        await communicator.disconnect(code=1006)

    run(scenario())
    streamed_call.refresh_from_db()
    assert (streamed_call.status, streamed_call.outcome, streamed_call.frames_in) == ("ended", "dropped", 25)
    assert streamed_call.call.recording_status == "ready"
    with wave.open(io.BytesIO(streamed_call.call.recording.read())) as kept:
        assert kept.getnframes() == 25 * audio.FRAME_BYTES


@responses.activate
def test_3_transfers_to_the_campaigns_target_with_the_reference_body(streamed_call):
    responses.post(f"{BASE}/v1/call/options", json={"success": True, "message": "Transfer successful"})

    async def scenario():
        communicator = socket(streamed_call.campaign.connection, f"?call={streamed_call.call.custom_identifier}")
        await communicator.connect()
        await communicator.send_to(text_data=protocol.start_text("S3", "1764660000.27"))
        await communicator.send_to(text_data=protocol.dtmf_text("S3", "1764660000.27", "3"))
        await communicator.send_to(text_data=protocol.dtmf_text("S3", "1764660000.27", "1"))  # the first answer counts
        await communicator.send_to(text_data=protocol.stop_text("S3", "1764660000.27"))
        await communicator.wait()

    run(scenario())
    streamed_call.refresh_from_db()
    assert (streamed_call.outcome, streamed_call.digits) == ("agent", "31")
    assert json.loads(responses.calls[0].request.body) == {"type": "4", "call_id": "1764660000.27", "intercom": "0602123700"}
    action = CallAction.objects.get(call=streamed_call.call)
    assert (action.kind, action.ok, action.target, action.by) == ("transfer", True, "0602123700", None)
    assert "asked for an agent (pressed 3)" in streamed_call.call.notes.get().body


HOSTILE = [
    ("not json", "{nope", 1007),
    ("an array", "[1, 2]", 1007),
    ("unknown event", json.dumps({"event": "explode", "streamSid": "S"}), 1007),
    ("payload is a number", json.dumps({"event": "media", "streamSid": "S", "media": {"payload": 5}}), 1007),
    ("payload not base64", json.dumps({"event": "media", "streamSid": "S", "media": {"payload": "%%%"}}), 1007),
    ("two digits", json.dumps({"event": "dtmf", "streamSid": "S", "dtmf": {"digit": "12"}}), 1007),
    ("media before start", protocol.inbound_media_text("S", 1, 1, base64.b64encode(audio.SILENCE).decode()), 1008),
    ("oversize frame", json.dumps({"event": "connected", "pad": "x" * 9000}), 1009),
    ("deep nesting", "[" * 100 + "]" * 100, 1007),
]


@pytest.mark.parametrize(("label", "text", "code"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_frames_close_the_socket_with_a_reason(streamed_call, label, text, code):
    async def scenario():
        communicator = socket(streamed_call.campaign.connection)
        await communicator.connect()
        await communicator.send_to(text_data=text)
        assert await communicator.receive_output(3) == {"type": "websocket.close", "code": code}
        await communicator.wait()

    run(scenario())


def test_binary_frames_and_unknown_stream_ids_close_it_and_the_call_is_settled(streamed_call):
    async def scenario():
        communicator = socket(streamed_call.campaign.connection, f"?call={streamed_call.call.custom_identifier}")
        await communicator.connect()
        await communicator.send_to(text_data=protocol.start_text("S4", "C4"))
        await until(communicator, "mark")
        await until(communicator, "mark")
        await communicator.send_to(text_data=protocol.dtmf_text("OTHER", "C4", "1"))
        assert await communicator.receive_output(3) == {"type": "websocket.close", "code": 4404}
        await communicator.wait()
        second = socket(streamed_call.campaign.connection)
        await second.connect()
        await second.send_to(bytes_data=b"\x00\x01")
        assert await second.receive_output(3) == {"type": "websocket.close", "code": 1003}
        await second.wait()

    run(scenario())
    streamed_call.refresh_from_db()
    assert streamed_call.outcome == "dropped" and streamed_call.digits == ""


def test_unknown_token_and_unknown_call_are_refused(streamed_call):
    async def scenario():
        for forged in ("no-such-token", streamed_call.campaign.connection.status_token, automated.stream_token(streamed_call.campaign.connection)[:-2] + "xx"):
            stranger = WebsocketCommunicator(URLRouter(provider_websocket_urlpatterns), f"/ws/telephony/stream/{forged}/")
            connected, code = await stranger.connect()
            assert not connected and code == 4404
        communicator = socket(streamed_call.campaign.connection, "?call=sampark-auto-unknown")
        await communicator.connect()
        await communicator.send_to(text_data=protocol.start_text("S5", "C5"))
        assert await communicator.receive_output(3) == {"type": "websocket.close", "code": 4404}
        await communicator.wait()

    run(scenario())
    streamed_call.refresh_from_db()
    assert streamed_call.status == "placed"


def test_the_asgi_app_takes_a_stream_without_a_session_or_origin_but_not_a_browser_socket(streamed_call):
    from config.asgi import application

    async def scenario():
        stream = WebsocketCommunicator(application, f"/ws/telephony/stream/{automated.stream_token(streamed_call.campaign.connection)}/")
        connected, _ = await stream.connect()
        assert connected
        await stream.disconnect()
        browser = WebsocketCommunicator(application, "/ws/events/")
        connected, _ = await browser.connect()
        assert not connected

    run(scenario())


def test_an_expired_stream_token_is_refused(streamed_call, settings):
    token = automated.stream_token(streamed_call.campaign.connection)
    settings.TELEPHONY_STREAM_TOKEN_MAX_AGE = -1
    assert automated.connection_of_stream_token(token) is None


def test_the_outbound_voice_url_answers_the_stream_socket(client, streamed_call, settings):
    settings.PUBLIC_BASE_URL = "https://crm.example.in"
    connection = streamed_call.campaign.connection
    answer = client.get(f"/telephony/voice/{connection.status_token}/4711/", {"custom_identifier": "sampark-auto-abc123", "call_id": "x"})
    assert answer.status_code == 200
    url = answer.json()["url"]
    token = url.removeprefix("wss://crm.example.in/ws/telephony/stream/").removesuffix("/?call=sampark-auto-abc123")
    assert "/" not in token and automated.connection_of_stream_token(token) == str(connection.pk)
    assert connection.status_token not in answer.content.decode()
    assert client.get("/telephony/voice/nope/4711/").status_code == 404
    assert client.post(f"/telephony/voice/{connection.status_token}/4711/").status_code == 405
