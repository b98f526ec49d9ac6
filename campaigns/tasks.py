from celery import shared_task


@shared_task(name="campaigns.run_campaign", acks_late=True, reject_on_worker_lost=True)
def run_campaign(campaign_id: int) -> int:
    from campaigns import services

    return services.run(campaign_id)
