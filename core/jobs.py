"""Periodic jobs: one registry for every app, run by Celery beat or by hand.

An app declares each job in its contributions module (`job_registry.register(name, Job(...))`);
core never imports the apps above it. A job is `func(run_date: date) -> summary` and must be
idempotent: running it again for the same date changes nothing. Beat runs every job
through the single task `core.tasks.run_job`; `python manage.py run_job NAME [--date]`
runs one by hand (how support replays a missed day). After `migrate`, one
django-celery-beat PeriodicTask per job is created or brought in step with the code.

Every attempt, by Celery or by hand, is a `core.models.JobRun` row (running, succeeded,
retrying or failed, with the error), so a failed night is visible in the admin, not only
in a worker's log. The rows are written in their own autocommit statements, outside the
job's transactions, so a job that fails and rolls back still leaves its failed row.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError
from django.utils import timezone

from core.audit import history_source, job_source
from core.models import JobRun
from core.registry import Registry
from core.retention import purge_in_batches, retention_cutoff

log = logging.getLogger(__name__)

TASK_NAME = "core.tasks.run_job"
# The task's name before the platform moved to core: its beat rows are brought in step too.
LEGACY_TASK_NAMES = ("crm.tasks.run_job",)
ERROR_MAX_LENGTH = 2000
PERIODIC_TASK_PREFIX = "job: "


CRONTAB_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[date], Any]
    description: str
    # crontab fields as django-celery-beat's CrontabSchedule takes them, in TIME_ZONE ("*" when left out),
    # e.g. {"minute": "15", "hour": "2"}.
    schedule: dict = field(default_factory=dict)
    # The Celery queue beat sends the job to (config.celery.QUEUES): heavy reports go to "analytics".
    queue: str = "default"

    def __post_init__(self):
        unknown = set(self.schedule) - set(CRONTAB_FIELDS)
        if unknown:
            raise ValueError(f"Unknown crontab fields for job {self.name!r}: {', '.join(sorted(unknown))}")
        object.__setattr__(self, "schedule", {key: str(value) for key, value in self.schedule.items()})


# Job name -> Job; filled by each app's contributions module.
job_registry: Registry[Job] = Registry("jobs")


def registered_jobs() -> list[Job]:
    return sorted(job_registry.values(), key=lambda job: job.name)


def get_job(name: str) -> Job:
    """The job called `name`; KeyError naming the registered jobs otherwise."""
    try:
        return job_registry[name]
    except KeyError:
        known = ", ".join(sorted(job_registry)) or "none"
        raise KeyError(f"Unknown job {name!r}; registered jobs: {known}") from None


def run_job(
    name: str, run_date: date | None = None, *, source: str = JobRun.Source.MANUAL, task_id: str = "",
    attempt: int = 1, will_retry: bool = False,
) -> Any:
    """Run one job for a date (default: today in TIME_ZONE), record the attempt as a JobRun,
    and return the job's summary.

    A job that raises is recorded `retrying` when the caller (the Celery task) will try it
    again (`will_retry`), otherwise `failed`; the exception goes on to the caller either way.
    An unknown name raises KeyError and records nothing."""
    job = get_job(name)
    run_date = run_date or timezone.localdate()
    log.info("job %s for %s: starting (attempt %s)", name, run_date, attempt)
    run = job_run_start(job=name, run_date=run_date, source=source, task_id=task_id, attempt=attempt)
    try:
        # Audited rows the job changes record it as their source (core.audit).
        with history_source(job_source(name)):
            summary = job.func(run_date)
    except Exception as exc:
        job_run_finish(run, status=JobRun.Status.RETRYING if will_retry else JobRun.Status.FAILED, error=exc)
        raise
    job_run_finish(run, status=JobRun.Status.SUCCEEDED, summary=summary)
    log.info("job %s for %s: %s", name, run_date, summary)
    return summary


def job_run_start(*, job: str, run_date: date, source: str, task_id: str = "", attempt: int = 1) -> JobRun | None:
    """The row of a starting attempt. A Celery attempt redelivered after its worker died
    starts again on its own row (same task id and attempt), not on a second one.

    Recording never stops the job: with the database unreachable the job fails anyway and
    says why in the worker's log; here the error is only logged."""
    values = {"job": job, "run_date": run_date, "source": source, "status": JobRun.Status.RUNNING,
              "started_at": timezone.now(), "finished_at": None, "error": "", "summary": None}
    try:
        if task_id:
            run, _created = JobRun.objects.update_or_create(task_id=task_id, attempt=attempt, defaults=values)
            return run
        return JobRun.objects.create(task_id="", attempt=attempt, **values)
    except DatabaseError:
        log.exception("job %s for %s: could not record the start of attempt %s", job, run_date, attempt)
        return None


