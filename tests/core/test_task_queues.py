"""Webhook drains are taken before anything else queued (config/settings.py: CELERY_TASK_QUEUES)."""

from core.tasks import named


def test_drains_go_to_the_ingest_queue_and_everything_else_to_the_default():
    from config.celery import app

    router = app.amqp.router
    assert router.route({}, named("inbox.drain_webhook_events").name)["queue"].name == "ingest"
    assert router.route({}, named("inbox.deliver_message").name)["queue"].name == "celery"
    assert router.route({}, named("campaigns.run_campaign").name)["queue"].name == "celery"


def test_a_worker_started_without_queues_takes_ingest_first():
    from config.celery import app

    assert [queue.name for queue in app.conf.task_queues] == ["ingest", "celery"]
    assert app.conf.broker_transport_options["queue_order_strategy"] == "priority"
