"""Celery tasks of crm: thin wrappers that call services or jobs."""

from datetime import date

from celery import shared_task

from crm import jobs


@shared_task(
    name="crm.tasks.run_job", bind=True, autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600,
    max_retries=5, acks_late=True, dont_autoretry_for=(KeyError,),
)
def run_job(self, name: str, date_iso: str | None = None):
    """Run a registered periodic job; jobs are idempotent, so a retry or a redelivery is safe.

    Beat sends no date: the job runs for today in TIME_ZONE."""
    run_date = date.fromisoformat(date_iso) if date_iso else None
    summary = jobs.run_job(name, run_date)
    return summary if isinstance(summary, (dict, list, str, int, float, type(None))) else str(summary)
