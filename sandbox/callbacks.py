"""How the sandbox posts its status callbacks: signed, in order per message, after their delays.

One courier per process keeps every planned callback in a heap by due time, and a few threads post
them over keep-alive connections (one requests.Session each). A campaign makes three callbacks per
message, so a thread and a new TCP connection per post (what this replaced) cost the web server a
thread start and a connect per callback while it also answered the sends and the webhooks. A
message's callbacks stay in order: the next one is planned only once the previous one was posted.
The threads only do HTTP: no database access.
"""

import heapq
import itertools
import logging
import os
import threading
import time
from dataclasses import dataclass, field

import requests

from inbox.providers.tata_whatsapp import SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)

POST_TIMEOUT = (3, 10)
COURIER_THREADS = 4


@dataclass
class Callback:
    delay: float  # seconds after the send
    body: bytes


def post_signed(url: str, partner_token: str, body: bytes, session: requests.Session | None = None) -> requests.Response:
    headers = {"Content-Type": "application/json", "User-Agent": "Sampark-Sandbox/1.0"}
    if partner_token:
        headers[SIGNATURE_HEADER] = sign(body, partner_token)
    return (session or requests).post(url, data=body, headers=headers, timeout=POST_TIMEOUT)


@dataclass
class Plan:
    """One send's callbacks; `done` is set once the last was posted (or failed)."""

    url: str
    partner_token: str
    callbacks: list[Callback]
    started: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)

    def join(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)


class Courier:
    def __init__(self, threads: int = COURIER_THREADS):
        self.threads = threads
        self._pid = None

    def _ensure_started(self) -> None:
        """Threads do not survive a fork (gunicorn preloads the app, then forks its workers): each
        process starts its own on first use."""
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._due: list = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        for number in range(self.threads):
            threading.Thread(target=self._run, name=f"sandbox-callbacks-{number}", daemon=True).start()

    def deliver(self, plan: Plan) -> Plan:
        if not plan.callbacks:
            plan.done.set()
            return plan
        with _start_lock:
            self._ensure_started()
        self._plan(plan, 0)
        return plan

    def _plan(self, plan: Plan, index: int) -> None:
        with self._wake:
            heapq.heappush(self._due, (plan.started + plan.callbacks[index].delay, next(self._order), plan, index))
            self._wake.notify()

    def _next(self) -> tuple[Plan, int]:
        with self._wake:
            while True:
                wait = self._due[0][0] - time.monotonic() if self._due else None
                if wait is not None and wait <= 0:
                    _, _, plan, index = heapq.heappop(self._due)
                    return plan, index
                self._wake.wait(wait)

    def _run(self) -> None:
        session = requests.Session()
        while True:
            plan, index = self._next()
            try:
                response = post_signed(plan.url, plan.partner_token, plan.callbacks[index].body, session)
                if response.status_code >= 300:
                    logger.warning("sandbox callback to %s answered %s", plan.url, response.status_code)
            except requests.RequestException as exc:
                logger.warning("sandbox callback to %s failed: %s", plan.url, exc.__class__.__name__)
            except Exception:  # noqa: BLE001 - a courier thread that died would silently stop every callback
                logger.exception("sandbox callback to %s failed", plan.url)
            if index + 1 < len(plan.callbacks):
                self._plan(plan, index + 1)
            else:
                plan.done.set()


_start_lock = threading.Lock()
courier = Courier()


def deliver_later(url: str, partner_token: str, callbacks: list[Callback]) -> Plan:
    """Post the callbacks in order, each `delay` seconds after now, from the process's courier threads."""
    return courier.deliver(Plan(url, partner_token, list(callbacks)))
