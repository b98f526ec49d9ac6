"""Real-browser tests: Playwright driving Debian's chromium (no browser downloads on these machines).

Without /usr/bin/chromium the tests skip locally and fail in CI (CI=true), where .ci/run installs it.
"""

import os
import shutil

import pytest

# Playwright's sync API keeps an event loop in the test thread; the ORM calls the tests make
# between browser steps are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


_open_contexts = []  # every test's browser contexts, closed before its database is emptied


def _flush_retrying_deadlocks():
    """The live server's threads may still be finishing a request when a test ends (a page's refetch
    after a live event). Its reads lock tables one by one, the flush's TRUNCATE takes them all: on
    PostgreSQL one of the two is picked as a deadlock victim. When it is the flush, whose transaction is
    rolled back whole, the flush is tried again once the request has finished."""
    import time

    from django.db import OperationalError
    from django.test import TransactionTestCase

    teardown = TransactionTestCase._fixture_teardown
    if getattr(teardown, "retries_deadlocks", False):
        return

    def _fixture_teardown(self):
        for attempt in range(5):
            try:
                return teardown(self)
            except Exception as exc:  # flush wraps the OperationalError in a CommandError
                if attempt == 4 or not isinstance(exc.__cause__ or exc.__context__ or exc, OperationalError):
                    raise
                time.sleep(0.2 * (attempt + 1))

    _fixture_teardown.retries_deadlocks = True
    TransactionTestCase._fixture_teardown = _fixture_teardown


_flush_retrying_deadlocks()


@pytest.fixture
def new_page(browser):
    def make(viewport=None):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800})
        context.set_default_timeout(10_000)
        _open_contexts.append(context)
        return context.new_page()

    yield make
    _close_pages()


def _close_pages():
    while _open_contexts:
        _open_contexts.pop().close()


def _quiesce_server():
    """Stop what still talks to the test database before it is emptied: a page fixture is set up before
    the database fixture, so it would be torn down after the flush, and a page refetching over a live
    event (or an in-process task thread) then held locks the flush's TRUNCATE waited on: a deadlock."""
    import threading

    from config.celery import app

    _close_pages()
    task_names = set(app.tasks.keys())
    for thread in threading.enumerate():
        if thread.name in task_names:  # core.tasks names in-process task threads after their task
            thread.join(5)


@pytest.fixture
def quiet_live_server(live_server):
    yield live_server
    _quiesce_server()


@pytest.fixture
def login_page(new_page, quiet_live_server):
    """A browser page logged in through the real login form."""

    return _logged_in_pages(new_page, quiet_live_server.url)


def _logged_in_pages(new_page, base_url):
    def login(user, password, viewport=None):
        page = new_page(viewport) if viewport else new_page()  # a test's own new_page() picks its viewport itself
        page.goto(f"{base_url}/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return login


class _AsgiLiveServer:
    """Daphne serving config.asgi (HTTP + websockets) on a thread of this test process.

    In-process, so tests share the channel layer (in-memory or Redis) and settings with the server;
    the test database is a file on SQLite (config.test_settings) or PostgreSQL, so the server's threads
    and the test see the same rows. Twisted's reactor runs once per process: one server per session.
    """

    host = "127.0.0.1"

    def __init__(self):
        import threading

        from daphne.server import Server  # installs the asyncio reactor
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
        from django.core.asgi import get_asgi_application  # noqa: F401  (apps ready before routing imports)
        from twisted.internet import reactor

        from config.asgi import application

        self._reactor = reactor
        self._ready = threading.Event()
        self.server = Server(
            application=ASGIStaticFilesHandler(application),
            endpoints=[f"tcp:port=0:interface={self.host}"],
            signal_handlers=False,
            ready_callable=self._ready.set,
        )
        self.thread = threading.Thread(target=self.server.run, name="asgi-live-server", daemon=True)
        self.thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("daphne did not start")
        for _ in range(100):
            if self.server.listening_addresses:
                break
            self._ready.wait(0.05)
        self.port = self.server.listening_addresses[0][1]
        self.url = f"http://{self.host}:{self.port}"
        self.ws_url = f"ws://{self.host}:{self.port}"

    def stop(self):
        self._reactor.callFromThread(self._reactor.stop)
        self.thread.join(5)

    def __str__(self):
        return self.url


@pytest.fixture(scope="session")
def _asgi_server(django_db_setup, django_db_blocker):
    from django.test.utils import override_settings

    with django_db_blocker.unblock():
        server = _AsgiLiveServer()
    with override_settings(ALLOWED_HOSTS=["*"]):
        yield server
    server.stop()


@pytest.fixture
def asgi_live_server(_asgi_server, transactional_db, settings):
    """The ASGI live server (websockets work), with `.url`. The sandbox's API base and callbacks point
    at it: channels created with `api_base_url=asgi_live_server.url + "/sandbox/api/tata"` are served."""
    settings.ALLOWED_HOSTS = ["*"]
    settings.PUBLIC_BASE_URL = _asgi_server.url
    yield _asgi_server
    _quiesce_server()


@pytest.fixture
def asgi_login_page(new_page, asgi_live_server):
    """A browser page logged in through the real login form of the ASGI live server."""

    return _logged_in_pages(new_page, asgi_live_server.url)
