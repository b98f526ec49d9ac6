"""A database error while delivering (a lock on the embedded default's SQLite, a lost connection) is
not the message's fault: the delivery is tried again, never left queued forever."""

import pytest
import responses
from django.db import OperationalError

from core import tasks as core_tasks
from inbox import tasks
from inbox.outbound import delivery, send
from inbox.models import Message

from .conftest import TATA

pytestmark = pytest.mark.django_db


@responses.activate
def test_a_locked_database_is_retried_and_the_message_is_sent(conversation, agent, monkeypatch, django_capture_on_commit_callbacks):
    responses.post(f"{TATA}/whatsapp-cloud/messages", json={"id": "r-1"})
    real, calls = delivery.deliver, []

    def locked_first(message_id, *, retries=0):
        calls.append(retries)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real(message_id, retries=retries)

    monkeypatch.setattr(delivery, "deliver", locked_first)
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(conversation, by=agent, body="Hello")
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and calls == [0, 1]


def test_on_the_embedded_default_the_retry_waits_on_a_timer(conversation, agent, monkeypatch, settings):
    settings.TASKS_INLINE = False
    later = []
    monkeypatch.setattr(core_tasks, "enqueue_later", lambda task, args, countdown, **options: later.append((task.name, args, countdown, options)))
    monkeypatch.setattr(delivery, "deliver", lambda message_id, *, retries=0: (_ for _ in ()).throw(OperationalError("database is locked")))
    tasks.deliver_message.apply(args=[41])
    assert later == [("inbox.deliver_message", (41,), 0.5, {"retries": 1})]


def test_a_database_that_stays_broken_gives_up_after_the_retries(monkeypatch, settings):
    monkeypatch.setattr(delivery, "deliver", lambda message_id, *, retries=0: (_ for _ in ()).throw(OperationalError("disk I/O error")))
    with pytest.raises(OperationalError):
        tasks.deliver_message.apply(args=[41], throw=True)
