"""Request bodies over their limit are refused before they are read, in every serving shape.

- Production: the front door (deploy/nginx/sampark.conf) answers 413 on the same limits, and gunicorn's
  WSGI workers only ever read as much as Content-Length says (a chunked body without one reads as empty).
- daphne (`make run`: daphne's runserver replaces Django's, and production's /ws/ server): Twisted
  reads the whole body into a file before the application runs, and daphne then queues all of it in
  memory as ASGI messages. An ASGI middleware comes too late for that, so the check sits in daphne's
  request object: a declared Content-Length over the limit is answered 413 as soon as the headers are
  in, and a body streamed without one (chunked) is counted as it arrives and cut off at the limit.
  The connection is closed after the 413: the rest of the body is never read.
"""

from django.conf import settings

REFUSED = b'{"detail": "Request body too large."}'


def limit_for(path: str) -> int:
    """The most bytes a request to `path` may send; the same table as the nginx config's locations."""
    if path.startswith("/webhooks/"):
        return settings.WEBHOOK_MAX_BODY_BYTES
    if path.startswith("/dialplan/"):
        return settings.DIALPLAN_MAX_BODY_BYTES
    return settings.REQUEST_MAX_BODY_BYTES


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
