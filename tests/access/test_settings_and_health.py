"""Finding 20: published development keys and an empty SECRET_KEY never start a production process;
healthz checks the database."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import OperationalError

DEV_ENCRYPTION_KEY = "c2FtcGFyay1kZXYta2V5LW5vdC1mb3ItcHJvZHVjdGk="
GOOD_FERNET = "4o8QeV9a2jV6r2V7b3mvc7q9ZkZXy7b0mA3U7n1nQ2A="


def _start(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"], cwd=settings.BASE_DIR, env={**clean, **env},
        capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize("env,message", [
    ({"DEBUG": "false", "SECRET_KEY": "insecure-dev-key-change-me", "FIELD_ENCRYPTION_KEY": GOOD_FERNET}, "published development key"),
    ({"DEBUG": "false", "SECRET_KEY": "a-real-secret-" * 4, "FIELD_ENCRYPTION_KEY": DEV_ENCRYPTION_KEY}, "published development key"),
    ({"DEBUG": "false", "FIELD_ENCRYPTION_KEY": GOOD_FERNET}, "SECRET_KEY is empty"),
    ({"DEBUG": "false", "SECRET_KEY": "", "FIELD_ENCRYPTION_KEY": GOOD_FERNET}, "SECRET_KEY is empty"),
    ({"DEBUG": "true", "SECRET_KEY": "  "}, "SECRET_KEY is empty"),
])
def test_start_refuses_unsafe_keys(env, message):
    result = _start(**env)
    assert result.returncode != 0 and message in result.stderr


def test_start_accepts_real_keys_and_the_dev_keys_in_debug():
    assert _start(DEBUG="false", SECRET_KEY="a-real-secret-" * 4, FIELD_ENCRYPTION_KEY=GOOD_FERNET).returncode == 0
    assert _start(DEBUG="true").returncode == 0


def test_healthz_checks_the_database(client, db, monkeypatch):
    assert client.get("/healthz").status_code == 200

    class Down:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr("core.views.connection", Down())
    response = client.get("/healthz")
    assert response.status_code == 503 and b"database" in response.content
