"""How much a request may send, enforced once for every serving shape and every public endpoint.

Bodies over their limit (`limit_for`: the same table as the nginx config's locations) are refused with
413 before they are read:
- Production: the front door (deploy/nginx/sampark.conf) answers 413 on the same limits, and gunicorn's
  WSGI workers only ever read as much as Content-Length says (a chunked body without one reads as empty).
- daphne (`make run`: daphne's runserver replaces Django's, and production's /ws/ server): Twisted
  reads the whole body into a file before the application runs, and daphne then queues all of it in
  memory as ASGI messages. An ASGI middleware comes too late for that, so the check sits in daphne's
  request object: a declared Content-Length over the limit is answered 413 as soon as the headers are
  in, and a body streamed without one (chunked) is counted as it arrives and cut off at the limit.
  The connection is closed after the 413: the rest of the body is never read.
- The views that read a provider's body (the Tata and Smartflo webhooks, the dialplan URL) read it
  through `read_body`, which refuses the same way whatever serves them.

Over-long request lines get an HTTP answer under daphne, not a dropped connection: Twisted reads the
request line and each header line with a 16 KB limit and, past it, closes the connection without a
word (LineReceiver.lineLengthExceeded). A caller then cannot tell a refusal from a network fault:
Smartflo's dialplan request with a 16 KB query string got no answer at all. `answer_over_long_lines()`
makes that limit answer 414 (request line) or 431 (a header line) with a JSON body, then close, as the
standards ask.
"""

import json

from django.conf import settings
from django.http import HttpRequest
from twisted.web import http

REFUSED = b'{"detail": "Request body too large."}'


def limit_for(path: str) -> int:
    """The most bytes a request to `path` may send; the same table as the nginx config's locations."""
    if path.startswith("/webhooks/"):
        return settings.WEBHOOK_MAX_BODY_BYTES
    if path.startswith("/dialplan/"):
        return settings.DIALPLAN_MAX_BODY_BYTES
    return settings.REQUEST_MAX_BODY_BYTES


# ---------------------------------------------------------------- in the views


class BodyTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"Body larger than {limit} bytes.")
        self.limit = limit


def declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The request's body, or BodyTooLarge when it is over `limit` bytes.

    Refused on the declared Content-Length before a byte is read, so a huge body never reaches memory;
    then at most limit + 1 bytes are read, so a missing or lying Content-Length cannot make us read more.
    """
    if declared_length(request) > limit:
        raise BodyTooLarge(limit)
    body = request.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge(limit)
    return body


# ---------------------------------------------------------------- in daphne


def bound_daphne_request_bodies() -> None:
    """Make daphne build its requests from BoundedWebRequest (its factory looks the class up per connection)."""
    from daphne import http_protocol

    if not issubclass(http_protocol.WebRequest, _BoundedBody):
        http_protocol.WebRequest = type("BoundedWebRequest", (_BoundedBody, http_protocol.WebRequest), {})


class _BoundedBody:
    """Mixed into daphne's WebRequest (a twisted.web Request): counts body bytes as they arrive."""

    _body_limit = None
    _body_seen = 0
    _body_refused = False

    def gotLength(self, length):
        # Headers are in; the path is the channel's (the request's own is set only once the body is).
        path = getattr(self.channel, "_path", b"/").split(b"?", 1)[0].decode("latin-1")
        self._body_limit = limit_for(path)
        if length is not None and length > self._body_limit:
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data):
        if self._body_refused:
            return
        self._body_seen += len(data)
        if self._body_limit is not None and self._body_seen > self._body_limit:
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if not self._body_refused:  # a refused body that still completed in the same read: nothing to run
            super().requestReceived(command, path, version)

    def _refuse(self):
        self._body_refused = True
        self.requestHeaders.removeHeader(b"Expect")  # no "100 Continue" after the 413
        transport = self.channel.transport
        transport.write(
            b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(REFUSED), REFUSED)
        )
        transport.loseConnection()  # stops reading: the rest of the body is never received


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


def answer_over_long_lines() -> None:
    """Make Twisted answer 414 / 431 where it would drop the connection (see the module docstring)."""
    http.HTTPChannel.lineLengthExceeded = _answer_and_close
