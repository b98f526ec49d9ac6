"""What a file is, read from its first bytes (magic numbers), never from what its sender claims.

A customer (or a provider payload) may call an SVG or an HTML page "image/png"; served under our
origin with that claim, the page's script would run with the agent's session. Only the types below
are ever shown inline, and only when the bytes say so; everything else is a download.
"""

HEAD_BYTES = 64  # enough for every signature below

# Shown in the page (img / audio / video) and opened inline: formats browsers never run script from.
INLINE_SAFE = frozenset({
    "image/jpeg", "image/png", "image/gif", "image/webp",
    "audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "audio/wav",
    "video/mp4", "video/3gpp", "video/webm",
})
OCTET_STREAM = "application/octet-stream"


def sniff(head: bytes) -> str:
    """The MIME type the first bytes prove, or application/octet-stream."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"3g"):
            return "video/3gpp"
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        return "video/mp4"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06):
        return "audio/mpeg"  # an ID3 tag, or an MPEG audio frame (layer bits set)
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "audio/aac"  # ADTS (layer bits zero)
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return OCTET_STREAM


def sniff_file(file) -> str:
    """Sniff an open (seekable) file and rewind it."""
    head = file.read(HEAD_BYTES)
    file.seek(0)
    return sniff(head)


def is_inline_safe(mime: str) -> bool:
    return mime in INLINE_SAFE


# A file we serve is never a page of ours: no script, no plugins, no forms, its own opaque origin.
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"


def harden_file_response(response):
    """Headers for any response carrying a stored file (attachments, the sandbox's files)."""
    response["Content-Security-Policy"] = FILE_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
