"""Periodic jobs: one registry for every app, run by Celery beat or by hand.

An app registers each job in its AppConfig.ready() with `register_job`; crm never
imports the apps above it. A job is `func(run_date: date) -> summary` and must be
idempotent: running it again for the same date changes nothing. Beat runs every job
through the single task `crm.tasks.run_job`; `python manage.py run_job NAME [--date]`
runs one by hand (how support replays a missed day). After `migrate`, one
django-celery-beat PeriodicTask per job is created or brought in step with the code.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.utils import timezone

from crm.history import history_source

log = logging.getLogger(__name__)

TASK_NAME = "crm.tasks.run_job"
PERIODIC_TASK_PREFIX = "job: "


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[date], Any]
    description: str
    # crontab fields as django-celery-beat's CrontabSchedule takes them, in TIME_ZONE.
    schedule: dict = field(default_factory=dict)


_jobs: dict[str, Job] = {}

_CRONTAB_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")


def register_job(name: str, func: Callable[[date], Any], *, schedule: dict, description: str) -> None:
    """schedule: crontab fields, e.g. {"minute": "15", "hour": "2"} (the rest default to "*")."""
    unknown = set(schedule) - set(_CRONTAB_FIELDS)
    if unknown:
        raise ValueError(f"Unknown crontab fields for job {name!r}: {', '.join(sorted(unknown))}")
    _jobs[name] = Job(name=name, func=func, description=description, schedule={key: str(value) for key, value in schedule.items()})


def registered_jobs() -> list[Job]:
    return sorted(_jobs.values(), key=lambda job: job.name)


def get_job(name: str) -> Job:
    try:
        return _jobs[name]
    except KeyError:
        known = ", ".join(sorted(_jobs)) or "none"
        raise KeyError(f"Unknown job {name!r}; registered jobs: {known}") from None


def run_job(name: str, run_date: date | None = None) -> Any:
    """Run one job for a date (default: today in TIME_ZONE) and return its summary."""
    job = get_job(name)
    run_date = run_date or timezone.localdate()
    log.info("job %s for %s: starting", name, run_date)
    # Audited rows the job changes record it as their source (crm.history).
    with history_source(f"job: {name}"):
        summary = job.func(run_date)
    log.info("job %s for %s: %s", name, run_date, summary)
    return summary


def sync_periodic_tasks(sender=None, using: str = "default", **kwargs) -> None:
    """Create or update one beat PeriodicTask per registered job (post_migrate; idempotent).

    Tasks of jobs no longer registered are disabled, not deleted, so their history stays."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    for job in registered_jobs():
        fields = {key: job.schedule.get(key, "*") for key in _CRONTAB_FIELDS}
        crontab = CrontabSchedule.objects.using(using).filter(timezone=settings.TIME_ZONE, **fields).first()
        if crontab is None:
            crontab = CrontabSchedule.objects.using(using).create(timezone=settings.TIME_ZONE, **fields)
        wanted = {
            "task": TASK_NAME, "crontab": crontab, "interval": None, "kwargs": json.dumps({"name": job.name}),
            "description": job.description, "enabled": True,
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
    PeriodicTask.objects.using(using).filter(name__startswith=PERIODIC_TASK_PREFIX, task=TASK_NAME) \
        .exclude(name__in=[PERIODIC_TASK_PREFIX + name for name in _jobs]).update(enabled=False)


def retention_interactions(run_date: date) -> dict:
    from crm.retention import interactions_purge

    return interactions_purge(run_date=run_date)


register_job("crm.retention_interactions", retention_interactions, schedule={"minute": "30", "hour": "3"},
             description="Retention policy: delete resolved interactions older than RETENTION_INTERACTIONS_DAYS (0: keep).")
