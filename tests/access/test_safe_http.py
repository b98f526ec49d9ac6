"""Finding 6: the one fetcher for URLs someone else chose refuses our own network (SSRF)."""

import http.server
import socket
import threading
import time

import pytest

from core import safe_http
from core.safe_http import FetchError, Refused, fetch
from inbox.media import fetch_attachment
from inbox.models import Attachment
from tests.inbox.ui_helpers import conversation_for, message_in


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict = {}

    def do_GET(self):  # noqa: N802
        self.server.hits.append(self.path)
        action = self.server.routes.get(self.path, ("body", b"ok"))
        kind, value = action
        if kind == "redirect":
            self.send_response(302)
            self.send_header("Location", value)
            self.end_headers()
        elif kind == "body":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(value)))
            self.end_headers()
            self.wfile.write(value)
        elif kind == "chunked":  # no Content-Length: the cap must hold while streaming
            self.send_response(200)
            self.end_headers()
            for _ in range(value):
                self.wfile.write(b"x" * 65536)
        elif kind == "sleep":
            time.sleep(value)
            self.send_response(200)
            self.end_headers()
        elif kind == "trickle":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(value):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    servers = []

    def start(routes=None):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        srv.routes, srv.hits, srv.daemon_threads = routes or {}, [], True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
        return srv

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://10.0.0.8/x", "http://172.16.0.1/", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/",
    "http://0.0.0.0/", "http://224.0.0.1/", "http://100.100.100.200/", "http://[fd00:ec2::254]/",
    "file:///etc/passwd", "ftp://example.com/x", "gopher://x/", "http:///x", "javascript:alert(1)", "http://x.test:abc/",
])
def test_refused_before_any_connection(url, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail("no lookup for a refused URL"))
    with pytest.raises(Refused):
        fetch(url, max_bytes=1000)


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f000001", "localhost"])
def test_shorthand_loopback_spellings_are_refused_once_resolved(host):
    with pytest.raises(Refused):
        fetch(f"http://{host}/", max_bytes=1000)


def test_a_name_resolving_to_loopback_is_refused_at_connect(server):
    srv = server()
    with pytest.raises(Refused, match="private or reserved"):
        fetch(srv.url.replace("127.0.0.1", "localhost") + "/secret", max_bytes=1000)
    assert srv.hits == []


def test_a_name_resolving_to_the_metadata_address_is_refused(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))])
    with pytest.raises(Refused, match="169.254.169.254"):
        fetch("http://metadata.evil.test/latest/", max_bytes=1000)


def test_one_private_address_among_public_ones_is_never_used(monkeypatch):
    """Connect to the address that was checked, once resolved: a second (rebound) answer is never asked for."""
    answers = iter([
        [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", 80)), (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))],
        [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))],
    ])
    lookups, connects = [], []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: (lookups.append(a), next(answers))[1])

    def connect(sock, address):
        connects.append(address)
        raise ConnectionRefusedError("test")

    monkeypatch.setattr(socket.socket, "connect", connect)
    with pytest.raises(FetchError):
        fetch("http://rebind.evil.test/", max_bytes=1000)
    assert connects == [("93.184.216.34", 80)] and len(lookups) == 1


def test_a_redirect_to_loopback_is_refused(server):
    inner = server({"/secret": ("body", b"internal")})
    outer = server({"/file": ("redirect", inner.url.replace("127.0.0.1", "localhost") + "/secret")})
    with pytest.raises(Refused):
        fetch(outer.url + "/file", max_bytes=1000, trusted_origins=(outer.url,))
    assert inner.hits == []


def test_a_redirect_to_a_private_literal_or_another_scheme_is_refused(server):
    srv = server({"/a": ("redirect", "http://169.254.169.254/"), "/b": ("redirect", "file:///etc/passwd")})
    for path in ("/a", "/b"):
        with pytest.raises(Refused):
            fetch(srv.url + path, max_bytes=1000, trusted_origins=(srv.url,))


def test_redirects_within_trusted_origins_work_and_are_counted(server):
    srv = server({"/a": ("redirect", "/b"), "/b": ("body", b"PNGDATA"), "/loop": ("redirect", "/loop")})
    fetched = fetch(srv.url + "/a", max_bytes=1000, trusted_origins=(srv.url,))
    assert fetched.content == b"PNGDATA" and fetched.content_type == "image/png" and fetched.url.endswith("/b")
    with pytest.raises(Refused, match="redirects"):
        fetch(srv.url + "/loop", max_bytes=1000, trusted_origins=(srv.url,))


def test_authorization_never_follows_a_redirect_to_another_host(server, monkeypatch):
    seen = []
    real_get = safe_http._get

    def spy(session, url, headers, timeout):
        seen.append((url, dict(headers)))
        return real_get(session, url, headers, timeout)

    monkeypatch.setattr(safe_http, "_get", spy)
    target = server({"/f": ("body", b"x")})
    origin = server({"/go": ("redirect", target.url.replace("127.0.0.1", "localhost") + "/f")})
    with pytest.raises(Refused):
        fetch(origin.url + "/go", max_bytes=10, headers={"Authorization": "Bearer s3cret"}, trusted_origins=(origin.url, target.url))
    assert seen[0][1] == {"Authorization": "Bearer s3cret"} and "Authorization" not in seen[1][1]


def test_oversize_is_refused_by_declared_length_and_while_streaming(server):
    srv = server({"/big": ("body", b"x" * 5000), "/stream": ("chunked", 40)})
    with pytest.raises(FetchError, match="larger") as declared:
        fetch(srv.url + "/big", max_bytes=1000, trusted_origins=(srv.url,))
    with pytest.raises(FetchError, match="larger"):
        fetch(srv.url + "/stream", max_bytes=1024 * 1024, trusted_origins=(srv.url,))
    assert declared.value.retryable is False


def test_a_slow_server_times_out(server):
    srv = server({"/slow": ("sleep", 3), "/trickle": ("trickle", 30)})
    started = time.monotonic()
    with pytest.raises(FetchError) as slow:
        fetch(srv.url + "/slow", max_bytes=1000, read_timeout=0.5, trusted_origins=(srv.url,))
    with pytest.raises(FetchError, match="too long"):
        fetch(srv.url + "/trickle", max_bytes=1000, read_timeout=1, total_timeout=0.5, trusted_origins=(srv.url,))
    assert slow.value.retryable and time.monotonic() - started < 3


@pytest.mark.parametrize("uri", ["http://127.0.0.1:8000/admin/", "http://169.254.169.254/latest/meta-data/iam/", "file:///etc/passwd"])
def test_an_rcs_file_uri_into_our_network_is_never_fetched(db, uri):
    conversation = conversation_for()
    message = message_in(conversation, "", type="image")
    attachment = Attachment.objects.create(message=message, kind="image", source_url=uri)
    fetch_attachment(attachment.pk)
    attachment.refresh_from_db()
    assert attachment.status == Attachment.Status.FAILED and not attachment.file
    assert "address" in attachment.error or "http" in attachment.error
