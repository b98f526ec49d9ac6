"""The sandbox Smartflo streaming a call to Sampark, as Smartflo's Voice Streaming does: when the
sandbox customer answers a click-to-call-support call, it asks the connection's Outbound Voice URL
(dynamic, GET) where to stream, opens that WebSocket and sends `connected`, `start`, a `media` frame
of the customer's line every 20 ms, `dtmf` for each key pressed on the sandbox keypad, `mark` echoes
once our audio before the mark has "played" (in real time), and `stop` when the customer hangs up.

Sessions live in this process (one event loop thread for all of them), like the embedded poller:
the keypad's POST reaches the session through `press()`. What Sampark played is kept so the sandbox
page can play it back (`heard_wav`).
"""

import asyncio
import logging
import secrets
import threading
from urllib.parse import urlencode

import requests
from django.conf import settings

from sandbox.ws_client import Closed, WebSocket
from telephony import audio
from telephony.providers import smartflo_stream as protocol

logger = logging.getLogger(__name__)

_sessions: dict[int, "StreamSession"] = {}
_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()
MAX_HEARD_BYTES = audio.RATE * 120  # two minutes of what Sampark played, for the page


def _event_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="sandbox-smartflo-streams", daemon=True).start()
        return _loop


class StreamSession:
    def __init__(self, sandbox_call_id: int, url: str, call_id: str, custom_identifier: str, numbers: tuple[str, str]):
        self.sandbox_call_id, self.url, self.call_id = sandbox_call_id, url, call_id
        self.custom_identifier, self.numbers = custom_identifier, numbers
        self.stream_id = "MZ" + secrets.token_hex(16)
        self.heard, self.marks, self.digits = bytearray(), [], ""
        self.state, self.close_code, self.error = "connecting", None, ""
        self.commands: asyncio.Queue | None = None
        self.sequence = 0
        self.played_until = 0.0  # loop time when what Sampark sent so far has played

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence

    async def run(self) -> None:
        self.commands = asyncio.Queue()
        try:
            socket = await WebSocket.connect(self.url)
        except (OSError, asyncio.TimeoutError, Closed) as exc:
            self.state, self.error = "ended", f"could not connect: {exc}"
            return
        self.state = "streaming"
        reader = asyncio.get_running_loop().create_task(self.listen(socket))
        try:
            await socket.send(protocol.connected_text())
            await socket.send(protocol.start_text(self.stream_id, self.call_id, sequence=self.next_sequence(),
                                                  custom={"custom_identifier": self.custom_identifier}, numbers=self.numbers))
            await self.speak(socket)
        except Closed:
            pass
        finally:
            reader.cancel()
            await socket.close()
            self.state, self.close_code = "ended", socket.close_code

    async def speak(self, socket: WebSocket) -> None:
        """The customer's line: a frame every 20 ms (quiet), and what the keypad and hang-up ask."""
        loop = asyncio.get_running_loop()
        payload = protocol.payloads([audio.SILENCE])[0]
        deadline, chunk = loop.time(), 0
        while socket.close_code is None:
            chunk += 1
            await socket.send(protocol.inbound_media_text(self.stream_id, self.next_sequence(), chunk, payload))
            while not self.commands.empty():
                command, value = self.commands.get_nowait()
                if command == "dtmf":
                    self.digits += value
                    await socket.send(protocol.dtmf_text(self.stream_id, self.call_id, value, sequence=self.next_sequence()))
                elif command == "stop":
                    await socket.send(protocol.stop_text(self.stream_id, self.call_id, sequence=self.next_sequence()))
                    return
            deadline += audio.FRAME_SECONDS
            await asyncio.sleep(max(0.0, deadline - loop.time()))

    async def listen(self, socket: WebSocket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                frame = protocol.read_outbound(await socket.recv())
            except Closed:
                return
            now = loop.time()
            if frame["event"] == "media":
                if len(self.heard) < MAX_HEARD_BYTES:
                    self.heard += frame["audio"]
                self.played_until = max(self.played_until, now) + audio.FRAME_SECONDS
            elif frame["event"] == "mark":
                loop.call_at(max(self.played_until, now), self.echo_mark, socket, frame["mark"])
            elif frame["event"] == "clear":
                self.played_until = now

    def echo_mark(self, socket: WebSocket, name: str) -> None:
        self.marks.append(name)
        if socket.close_code is None:
            asyncio.get_running_loop().create_task(
                socket.send(protocol.mark_echo_text(self.stream_id, name, sequence=self.next_sequence())))

    def command(self, command: str, value: str = "") -> None:
        if self.commands is not None:
            self.commands.put_nowait((command, value))


def outbound_voice_url(connection, base_url: str) -> str:
    """The connection's Outbound Voice URL on this server, the telephony id filled in as the portal would."""
    return connection.outbound_voice_url.replace(settings.PUBLIC_BASE_URL, base_url.rstrip("/"), 1).replace("{telephony_id}", "1")


def start(call, base_url: str) -> StreamSession | None:
    """Ask the Outbound Voice URL where to stream `call` (a SandboxCall), then stream it."""
    query = urlencode({"call_id": call.call_id, "custom_identifier": call.custom_identifier,
                       "customer_number": call.customer_number.lstrip("+"), "did_number": call.did_number.lstrip("+")})
    try:
        answer = requests.get(f"{outbound_voice_url(call.connection, base_url)}?{query}", timeout=(3, 10))
        url = answer.json().get("url") if answer.ok else None
    except (requests.RequestException, ValueError):
        url = None
    if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
        logger.warning("sandbox stream: the Outbound Voice URL gave no stream URL")
        return None
    session = StreamSession(call.pk, url, call.call_id, call.custom_identifier, (call.customer_number, call.did_number))
    _sessions[call.pk] = session
    asyncio.run_coroutine_threadsafe(session.run(), _event_loop())
    return session


def session_of(sandbox_call_id: int) -> StreamSession | None:
    return _sessions.get(sandbox_call_id)


def press(sandbox_call_id: int, digit: str) -> bool:
    session = _sessions.get(sandbox_call_id)
    if session is None or session.state != "streaming" or digit not in protocol.DIGITS:
        return False
    _event_loop().call_soon_threadsafe(session.command, "dtmf", digit)
    return True


def stop(sandbox_call_id: int) -> None:
    session = _sessions.get(sandbox_call_id)
    if session is not None and session.state != "ended":
        _event_loop().call_soon_threadsafe(session.command, "stop")


def heard_wav(sandbox_call_id: int) -> bytes | None:
    session = _sessions.get(sandbox_call_id)
    return audio.to_wav(bytes(session.heard)) if session is not None and session.heard else None
