"""The production shape end to end, through its front door: nginx → gunicorn (HTTP) and daphne (/ws/),
a Celery worker applying webhooks, on the test PostgreSQL database and Redis. An agent logs in, a
customer's message arrives live over the websocket, the agent replies and the sandbox's callbacks move
the ticks. The same `Shape` that `make serve` runs (deploy/serve.py), pointed at pytest's test database.

Needs PostgreSQL and Redis (DATABASE_URL / REDIS_URL; CI sets both) and nginx + gunicorn: skipped
locally without them, a failure in CI (CI=true).
"""

import os
import re
import secrets
import shutil
import socket

import pytest
import requests
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.db import connection
from playwright.sync_api import expect

from deploy.serve import Shape, free_port, nginx_binary
from inbox.models import Channel, Message
from sandbox import omni
from tests.e2e.conftest import _logged_in_pages
from tests.inbox.tata_payloads import PARTNER_TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENCRYPTION_KEY = Fernet.generate_key().decode()  # the servers and this test encrypt channel secrets alike
PBKDF2 = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # the servers' hasher (tests use MD5)


def _missing_requirement() -> str | None:
    if not nginx_binary():
        return "nginx is not installed (apt-get install -y nginx)"
    if not shutil.which("gunicorn", path=os.path.dirname(os.path.realpath(os.sys.executable))) and not os.path.exists(
        os.path.join(django_settings.BASE_DIR, ".venv", "bin", "gunicorn")
    ):
        return "gunicorn is not installed (pip install -r requirements.txt)"
    if connection.vendor != "postgresql" or not django_settings.REDIS_URL:
        return "the production shape runs on PostgreSQL and Redis: set DATABASE_URL and REDIS_URL"
    return None


def _test_database_url() -> str:
    db = connection.settings_dict  # pytest-django has switched NAME to the test database
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="module")
def shape(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        missing = _missing_requirement()
        if missing:
            if os.environ.get("CI"):
                pytest.fail(f"CI must run the production shape: {missing}")
            pytest.skip(missing)
        run_dir = tmp_path_factory.mktemp("serve")
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)},
            "DATABASE_URL": _test_database_url(),
            "REDIS_URL": django_settings.REDIS_URL,
            "CHANNELS_PREFIX": f"sampark-e2e-{os.getpid()}",  # its own groups, drain flag and rate buckets
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "FIELD_ENCRYPTION_KEY": ENCRYPTION_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SANDBOX_ENABLED": "true",
            "STATIC_ROOT": str(run_dir / "static"),
            "LOG_LEVEL": "WARNING",
            "CELERY_CONCURRENCY": "2",
        }
        production = Shape(env, port=free_port(), run_dir=run_dir, web_workers=2, beat=False, logs_to_files=True)
        production.prepare(migrate=False)  # pytest-django migrated the test database
        production.start()
    try:
        yield production
    finally:
        production.stop()


@pytest.fixture
def secrets_as_the_servers(settings):
    settings.FIELD_ENCRYPTION_KEY = ENCRYPTION_KEY
    settings.PASSWORD_HASHERS = PBKDF2


def test_front_door_serves_static_refuses_big_bodies_and_proxies_the_rest(shape):
    health = requests.get(f"{shape.url}/healthz", timeout=5)
    assert health.status_code == 200 and health.headers["Server"] == "nginx"
    page = requests.get(f"{shape.url}/accounts/login/", timeout=5)
    assert page.status_code == 200
    script = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page.text).group(1)  # hashed (DEBUG off)
    static = requests.get(shape.url + script, timeout=5)
    assert static.status_code == 200 and "immutable" in static.headers["Cache-Control"]

    limit = django_settings.WEBHOOK_MAX_BODY_BYTES
    too_big = requests.post(f"{shape.url}/webhooks/tata/unknown/", data=b"x" * (limit + 1), timeout=10)
    assert too_big.status_code == 413
    chunked = requests.post(f"{shape.url}/webhooks/tata/unknown/", data=iter([b"x" * 65536] * (limit // 65536 + 2)), timeout=10)
    assert chunked.status_code == 413
    assert requests.post(f"{shape.url}/webhooks/tata/unknown/", data=b"{}", timeout=5).status_code == 404  # gunicorn's answer

    # /ws/ reaches daphne, which refuses an anonymous socket at the handshake (gunicorn would say 404);
    # the browser test below gets its socket upgraded.
    with socket.create_connection(("127.0.0.1", shape.port), timeout=5) as ws:
        ws.sendall(
            f"GET /ws/events/ HTTP/1.1\r\nHost: 127.0.0.1:{shape.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: {shape.url}\r\n\r\n".encode()
        )
        assert ws.recv(200).startswith(b"HTTP/1.1 403 Access denied")


def test_agent_logs_in_through_the_front_door_gets_a_message_live_and_replies(
    shape, new_page, secrets_as_the_servers, agent, sales_team, password
):
    agent.set_password(password)  # hashed as the servers hash
    agent.save()
    channel = Channel.objects.create(
        kind=Channel.Kind.WHATSAPP, name="Sandbox WhatsApp", phone_number="+919876500001",
        api_base_url=f"{shape.url}/sandbox/api/tata", access_token="sandbox-token", partner_token=PARTNER_TOKEN, team=sales_team,
    )

    page = _logged_in_pages(new_page, shape.url)(agent, password)
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    page.goto(f"{shape.url}/inbox/?view=unassigned")  # a new customer's conversation is nobody's yet (the inbox opens on Mine)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")

    _, body = omni.customer_message(channel, "+919812345678", name="Meera Iyer", text="Is my order shipped?")
    response = omni.post_signed(f"{shape.url}/webhooks/tata/{channel.webhook_token}/", PARTNER_TOKEN, body)
    assert response.status_code == 200, response.text

    row = page.locator("#conv-list .conv").filter(has_text="Meera Iyer")  # no reload: the websocket brought it
    expect(row).to_be_visible(timeout=15_000)
    row.locator("a").click()
    expect(page.locator(".bubble.in").first).to_contain_text("Is my order shipped?")

    page.get_by_role("textbox", name="Message", exact=True).fill("Yes, it left today.")
    page.get_by_role("button", name="Send", exact=True).click()
    bubble = page.locator(".bubble.out").filter(has_text="Yes, it left today.")
    expect(bubble.locator(".tick-read")).to_be_visible(timeout=15_000)  # sent by the worker, callbacks back through nginx
    reply = Message.objects.get(direction="out")
    assert reply.status == "read" and reply.provider_message_id.startswith("wamid.")
