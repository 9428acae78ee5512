"""Celery tasks of campaigns: thin, take ids, call a service. Safe to run twice.

Sending tasks are acks_late (a worker killed mid-task leaves the task to be delivered
again) and retry with exponential backoff while the provider is unavailable; when the
retries run out, what is still queued of the chunk ends failed, with the error.
"""

from celery import shared_task
from django.conf import settings

from campaigns.services import sending


@shared_task(name="campaigns.tasks.send_messages", bind=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=None)
def send_messages(self, message_ids: list[int]):
    try:
        result = sending.messages_send(message_ids=message_ids)
    except sending.TransientSendError as error:
        if self.request.retries >= settings.CAMPAIGNS_SEND_RETRIES:
            sending.messages_fail_queued(message_ids=message_ids, error=f"Gave up after {self.request.retries} retries: {error}")
            return {"failed": "retries exhausted"}
        # 30 s, 60 s, 120 s... capped at 30 minutes.
        raise self.retry(exc=error, countdown=min(30 * 2 ** self.request.retries, 1800)) from None
    return {"sent": result.sent, "failed": result.failed, "skipped": result.skipped}


@shared_task(name="campaigns.tasks.start_campaign", acks_late=True, reject_on_worker_lost=True)
def start_campaign(campaign_id: int):
    from campaigns.services.campaigns import campaign_start

    return {"started": campaign_start(campaign_id=campaign_id)}
