"""Celery tasks of the platform: the one task that runs every periodic job (core.jobs)."""

from datetime import date

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from core import jobs
from core.models import JobRun


@shared_task(name=jobs.TASK_NAME, bind=True, acks_late=True)
def run_job(self, name: str, date_iso: str | None = None):
    """Run a registered periodic job; jobs are idempotent, so a retry or a redelivery is safe.

    Beat sends no date: the job runs for today in TIME_ZONE. A job that raises is retried up to
    JOB_MAX_RETRIES times with exponential backoff (core.jobs.retry_countdown; no jitter: one
    beat task per job, nothing to spread); every attempt is a JobRun row, and the last one of a
    job that never succeeded ends `failed` with the error. An unknown job name raises KeyError
    at once: retrying cannot make it known."""
    jobs.get_job(name)
    # The date is fixed by the first attempt, so a retry after midnight still runs the same day.
    run_date = date.fromisoformat(date_iso) if date_iso else timezone.localdate()
    retries, max_retries = self.request.retries, settings.JOB_MAX_RETRIES
    try:
        summary = jobs.run_job(
            name, run_date, source=JobRun.Source.TASK, task_id=self.request.id or "", attempt=retries + 1,
            will_retry=retries < max_retries,
        )
    except Exception as exc:
        if retries >= max_retries:
            raise
        raise self.retry(exc=exc, kwargs={"name": name, "date_iso": run_date.isoformat()},
                         countdown=jobs.retry_countdown(retries), max_retries=max_retries) from exc
    return summary if isinstance(summary, (dict, list, str, int, float, type(None))) else str(summary)
