from celery import shared_task

from dialplan import services


@shared_task(name="dialplan.prune_requests")
def prune_requests() -> int:
    return services.prune_requests()
