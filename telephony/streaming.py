"""The WebSocket Smartflo streams an automated call to: /ws/telephony/stream/<stream token>/ (the
Outbound Voice URL answers it; the token is signed and names the connection).

One `VoiceStream` per call (a plain ASGI app, see its docstring). It speaks Smartflo's streaming protocol (telephony.providers.smartflo_stream):
`connected`, then `start` names the call (our custom_identifier in the URL's `call` or the start's
custom parameters, else Smartflo's call id), then `media` frames of the customer's audio (kept, and
saved as the call's recording when the stream ends), `dtmf` (the answer: telephony.automated.answer)
and `mark` echoes; `stop` ends it. We play the prompt as 20 ms `media` frames, `mark` its end, wait
TELEPHONY_PROMPT_WAIT_SECONDS (silence) and `mark` that (replaying the prompt while no key is pressed), `clear` it when a key is pressed, and play a short
acknowledgement before hanging up.

Frames go out on time through one Pacer per event loop: every 20 ms it sends the next frame of every
stream that is playing — one timer for all streams, rather than a sleeping task per stream, which
keeps outbound jitter low with a hundred streams on one process (bench/voice_stream.py).

Hostile input never crashes anything; the socket is closed with a code that says why: 1003 binary
frames, 1007 not the protocol (bad JSON, wrong types, bad base64), 1008 out of order (media before
start, a second start), 1009 a frame over TELEPHONY_STREAM_MAX_FRAME_BYTES, 4404 unknown connection,
call or stream id.
"""

import asyncio
import logging
from typing import NamedTuple
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings

from telephony import audio, automated
from telephony.models import TelephonyConnection
from telephony.providers import smartflo_stream as protocol

logger = logging.getLogger(__name__)

ACK_TONES = (880.0, 1320.0)
PROMPT_MARK, WAIT_MARK, ACK_MARK = "prompt", "wait", "ack"


class Pacer:
    """Every FRAME_SECONDS, the next outbound frame of every playing stream, on absolute deadlines
    (a late tick does not push the next ones later; far behind, it starts over rather than bunch up)."""

    _by_loop: dict = {}

    def __init__(self):
        self.streams: set = set()
        self.task: asyncio.Task | None = None

    @classmethod
    def of_this_loop(cls) -> "Pacer":
        loop = asyncio.get_running_loop()
        pacer = cls._by_loop.get(loop)
        if pacer is None:
            cls._by_loop = {lp: p for lp, p in cls._by_loop.items() if not lp.is_closed()}
            pacer = cls._by_loop[loop] = cls()
        return pacer

    def add(self, stream) -> None:
        self.streams.add(stream)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run())

    def discard(self, stream) -> None:
        self.streams.discard(stream)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while self.streams:
            for stream in list(self.streams):
                try:
                    await stream.tick()
                except Exception:  # one broken socket must not stop the others' audio
                    logger.warning("voice stream: a frame could not be sent", exc_info=True)
                    self.streams.discard(stream)
            deadline += audio.FRAME_SECONDS
            delay = deadline - loop.time()
            if delay < -0.2:
                deadline, delay = loop.time(), 0
            await asyncio.sleep(max(0.0, delay))


class Mark(NamedTuple):
    name: str


def _connection_id(token: str):
    pk = automated.connection_of_stream_token(token)
    return TelephonyConnection.objects.filter(pk=pk).values_list("pk", flat=True).first() if pk else None


