"""The job registry: run_job by hand, the Celery task, and beat's schedule kept in step."""

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_celery_beat.models import PeriodicTask

from club import services
from club.models import Membership
from core import jobs
from core.tasks import run_job

pytestmark = pytest.mark.django_db

CLUB_JOBS = {"club.birthdays", "club.points_expiry", "club.points_pending_release", "club.tier_review"}


def test_run_job_lists_every_registered_job():
    out = StringIO()
    call_command("run_job", "--list", stdout=out)
    for name in CLUB_JOBS:
        assert name in out.getvalue()


def test_run_job_runs_a_job_for_a_date(member):
    out = StringIO()
    services.points_award(member=member, points=600, source="event", reason="x", idempotency_key="x")
    Membership.objects.filter(pk=member.pk).update(tier=None)
    call_command("run_job", "club.tier_review", "--date", date.today().isoformat(), stdout=out)
    assert '"changed": 1' in out.getvalue()
    member.refresh_from_db()
    assert member.tier.name == "Silver"


@pytest.mark.parametrize("args, message", [
    (["nope"], "Unknown job"),
    (["club.tier_review", "--date", "31/01/2025"], "not a date"),
    ([], "Name a job"),
])
def test_run_job_explains_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("run_job", *args, stdout=StringIO())


def test_beat_has_one_periodic_task_per_job_after_migrate():
    tasks = {task.name: task for task in PeriodicTask.objects.filter(name__startswith=jobs.PERIODIC_TASK_PREFIX)}
    for name in CLUB_JOBS:
        task = tasks[jobs.PERIODIC_TASK_PREFIX + name]
        assert task.task == "core.tasks.run_job" and task.enabled
        assert json.loads(task.kwargs) == {"name": name}
        assert task.crontab is not None
    review = tasks[jobs.PERIODIC_TASK_PREFIX + "club.tier_review"].crontab
    assert (review.minute, review.hour) == ("45", "2")


def test_syncing_the_schedule_again_changes_nothing_and_disables_stale_jobs():
    PeriodicTask.objects.create(name=jobs.PERIODIC_TASK_PREFIX + "gone", task=jobs.TASK_NAME,
                                crontab=PeriodicTask.objects.filter(crontab__isnull=False).first().crontab)
    before = {task.name: task.last_run_at for task in PeriodicTask.objects.all()}
    count = PeriodicTask.objects.count()
    jobs.sync_periodic_tasks()
    jobs.sync_periodic_tasks()
    assert PeriodicTask.objects.count() == count
    assert not PeriodicTask.objects.get(name=jobs.PERIODIC_TASK_PREFIX + "gone").enabled
    assert set(before) == {task.name for task in PeriodicTask.objects.all()}


def test_the_task_runs_a_job_and_returns_its_summary(member):
    result = run_job.apply(kwargs={"name": "club.points_pending_release", "date_iso": "2025-01-01"})
    assert result.get() == {"released": 0, "points": 0, "members": 0}


def test_a_job_refuses_unknown_crontab_fields():
    with pytest.raises(ValueError):
        jobs.Job(name="bad", func=lambda run_date: None, schedule={"second": "1"}, description="")
