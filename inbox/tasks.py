"""Celery tasks of the inbox: thin — load, call a service."""

from celery import shared_task

from inbox import services


@shared_task(name="inbox.wake_snoozed_conversations")
def wake_snoozed_conversations() -> int:
    return services.wake_snoozed_conversations()