class VoiceStream:
    """One streamed call, as a plain ASGI application rather than a Channels consumer: a stream
    hears nothing from the channel layer, and a consumer's dispatch (a task and an asyncio.wait per
    message) cost more than the protocol itself at 50 frames a second each way."""

    def __init__(self, scope, send):
        self.scope, self.base_send, self.closed = scope, send, False

    @classmethod
    async def asgi(cls, scope, receive, send) -> None:
        stream = cls(scope, send)
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.receive":
                await stream.receive(message.get("text"), message.get("bytes"))
            elif kind == "websocket.connect":
                await stream.connect()
            elif kind == "websocket.disconnect":
                await stream.disconnect(message.get("code"))
                return

    async def send(self, *, text_data: str) -> None:
        if not self.closed:
            await self.base_send({"type": "websocket.send", "text": text_data})

    async def accept(self) -> None:
        await self.base_send({"type": "websocket.accept"})

    async def close(self, code: int = 1000) -> None:
        if not self.closed:
            self.closed = True
            await self.base_send({"type": "websocket.close", "code": code})

    async def connect(self):
        self.finished, self.automated_id, self.stream_id, self.call_id = False, None, "", ""
        self.recording, self.frames_in, self.started = bytearray(), 0, False
        self.playing, self.position, self.prompt, self.plays, self.answered = [], 0, [], 0, ""
        # Read once per stream, not per frame (each settings lookup goes through Django's LazySettings).
        self.max_frame, self.max_recording = settings.TELEPHONY_STREAM_MAX_FRAME_BYTES, settings.TELEPHONY_STREAM_MAX_SECONDS * audio.RATE
        token = str(self.scope.get("url_route", {}).get("kwargs", {}).get("token", ""))[:200]
        self.connection_id = await database_sync_to_async(_connection_id)(token)
        if self.connection_id is None:
            await self.close(code=4404)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.identifier = (query.get("call") or [""])[0][:128]
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if self.finished or self.closed:
            return
        if text_data is None:
            return await self.refuse(1003, "binary frames are not the protocol")
        if len(text_data) > self.max_frame:
            return await self.refuse(1009, "frame too large")
        try:
            frame = protocol.read(text_data)
        except protocol.BadFrame as exc:
            return await self.refuse(1007, str(exc))
        if frame.event == "connected":
            return
        if frame.event == "start":
            return await self.on_start(frame)
        if not self.started:
            return await self.refuse(1008, f"{frame.event} before start")
        if frame.stream_id != self.stream_id:
            return await self.refuse(4404, "unknown stream id")
        if frame.event == "media":  # 50 a second: no coroutine for it
            return self.keep(frame.audio)
        await getattr(self, f"on_{frame.event}")(frame)

    async def refuse(self, code: int, reason: str) -> None:
        logger.info("voice stream closed (%s): %s", code, reason)
        await self.finish(dropped=True)
        await self.close(code=code)

    async def on_start(self, frame: protocol.Frame) -> None:
        if self.started:
            return await self.refuse(1008, "a second start")
        identifier = self.identifier or frame.custom.get("custom_identifier", "") or frame.custom.get("call", "")
        found = await database_sync_to_async(automated.begin_stream)(
            self.connection_id, identifier=identifier, call_id=frame.call_id, stream_id=frame.stream_id)
        if found is None:
            return await self.refuse(4404, "no automated call is waiting for this stream")
        self.automated_id, prompt = found
        self.started, self.stream_id, self.call_id = True, frame.stream_id, frame.call_id
        self.media_prefix = protocol.media_prefix(frame.stream_id)
        # The prompt, a mark, the wait for a key (silence), a mark: the second one replays or ends.
        silence = protocol.payloads([audio.SILENCE])[0]
        wait_frames = int(settings.TELEPHONY_PROMPT_WAIT_SECONDS / audio.FRAME_SECONDS)
        self.prompt = [*protocol.payloads(audio.frames(prompt)), Mark(PROMPT_MARK), *[silence] * wait_frames, Mark(WAIT_MARK)]
        self.play(self.prompt)

    def keep(self, ulaw: bytes) -> None:
        """A media frame's audio: counted, and kept for the recording up to TELEPHONY_STREAM_MAX_SECONDS."""
        self.frames_in += 1
        room = self.max_recording - len(self.recording)
        if room > 0:
            self.recording += ulaw[:room]

    async def on_dtmf(self, frame: protocol.Frame) -> None:
        outcome = await database_sync_to_async(automated.answer)(self.automated_id, frame.digit)
        if outcome and not self.answered:
            self.answered = outcome
            await self.send(text_data=protocol.clear_text(self.stream_id))
            self.play([*protocol.payloads(audio.frames(audio.tone(0.4, ACK_TONES))), Mark(ACK_MARK)])

    async def on_mark(self, frame: protocol.Frame) -> None:
        if frame.mark == WAIT_MARK and not self.answered:
            if self.plays < max(1, settings.TELEPHONY_PROMPT_REPEATS):
                self.play(self.prompt)
            else:
                await database_sync_to_async(automated.request_hang_up)(self.automated_id)
        elif frame.mark == ACK_MARK and self.answered:
            await database_sync_to_async(automated.request_hang_up)(self.automated_id)

    async def on_stop(self, frame: protocol.Frame) -> None:
        await self.finish(dropped=False)
        await self.close(code=1000)

    def play(self, items: list) -> None:
        """Play `items`: base64 media payloads (one per 20 ms) and Marks (sent as they are reached)."""
        self.playing, self.position = items, 0
        if items is self.prompt:
            self.plays += 1
        Pacer.of_this_loop().add(self)

    async def tick(self) -> None:
        """The pacer's call: the marks reached, then the next 20 ms frame."""
        while self.position < len(self.playing) and isinstance(self.playing[self.position], Mark):
            await self.send(text_data=protocol.mark_text(self.stream_id, self.playing[self.position].name))
            self.position += 1
        if self.position < len(self.playing):
            await self.send(text_data=self.media_prefix + self.playing[self.position] + protocol.MEDIA_SUFFIX)
            self.position += 1
        else:
            Pacer.of_this_loop().discard(self)

    async def finish(self, *, dropped: bool) -> None:
        """Once per stream: stop playing, keep the audio as the call's recording, settle the call."""
        if self.finished:
            return
        self.finished = True
        Pacer.of_this_loop().discard(self)
        if self.automated_id is not None:
            await database_sync_to_async(automated.end_stream)(
                self.automated_id, bytes(self.recording), frames_in=self.frames_in, dropped=dropped)

    async def disconnect(self, code):
        if hasattr(self, "finished"):
            await self.finish(dropped=True)
