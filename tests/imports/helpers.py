import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

JPEG = b"\xff\xd8\xff\xe0 a small photo"


def export_zip(text: str, media: dict[str, bytes] | None = None, name="WhatsApp Chat with Asha.zip") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name.replace(".zip", ".txt"), text.encode())
        for file_name, content in (media or {}).items():
            archive.writestr(file_name, content)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


def export_txt(text: str, name="WhatsApp Chat with Asha.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


CHAT = (
    "12/01/2024, 10:15 - Messages and calls are end-to-end encrypted. No one outside of this chat can read them.\n"
    "12/01/2024, 10:15 - Sharma Store: Namaste! How can we help?\n"
    "12/01/2024, 10:16 - +91 98123 45678: Is the blue kurta in stock?\n"
    "Size M please\n"
    "13/01/2024, 09:02 - Sharma Store: IMG-20240113-WA0003.jpg (file attached)\n"
    "This one?\n"
    "31/02/2024, 09:03 - Sharma Store: a broken line\n"
    "13/01/2024, 09:05 - +91 98123 45678: This message was deleted\n"
    "13/01/2024, 09:07 - Sharma Store: Yes, both sizes <This message was edited>\n"
)
