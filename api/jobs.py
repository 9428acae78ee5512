"""The API's periodic jobs, declared in api.contributions (the registry: core/jobs.py)."""

from datetime import date


def purge(run_date: date) -> dict:
    from api.services import api_calls_purge, idempotency_purge
    from api.webhooks import deliveries_purge

    return {"idempotency_records": idempotency_purge(), "calls": api_calls_purge(), "webhook_deliveries": deliveries_purge()}


def webhooks_sweep(run_date: date) -> dict:
    from api.webhooks import deliveries_requeue_due

    return {"queued": deliveries_requeue_due()}
