"""Celery tasks of the partner API: thin, take ids, call a service. Safe to run twice."""

from celery import shared_task

from api import webhooks


@shared_task(name="api.tasks.deliver_webhook", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_webhook(delivery_id: int, attempts: int | None = None) -> str:
    """One attempt at one webhook delivery. The retries are not Celery retries: a failed attempt
    makes the row due again later (exponential backoff, stored on the row) and the sweeper job
    queues it then, so a retry survives a broker or worker restart."""
    webhooks.payloads_render([delivery_id])
    return webhooks.delivery_attempt(delivery_id=delivery_id, expected_attempts=attempts)


@shared_task(name="api.tasks.deliver_webhooks", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_webhooks(deliveries: list[list[int]]) -> int:
    """One attempt at each of these deliveries ([delivery id, attempts so far], all to one subscription),
    one after the other; each is deliver_webhook's attempt, with its own retry time on its row. The payloads
    a large batch left to the worker are rendered first, together."""
    webhooks.payloads_render([delivery_id for delivery_id, _attempts in deliveries])
    for delivery_id, attempts in deliveries:
        webhooks.delivery_attempt(delivery_id=delivery_id, expected_attempts=attempts)
    return len(deliveries)
