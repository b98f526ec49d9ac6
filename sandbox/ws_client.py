"""A small WebSocket client (RFC 6455, text frames) on asyncio streams: how the sandbox Smartflo —
and bench/voice_stream.py — stream a call to Sampark's voice-stream endpoint the way Smartflo does.

The project has no WebSocket client dependency (daphne and autobahn serve; nothing connects out),
and the streaming protocol needs little: the opening handshake, masked text frames out, text / close /
ping frames in. Fragmented messages are not expected from our server and are refused.
"""

import asyncio
import base64
import hashlib
import os
import ssl
import struct
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE = 1 << 20


class Closed(Exception):
    def __init__(self, code: int | None):
        super().__init__(f"closed ({code})")
        self.code = code


class WebSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.close_code: int | None = None

    @classmethod
    async def connect(cls, url: str, *, timeout: float = 10.0, headers: dict | None = None) -> "WebSocket":
        parts = urlsplit(url)
        secure = parts.scheme == "wss"
        host, port = parts.hostname or "127.0.0.1", parts.port or (443 if secure else 80)
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ssl.create_default_context() if secure else None), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13", *[f"{k}: {v}" for k, v in (headers or {}).items()]]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status = head.split(b"\r\n", 1)[0]
        expected = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest())
        if b" 101 " not in status + b" " or expected not in head:
            writer.close()
            raise Closed(int(status.split()[1]) if len(status.split()) > 1 and status.split()[1].isdigit() else None)
        return cls(reader, writer)

    def _frame(self, opcode: int, payload: bytes) -> bytes:
        length = len(payload)
        if length < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        mask = os.urandom(4)
        if not length:
            return head + mask
        repeated = (mask * (length // 4 + 1))[:length]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(length, "big")
        return head + mask + masked

    async def send(self, text: str) -> None:
        if self.close_code is not None:
            raise Closed(self.close_code)
        self.writer.write(self._frame(0x1, text.encode()))
        await self.writer.drain()

    async def recv(self) -> str:
        """The next text message; raises Closed when the server closes (its code in .code)."""
        while True:
            first, second = await self._read(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self._read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self._read(8))
            if length > MAX_MESSAGE or not first & 0x80:
                await self.close(1009)
                raise Closed(1009)
            mask = await self._read(4) if second & 0x80 else b""
            payload = await self._read(length) if length else b""
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x1:
                return payload.decode()
            if opcode == 0x8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.writer.close()
                raise Closed(self.close_code)
            if opcode == 0x9:
                self.writer.write(self._frame(0xA, payload))

    async def _read(self, count: int) -> bytes:
        try:
            return await self.reader.readexactly(count)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close_code = self.close_code or 1006
            raise Closed(self.close_code) from None

    async def close(self, code: int = 1000) -> None:
        if self.close_code is None:
            self.close_code = code
            try:
                self.writer.write(self._frame(0x8, struct.pack("!H", code)))
                await self.writer.drain()
            except ConnectionError:
                pass
        self.writer.close()

    def abort(self) -> None:
        """Drop the connection without a close frame (a line that drops)."""
        self.close_code = 1006
        self.writer.transport.abort()
