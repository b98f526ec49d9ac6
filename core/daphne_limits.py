"""Over-long request lines get an HTTP answer under daphne, not a dropped connection.

Twisted, under daphne, reads the request line and each header line with a 16 KB limit and, past it,
closes the connection without a word (LineReceiver.lineLengthExceeded). A caller then cannot tell a
refusal from a network fault: Smartflo's dialplan request with a 16 KB query string got no answer at
all. `install()` makes that limit answer 414 (request line) or 431 (a header line) with a JSON body,
then close, as the standards ask.
"""

import json

from twisted.web import http

_ANSWERS = {
    True: (b"414 URI Too Long", "The request line (path and query string) is longer than %d bytes."),
    False: (b"431 Request Header Fields Too Large", "A request header is longer than %d bytes."),
}


def _answer_and_close(channel: http.HTTPChannel, line: bytes) -> None:
    request_line = bool(getattr(channel, "_HTTPChannel__first_line", True))
    status, detail = _ANSWERS[request_line]
    body = json.dumps({"detail": detail % channel.MAX_LENGTH}).encode()
    channel.transport.write(
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )
    channel.transport.loseConnection()


def install() -> None:
    http.HTTPChannel.lineLengthExceeded = _answer_and_close
