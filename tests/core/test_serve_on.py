"""`make run PORT=8100`: the public base and the sandbox channels follow the port the app is started on."""

import pytest
from django.apps import apps
from django.core.management import call_command, get_commands

from core import runtime
from inbox.models import Channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings):
    """What `make run` seeded on an earlier run on the default port."""
    settings.PUBLIC_BASE_URL_CONFIGURED = False
    settings.SANDBOX_ENABLED = True
    make = lambda name, base: Channel.objects.create(name=name, phone_number=f"+9198765{len(name):05d}", api_base_url=base, access_token="t")  # noqa: E731
    return {
        "sandbox": make("Sandbox WhatsApp", "http://127.0.0.1:8000/sandbox/api/tata"),
        "localhost": make("Sandbox RCS on localhost", "http://localhost:8000/sandbox/api/tata"),
        "tata": make("Real Tata", "https://tata.test"),
        "elsewhere": make("Another machine's sandbox", "https://staging.example.in/sandbox/api/tata"),
    }


def test_the_port_the_app_starts_on_becomes_the_public_base_and_the_sandbox_base(seeded, settings):
    assert runtime.serve_on("127.0.0.1", 8100) == "http://127.0.0.1:8100"
    assert settings.PUBLIC_BASE_URL == "http://127.0.0.1:8100"
    bases = {key: Channel.objects.get(pk=channel.pk).api_base_url for key, channel in seeded.items()}
    assert bases == {
        "sandbox": "http://127.0.0.1:8100/sandbox/api/tata",
        "localhost": "http://127.0.0.1:8100/sandbox/api/tata",
        "tata": "https://tata.test",
        "elsewhere": "https://staging.example.in/sandbox/api/tata",
    }
    assert Channel.objects.get(pk=seeded["tata"].pk).webhook_url.startswith("http://127.0.0.1:8100/webhooks/tata/")


def test_all_interfaces_means_this_machine_on_loopback(seeded, settings):
    runtime.serve_on("0.0.0.0", 9000)
    assert settings.PUBLIC_BASE_URL == "http://127.0.0.1:9000"


def test_a_configured_public_base_stays_but_the_sandbox_still_follows_the_port(seeded, settings):
    settings.PUBLIC_BASE_URL_CONFIGURED, settings.PUBLIC_BASE_URL = True, "https://crm.example.in"
    assert runtime.serve_on("127.0.0.1", 8100) == "https://crm.example.in"
    assert Channel.objects.get(pk=seeded["sandbox"].pk).api_base_url == "http://127.0.0.1:8100/sandbox/api/tata"


def test_runserver_is_ours_and_tells_the_runtime_its_port(seeded, settings, monkeypatch):
    from daphne.management.commands.runserver import Command as DaphneRunserver

    assert get_commands()["runserver"] == "core"
    served = []
    monkeypatch.setattr(DaphneRunserver, "inner_run", lambda self, *a, **o: served.append(settings.PUBLIC_BASE_URL))
    call_command("runserver", "127.0.0.1:8123", "--noreload", "--skip-checks")
    assert served == ["http://127.0.0.1:8123"]
    assert Channel.objects.get(pk=seeded["sandbox"].pk).api_base_url == "http://127.0.0.1:8123/sandbox/api/tata"


@pytest.mark.skipif(not apps.is_installed("telephony"), reason="the telephony app (Smartflo connections)")
def test_the_sandbox_smartflo_account_follows_the_port_too(seeded):
    from telephony.models import TelephonyConnection

    local = TelephonyConnection.objects.create(provider="tata_smartflo", name="Sandbox Smartflo",
                                               base_url="http://127.0.0.1:8000/sandbox/api/smartflo", auth_token="t")
    real = TelephonyConnection.objects.create(provider="tata_smartflo", name="Real", base_url="https://cloudphone.tatateleservices.com/sandbox/api/smartflo", auth_token="t")
    runtime.serve_on("127.0.0.1", 8100)
    local.refresh_from_db()
    real.refresh_from_db()
    assert local.base_url == "http://127.0.0.1:8100/sandbox/api/smartflo"
    assert real.base_url.startswith("https://cloudphone")
