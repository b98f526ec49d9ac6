import zoneinfo

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    SUPERVISOR = "supervisor", "Supervisor"
    AGENT = "agent", "Agent"


TIME_ZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz]


class SamparkUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="Asia/Kolkata")
    # The agent's phone or SIP extension on the telephony account (click-to-call rings it first).
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, used for click-to-call")

    objects = SamparkUserManager()

    class Meta:
        ordering = ["first_name", "last_name", "username"]

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def sees_everything(self) -> bool:
        """Admins and supervisors see every contact, conversation and call."""
        return self.is_admin_role or self.role == Role.SUPERVISOR

    def save(self, *args, **kwargs):
        # The role is the one source of truth: admins run Django admin, nobody else reaches it.
        self.is_staff = self.is_superuser = self.role == Role.ADMIN
        super().save(*args, **kwargs)


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(User, related_name="teams", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ApiKey(models.Model):
    """A personal key for the REST API (`Authorization: Bearer smp_live_…`). Only its SHA-256 is stored:
    the key is shown once, when made. A key is as strong as 32 random bytes, so a plain hash is the
    right store (a slow password hash would only slow every API request)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="what the key is for, e.g. “telephony bridge”")
    prefix = models.CharField(max_length=24, help_text="the key's first characters, to recognise it")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.masked})"

    @property
    def masked(self) -> str:
        return f"{self.prefix}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
