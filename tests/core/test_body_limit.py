"""Oversize request bodies are refused before daphne reads them (runserver is daphne's, so `make run` too)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
LIMITS = {"WEBHOOK_MAX_BODY_BYTES": "4096", "DIALPLAN_MAX_BODY_BYTES": "1024", "REQUEST_MAX_BODY_BYTES": "65536"}


def test_runserver_is_daphnes_and_config_asgi_bounds_its_requests():
    from daphne import http_protocol

    import config.asgi  # noqa: F401

    from daphne.management.commands.runserver import Command as DaphneRunserver

    from core.management.commands.runserver import Command as Runserver

    assert get_commands()["runserver"] == "core" and issubclass(Runserver, DaphneRunserver)  # `make run` serves through daphne
    assert http_protocol.WebRequest.__name__ == "BoundedWebRequest"


@pytest.fixture(scope="module")
def daphne():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **LIMITS, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": "sqlite:///:memory:", "REDIS_URL": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(10)


def _send(port: int, head: bytes, body_chunks=(), pause: float = 0) -> tuple[bytes, int]:
    """Sends the head then the body chunks while the server keeps reading; returns (answer, bytes sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head)
        try:
            for chunk in body_chunks:
                conn.sendall(chunk)
                sent += len(chunk)
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection: what the refusal does
        answer = b""
        try:
            while part := conn.recv(65536):
                answer += part
        except ConnectionResetError:
            pass
    return answer, sent


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_a_declared_length_over_the_webhook_limit_is_answered_413_before_any_body(daphne):
    port, _ = daphne
    head = b"POST /webhooks/tata/unknown/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"
    answer, _ = _send(port, head)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"Connection: close" in answer


def test_each_path_has_its_own_limit(daphne):
    port, _ = daphne
    for path, size, status in (
        ("/dialplan/x/", 2000, b"413"),
        ("/webhooks/nowhere/", 2000, b"404"),  # under the webhook limit: reaches Django
        ("/webhooks/tata/unknown/", 5000, b"413"),
        ("/accounts/login/", 5000, b"403"),  # CSRF: the view ran
        ("/accounts/login/", 70000, b"413"),
    ):
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode()
        answer, _ = _send(port, head, [b"x" * size])
        assert answer.split(b" ", 2)[1] == status, (path, size, answer[:200])


def test_a_chunked_body_without_length_is_cut_off_at_the_limit(daphne):
    port, _ = daphne
    head = b"POST /webhooks/tata/unknown/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
    answer, sent = _send(port, head, [chunk] * 2000, pause=0.001)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert sent < 2000 * len(chunk)  # the server stopped reading long before the client was done


def test_a_large_stream_never_reaches_daphnes_memory(daphne):
    port, pid = daphne
    before = _rss_kb(pid)
    head = b"POST /inbox/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"10000\r\n" + b"x" * 65536 + b"\r\n"
    answer, _ = _send(port, head, [chunk] * 1600)  # 100 MB offered
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert _rss_kb(pid) - before < 20_000
    healthy, _ = _send(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert healthy.startswith(b"HTTP/1.1 200 ")
