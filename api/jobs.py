"""The API's periodic jobs, registered with crm's job registry (see crm/jobs.py)."""

from datetime import date

from crm.jobs import register_job


def purge(run_date: date) -> dict:
    from api.services import api_calls_purge, idempotency_purge
    from api.webhooks import deliveries_purge

    return {"idempotency_records": idempotency_purge(), "calls": api_calls_purge(), "webhook_deliveries": deliveries_purge()}


def webhooks_sweep(run_date: date) -> dict:
    from api.webhooks import deliveries_requeue_due

    return {"queued": deliveries_requeue_due()}


def register() -> None:
    register_job("api.purge", purge, schedule={"minute": "40", "hour": "3"},
                 description="Delete stored Idempotency-Key responses past API_IDEMPOTENCY_TTL_HOURS, "
                             "API call log rows past API_CALL_LOG_DAYS and finished webhook deliveries past "
                             "API_WEBHOOK_KEEP_DAYS.")
    register_job("api.webhooks_sweep", webhooks_sweep, schedule={"minute": "*"},
                 description="Queue the webhook deliveries that are due: retries whose backoff is over, and "
                             "deliveries that could not be queued (broker down) or whose task was lost.")
