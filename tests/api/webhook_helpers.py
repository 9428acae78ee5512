"""Helpers of the webhook tests (the fixtures, `receiver` and `webhook_settings`, are in tests/api/conftest.py)."""

import json

from api import webhooks
from config.celery import app as celery_app


class Receiver:
    """A partner's endpoint: answers `status` to every POST (after `delay` seconds) and records each request."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.url = ""

    def bodies(self) -> list[dict]:
        return [json.loads(request["body"]) for request in self.requests]


def forget_connections() -> None:
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


def subscribe(partner, receiver, *events, own_data_only=False):
    return webhooks.webhook_subscribe(partner=partner, url=receiver.url, events=list(events), own_data_only=own_data_only)


def sweep():
    from core import jobs

    return jobs.run_job("api.webhooks_sweep")
