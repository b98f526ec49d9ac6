"""`make run`'s demo: a sandbox Smartflo account with numbers and past calls to import, idempotent."""

import random

import pytest

from sandbox.models import SandboxCall
from telephony import demo
from telephony.models import TelephonyConnection

pytestmark = pytest.mark.django_db


def test_demo_creates_a_sandbox_smartflo_account_once(settings):
    settings.SANDBOX_ENABLED = True
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    from sandbox import demo as sandbox_demo

    for _ in range(2):
        demo.seed(rng=random.Random(1))
        sandbox_demo.seed(rng=random.Random(1))
    connection = TelephonyConnection.objects.get()
    assert connection.base_url == "http://127.0.0.1:8000/sandbox/api/smartflo" and connection.auth_token
    assert connection.phone_numbers and connection.is_default and connection.is_smartflo
    assert SandboxCall.objects.filter(connection=connection).count() == 120


def test_no_demo_account_without_the_sandbox(settings):
    settings.SANDBOX_ENABLED = False
    demo.seed(rng=random.Random(1))
    assert not TelephonyConnection.objects.exists()
