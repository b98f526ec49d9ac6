"""Fetching a URL someone else chose (a provider's media link, a customer's file URI, a history import)
without letting them point us at our own network.

`fetch()` accepts http(s) only, and connects only to public addresses: the host is resolved at
connect time and every address it resolves to is checked (private, loopback, link-local — where cloud
metadata lives, 169.254.169.254 —, multicast, reserved, unspecified, shared, IPv4 and IPv6, IPv4 inside
IPv6 too); the socket is then opened to the very address that was checked, so a DNS answer that changes
between check and connect (rebinding) gains nothing. Redirects are followed by hand, each hop checked
the same way, an Authorization header never crosses to another host. The body is streamed under a size
cap and a total deadline as well as the per-read timeout.

`trusted_origins` exempts origins an admin configured (a channel's API base URL, which is the sandbox on
127.0.0.1 in development) from the address check, never from the scheme, size or time limits.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError, NewConnectionError

SCHEMES = ("http", "https")
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024


class FetchError(Exception):
    """The fetch failed. `retryable`: it may work later (a timeout, a 503); a refusal never does."""

    def __init__(self, message: str, *, retryable: bool = False, status_code: int | None = None):
        super().__init__(message)
        self.message, self.retryable, self.status_code = message, retryable, status_code


class Refused(FetchError):
    """The URL or an address it leads to is not allowed."""


@dataclass(frozen=True)
class Fetched:
    content: bytes
    content_type: str  # as the server named it, parameters dropped (the caller decides what it is)
    url: str  # after redirects


def address_allowed(address: str) -> bool:
    """A public unicast address: nothing on our machine, our network or the cloud's metadata service."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not address_allowed(str(embedded)):
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_private or ip.is_reserved or ip.is_loopback or ip.is_link_local)


def check_url(url: str, *, check_address: bool = True) -> None:
    """What can be refused before any network: the scheme, a missing host, a literal private address."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — raises on a port that is not a number
    except ValueError:
        raise Refused("The link is not a valid URL.") from None
    if parts.scheme.lower() not in SCHEMES:
        raise Refused(f"Only http and https links are fetched, not “{parts.scheme or 'none'}”.")
    if not parts.hostname:
        raise Refused("The link has no host.")
    if not check_address:
        return
    try:
        ipaddress.ip_address(parts.hostname)
    except ValueError:
        return  # a name: checked once resolved, at connect time
    if not address_allowed(parts.hostname):
        raise Refused(f"The link points at a private or reserved address ({parts.hostname}).")


def _origin(url: str) -> tuple[str, str, int | None]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "", "", None  # check_url refuses it
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or (443 if scheme == "https" else 80)


# ---------------------------------------------------------------- connecting only to checked addresses


class _CheckedAddressMixin:
    """Resolve, keep only allowed addresses, connect to one of those (never re-resolve)."""

    def _new_conn(self) -> socket.socket:
        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NewConnectionError(self, f"Could not resolve {self.host}: {exc}") from exc
        allowed = [info for info in infos if address_allowed(info[4][0])]
        if not allowed:
            raise _AddressRefused(self.host, sorted({info[4][0] for info in infos}))
        last_error = None
        for family, kind, proto, _, address in allowed:
            sock = socket.socket(family, kind, proto)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                if self.timeout is not None:
                    sock.settimeout(self.timeout)
                sock.connect(address)
                return sock
            except OSError as exc:
                sock.close()
                last_error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")


class _AddressRefused(NewConnectionError):
    def __init__(self, host: str, addresses: list[str]):
        self.host_name, self.addresses = host, addresses
        super().__init__(None, f"{host} resolves only to private or reserved addresses ({', '.join(addresses)})")


class _CheckedHTTPConnection(_CheckedAddressMixin, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedAddressMixin, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


def _session(checked: bool) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the address we check is the one we reach
    if checked:
        session.mount("http://", _CheckedAdapter())
        session.mount("https://", _CheckedAdapter())
    return session


def _refusal_in(exc: requests.RequestException) -> "_AddressRefused | None":
    """requests wraps urllib3's MaxRetryError, whose `reason` is what _new_conn raised."""
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return reason if isinstance(reason, _AddressRefused) else None


# ---------------------------------------------------------------- fetching


def fetch(
    url: str,
    *,
    max_bytes: int,
    headers: dict | None = None,
    connect_timeout: float = 5,
    read_timeout: float = 30,
    total_timeout: float = 120,
    max_redirects: int = 5,
    trusted_origins: tuple[str, ...] = (),
) -> Fetched:
    """GET `url` → Fetched, or raise Refused / FetchError (see the module's doc)."""
    trusted = {_origin(origin) for origin in trusted_origins if origin}
    deadline = time.monotonic() + total_timeout
    headers = dict(headers or {})
    sessions = {}
    for _ in range(max_redirects + 1):
        checked = _origin(url) not in trusted
        check_url(url, check_address=checked)
        session = sessions.get(checked) or sessions.setdefault(checked, _session(checked))
        response = _get(session, url, headers, (connect_timeout, read_timeout))
        if response.status_code in REDIRECTS and response.headers.get("Location"):
            response.close()
            target = urljoin(url, response.headers["Location"])
            if _origin(target)[:2] != _origin(url)[:2]:
                headers.pop("Authorization", None)
            url = target
            continue
        if response.status_code >= 400:
            response.close()
            raise FetchError(
                f"The server answered HTTP {response.status_code}.",
                retryable=response.status_code in (408, 425, 429) or response.status_code >= 500,
                status_code=response.status_code,
            )
        content = _read(response, max_bytes=max_bytes, deadline=deadline)
        return Fetched(content, response.headers.get("Content-Type", "").split(";")[0].strip(), url)
    raise Refused(f"More than {max_redirects} redirects.")


def _get(session: requests.Session, url: str, headers: dict, timeout) -> requests.Response:
    try:
        return session.get(url, headers=headers, timeout=timeout, stream=True, allow_redirects=False)
    except requests.Timeout as exc:
        raise FetchError(f"The server did not answer in time ({exc.__class__.__name__}).", retryable=True) from exc
    except requests.RequestException as exc:
        refusal = _refusal_in(exc)
        if refusal is not None:
            raise Refused(f"{refusal.host_name} is a private or reserved address ({', '.join(refusal.addresses)}).") from exc
        raise FetchError(f"Could not reach the server ({exc.__class__.__name__}).", retryable=True) from exc


def _read(response: requests.Response, *, max_bytes: int, deadline: float) -> bytes:
    too_big = FetchError(f"The file is larger than {_size(max_bytes)}.", retryable=False)
    try:
        declared = int(response.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    chunks, total = [], 0
    try:
        if declared > max_bytes:
            raise too_big
        while True:
            chunk = response.raw.read1(CHUNK, decode_content=True)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise too_big
            if time.monotonic() > deadline:
                raise FetchError("The download took too long.", retryable=True)
            chunks.append(chunk)
    except (requests.RequestException, HTTPError, OSError) as exc:  # urllib3's read errors are not requests'
        raise FetchError(f"The download broke off ({exc.__class__.__name__}).", retryable=True) from exc
    finally:
        response.close()
    return b"".join(chunks)


def _size(size: int) -> str:
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{size} bytes"
