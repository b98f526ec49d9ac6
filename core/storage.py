"""Where uploaded and downloaded files are stored: under a random directory per file.

Files are only ever served through views that check who may see them (no /media/ URL), and their
storage names cannot be guessed either, should a path ever leak into a log or a misconfigured server.
"""

import datetime
import os
import secrets

from django.utils.deconstruct import deconstructible
from django.utils.text import get_valid_filename


@deconstructible
class UnguessablePath:
    """upload_to: `<prefix>/<yyyy>/<mm>/<random>/<the file's own name>`."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __call__(self, instance, filename: str) -> str:
        today = datetime.date.today()
        name = get_valid_filename(os.path.basename(filename))[:150] or "file"
        return f"{self.prefix}/{today:%Y/%m}/{secrets.token_urlsafe(18)}/{name}"

    def __eq__(self, other):
        return isinstance(other, UnguessablePath) and other.prefix == self.prefix
