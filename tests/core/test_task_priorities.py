"""Webhook drains are served before sends: a campaign's thousands of queued sends must not hold its
status callbacks back (Redis pops a task's priority list 0 before 6)."""

from config.celery import app


def priority_of(task_name: str):
    return app.amqp.router.route({}, task_name).get("priority")


def test_sends_queue_behind_webhook_drains():
    assert priority_of("inbox.deliver_message") == 6
    assert priority_of("campaigns.run_campaign") == 6
    assert priority_of("inbox.reconcile_message") == 6
    assert priority_of("inbox.drain_webhook_events") in (None, 0)

