"""Finding 3: a stored file is typed by its bytes and served so that no script of it runs in our
origin. Finding 10: no /media/ URL; storage names are unguessable."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from core.filetypes import sniff
from inbox.models import Attachment
from tests.inbox.ui_helpers import conversation_for, message_in

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"><script>alert(1)</script></svg>'
HTML = b"<html><body><script>fetch('/api/contacts/')</script></body></html>"


@pytest.mark.parametrize("head,expected", [
    (JPEG, "image/jpeg"), (PNG, "image/png"), (b"GIF89a....", "image/gif"), (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    (MP4, "video/mp4"), (b"\x00\x00\x00\x18ftyp3gp4", "video/3gpp"), (b"\x00\x00\x00\x18ftypM4A ", "audio/mp4"),
    (b"OggS\x00\x02", "audio/ogg"), (b"ID3\x03\x00", "audio/mpeg"), (b"#!AMR\n", "audio/amr"), (b"%PDF-1.7", "application/pdf"),
    (SVG, "application/octet-stream"), (HTML, "application/octet-stream"), (b"", "application/octet-stream"),
])
def test_the_type_comes_from_the_bytes(head, expected):
    assert sniff(head) == expected


@pytest.fixture
def stored(settings, tmp_path, sales_team):
    settings.MEDIA_ROOT = tmp_path

    def make(content: bytes, *, kind="image", claimed="image/png", name=""):
        message = message_in(conversation_for(team=sales_team), "", type=kind)
        attachment = Attachment(message=message, kind=kind, status="ready", mime_type=claimed, file_name=name)
        attachment.file.save(name or "file", ContentFile(content), save=True)
        return attachment

    return make


@pytest.mark.parametrize("content,claimed,name", [(SVG, "image/svg+xml", "x.svg"), (HTML, "text/html", ""), (HTML, "image/jpeg", "a.jpg")])
def test_script_bearing_files_are_downloads_in_a_sandbox(logged_in, agent, stored, content, claimed, name):
    attachment = stored(content, claimed=claimed, name=name)
    response = logged_in(agent).get(reverse("inbox:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("content,expected", [(JPEG, "image/jpeg"), (PNG, "image/png"), (MP4, "video/mp4")])
def test_real_media_shows_inline_with_its_true_type(logged_in, agent, stored, content, expected):
    attachment = stored(content, claimed="text/html")  # the claim is ignored either way
    response = logged_in(agent).get(reverse("inbox:attachment", args=[attachment.pk]))
    assert response["Content-Type"] == expected and response["Content-Disposition"].startswith("inline")
    assert response["Content-Security-Policy"].startswith("sandbox") and response["X-Content-Type-Options"] == "nosniff"
    download = logged_in(agent).get(reverse("inbox:attachment", args=[attachment.pk]), {"download": "1"})
    assert download["Content-Disposition"].startswith("attachment;")


def test_a_pdf_is_a_download(logged_in, agent, stored):
    attachment = stored(b"%PDF-1.4 ...", kind="document", claimed="application/pdf", name="invoice.pdf")
    response = logged_in(agent).get(reverse("inbox:attachment", args=[attachment.pk]))
    assert response["Content-Type"] == "application/pdf" and response["Content-Disposition"].startswith("attachment;")


def test_media_is_not_served_by_url_and_names_are_unguessable(logged_in, admin_user, stored, settings):
    first, second = stored(JPEG, name="photo.jpg"), stored(JPEG, name="photo.jpg")
    assert first.file.name.endswith("/photo.jpg") and first.file.name != second.file.name
    token = first.file.name.split("/")[-2]
    assert len(token) >= 24
    assert logged_in(admin_user).get("/media/" + first.file.name).status_code == 404


def test_no_media_route_even_with_debug_on(settings):
    import importlib

    import config.urls

    settings.DEBUG = True
    try:
        patterns = [str(p.pattern) for p in importlib.reload(config.urls).urlpatterns]
    finally:
        settings.DEBUG = False
        importlib.reload(config.urls)
    assert not [p for p in patterns if "media" in p]


def test_the_sandbox_file_link_is_never_a_page_of_ours(client, settings, tmp_path, db):
    from sandbox import omni
    from sandbox.models import SandboxMedia
    from tests.inbox.tata_payloads import make_channel

    settings.MEDIA_ROOT, settings.SANDBOX_ENABLED = tmp_path, True
    channel = make_channel()
    media = SandboxMedia(channel=channel, mime_type="text/html", file_name="x.html")
    media.file.save("x.html", ContentFile(HTML), save=True)
    response = client.get(reverse("sandbox:file", args=[omni.media_link_token(media)]))
    assert response["Content-Security-Policy"].startswith("sandbox") and response["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("content,kind,claimed,inline", [
    (SVG, "image", "image/svg+xml", False), (HTML, "image", "image/jpeg", False), (PNG, "image", "image/png", True),
    (HTML, "video", "video/mp4", False), (MP4, "video", "video/mp4", True),
])
def test_downloaded_media_is_typed_by_its_bytes_and_shown_accordingly(db, settings, tmp_path, content, kind, claimed, inline):
    import responses as mock

    from inbox.media import fetch_attachment
    from inbox.templatetags.bubbles import bubble

    settings.MEDIA_ROOT = tmp_path
    message = message_in(conversation_for(), "", type=kind)
    attachment = Attachment.objects.create(message=message, kind=kind, source_url="https://files.example/f", mime_type=claimed)
    with mock.RequestsMock() as rsps:
        rsps.get("https://files.example/f", body=content, content_type=claimed)
        fetch_attachment(attachment.pk)
    attachment.refresh_from_db()
    assert attachment.status == "ready" and (attachment.mime_type == claimed) == inline
    html = str(bubble(message))
    assert ("<img " in html or "<video " in html) == inline
    assert ('class="doc"' in html) == (not inline)  # a download link, never an inline frame of it
