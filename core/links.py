"""Links that came from outside (a provider's payload, a customer's message) before they become an
`href` or a `src`: only absolute http(s) URLs pass. `javascript:`, `data:`, `vbscript:` and the like,
however spelled (case, whitespace, control characters), become "" and are not linked at all."""

from urllib.parse import urlsplit

SAFE_SCHEMES = ("http", "https")


def http_url(value) -> str:
    """`value` if it is an absolute http(s) URL with a host, else ""."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    # Browsers drop tabs and newlines inside a URL ("java\tscript:" runs): refuse any control character.
    if not url or any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.hostname:
        return ""
    return url
