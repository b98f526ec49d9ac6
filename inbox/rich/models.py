"""Rich RCS snippets and the media their cards show (imported by inbox.models so Django finds them)."""

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse

from core.storage import UnguessablePath


class RichSnippet(models.Model):
    """A saved rich message (the builder's spec, see inbox.rich.spec). No owner = shared by an admin."""

    name = models.CharField(max_length=100)
    spec = models.JSONField(help_text="the builder's description of the message (inbox.rich.spec)")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="rich_snippets")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "inbox"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name", "owner"], name="rich_snippet_unique_name")]

    def __str__(self):
        return self.name

    @property
    def shared(self) -> bool:
        return self.owner_id is None


def new_media_token() -> str:
    return secrets.token_urlsafe(24)


class RichMedia(models.Model):
    """An image or video an agent uploaded for a card. Tata's RCS platform fetches card media by URL,
    so it is served without a login at an unguessable link (media_url)."""

    token = models.CharField(max_length=64, unique=True, default=new_media_token, editable=False)
    file = models.FileField(upload_to=UnguessablePath("rcs-media"), max_length=255)
    mime_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "inbox"

    def __str__(self):
        return self.file.name

    @property
    def media_url(self) -> str:
        return settings.PUBLIC_BASE_URL + reverse("rich_media:media_file", args=[self.token])
