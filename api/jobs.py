"""The API's periodic job, registered with crm's job registry (see crm/jobs.py)."""

from datetime import date

from crm.jobs import register_job


def purge(run_date: date) -> dict:
    from api.services import api_calls_purge, idempotency_purge

    return {"idempotency_records": idempotency_purge(), "calls": api_calls_purge()}


def register() -> None:
    register_job("api.purge", purge, schedule={"minute": "40", "hour": "3"},
                 description="Delete stored Idempotency-Key responses past API_IDEMPOTENCY_TTL_HOURS "
                             "and API call log rows past API_CALL_LOG_DAYS.")
