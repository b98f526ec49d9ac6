"""The one place imports fetch a file from a URL someone put in a report.

Until the safe fetcher (another branch; on main as core/safe_http.py, `fetch(url, max_bytes=…)` →
Fetched(content, content_type, url), raising Refused / FetchError) is on this branch, this function
does the checks itself: http/https only, every address the host resolves to must be public (no
private, loopback, link-local, reserved or multicast ranges), redirects are followed by hand and
checked again, and size and time are capped. Once merged, the body of `fetch` becomes a call to
core.safe_http.fetch and FetchRefused its FetchError.
"""

import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import requests

MAX_BYTES = 100 * 1024 * 1024
TIMEOUT = (5, 30)
MAX_REDIRECTS = 3


class FetchRefused(Exception):
    pass


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchRefused("Only http and https links can be fetched.")
    for address in _resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)):
        ip = ipaddress.ip_address(address)
        if not ip.is_global or ip.is_multicast:
            raise FetchRefused(f"{parts.hostname} points to a private or reserved address.")


def _resolve(host: str, port: int) -> set[str]:
    try:
        return {info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    except socket.gaierror as exc:
        raise FetchRefused(f"{host} could not be resolved.") from exc


def fetch(url: str, *, max_bytes: int = MAX_BYTES) -> tuple[bytes, str]:
    """(content, content type) of the file at url, or FetchRefused / requests.RequestException."""
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url)
        with requests.get(url, timeout=TIMEOUT, stream=True, allow_redirects=False) as response:
            if response.is_redirect:
                url = urljoin(url, response.headers.get("Location", ""))
                continue
            response.raise_for_status()
            content = bytearray()
            for chunk in response.iter_content(64 * 1024):
                content += chunk
                if len(content) > max_bytes:
                    raise FetchRefused(f"The file is larger than {max_bytes // 1024 // 1024} MB.")
            return bytes(content), response.headers.get("Content-Type", "").split(";")[0].strip()
    raise FetchRefused("Too many redirects.")