def job_run_finish(run: JobRun | None, *, status: str, summary: Any = None, error: BaseException | None = None) -> None:
    if run is None:
        return
    run.status, run.finished_at = status, timezone.now()
    run.summary = _as_json(summary)
    run.error = _error_text(error) if error is not None else ""
    try:
        run.save(update_fields=["status", "finished_at", "summary", "error"])
    except DatabaseError:
        log.exception("job %s for %s: could not record the end of attempt %s (%s)", run.job, run.run_date, run.attempt, status)


def _as_json(summary: Any) -> Any:
    """The summary as the JSON column can hold it; something JSON cannot hold is kept as its text."""
    try:
        json.dumps(summary, cls=DjangoJSONEncoder)
    except (TypeError, ValueError):
        return str(summary)
    return summary


def _error_text(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= ERROR_MAX_LENGTH else text[: ERROR_MAX_LENGTH - 1] + "\u2026"


def retry_countdown(retries: int) -> int:
    """Seconds before retry number `retries + 1`: the base doubled for each retry already made, capped."""
    return min(settings.JOB_RETRY_BACKOFF_SECONDS * 2**retries, settings.JOB_RETRY_BACKOFF_MAX_SECONDS)


def job_runs_purge(run_date: date) -> dict:
    """Delete job runs that started more than JOB_RUNS_KEEP_DAYS days before the run date."""
    cutoff = retention_cutoff(run_date, settings.JOB_RUNS_KEEP_DAYS)
    deleted = purge_in_batches(JobRun.objects.filter(started_at__lt=cutoff))
    return {"deleted": deleted, "older_than": cutoff.isoformat(), "days": settings.JOB_RUNS_KEEP_DAYS}


def sync_periodic_tasks(sender=None, using: str = "default", **kwargs) -> None:
    """Create or update one beat PeriodicTask per registered job (post_migrate; idempotent).

    Tasks of jobs no longer registered are disabled, not deleted, so their history stays."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    for job in registered_jobs():
        fields = {key: job.schedule.get(key, "*") for key in CRONTAB_FIELDS}
        crontab = CrontabSchedule.objects.using(using).filter(timezone=settings.TIME_ZONE, **fields).first()
        if crontab is None:
            crontab = CrontabSchedule.objects.using(using).create(timezone=settings.TIME_ZONE, **fields)
        wanted = {
            "task": TASK_NAME, "crontab": crontab, "interval": None, "kwargs": json.dumps({"name": job.name}),
            "description": job.description, "enabled": True, "queue": job.queue,
        }
        task = PeriodicTask.objects.using(using).filter(name=PERIODIC_TASK_PREFIX + job.name).first()
        if task is None:
            PeriodicTask.objects.using(using).create(name=PERIODIC_TASK_PREFIX + job.name, **wanted)
            continue
        # Only save what differs: a save bumps beat's change marker and reloads its schedule.
        changed = [key for key, value in wanted.items() if getattr(task, key) != value and key != "enabled"]
        if changed:
            for key in changed:
                setattr(task, key, wanted[key])
            task.save()
    PeriodicTask.objects.using(using).filter(name__startswith=PERIODIC_TASK_PREFIX, task__in=(TASK_NAME, *LEGACY_TASK_NAMES)) \
        .exclude(name__in=[PERIODIC_TASK_PREFIX + name for name in job_registry]).update(enabled=False)
