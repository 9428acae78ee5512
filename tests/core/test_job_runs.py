"""Every attempt at a periodic job is a JobRun row (issue 8): a failing job is retried with
exponential backoff and ends visibly `failed`, never lost; runs by hand are recorded too."""

from datetime import date, datetime, timedelta
from contextlib import ExitStack
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from core import jobs, roles
from core.models import JobRun
from core.tasks import run_job

pytestmark = pytest.mark.django_db

RUN_DAY = "2026-03-01"
CHANGELIST = reverse("admin:core_jobrun_changelist")


class Flaky:
    """A job that raises for its first `failures` calls, then succeeds."""

    def __init__(self, failures: int, message: str = "the warehouse API is down"):
        self.failures, self.message, self.calls = failures, message, []

    def __call__(self, run_date: date):
        self.calls.append(run_date)
        if len(self.calls) <= self.failures:
            raise RuntimeError(f"{self.message} (call {len(self.calls)})")
        return {"done": len(self.calls), "for": run_date}


@pytest.fixture
def register():
    """Register test-only jobs for one test, and take them out again."""
    added = []

    def add(name: str, func):
        added.append(jobs.Job(name=name, func=func, schedule={"minute": "0"}, description="test"))
        stack.enter_context(jobs.job_registry.override({**jobs.job_registry, **{job.name: job for job in added}}))
        return func

    with ExitStack() as stack:
        yield add


@pytest.fixture
def retries(settings, monkeypatch):
    """Eager retries as a worker does them: each retry runs (at once), a failure becomes the result.

    (With eager propagation on, Celery raises the first Retry instead of running it.)"""
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    settings.JOB_MAX_RETRIES = 3
    settings.JOB_RETRY_BACKOFF_SECONDS = 10
    settings.JOB_RETRY_BACKOFF_MAX_SECONDS = 3600
    return settings


def _runs(name: str) -> list[JobRun]:
    return list(JobRun.objects.filter(job=name).order_by("attempt", "pk"))


def test_it_records_a_successful_run_with_its_summary(register):
    register("test.ok", Flaky(0))
    result = run_job.apply(kwargs={"name": "test.ok", "date_iso": RUN_DAY})
    assert result.get() == {"done": 1, "for": date(2026, 3, 1)}
    [run] = _runs("test.ok")
    assert (run.status, run.attempt, run.source, run.task_id) == (JobRun.Status.SUCCEEDED, 1, JobRun.Source.TASK, result.id)
    assert run.run_date == date(2026, 3, 1) and run.error == ""
    assert run.summary == {"done": 1, "for": "2026-03-01"}
    assert run.started_at <= run.finished_at


def test_it_retries_a_failing_job_and_records_every_attempt_until_the_last_one_fails(register, retries):
    job = register("test.broken", Flaky(failures=100))
    result = run_job.apply(kwargs={"name": "test.broken", "date_iso": RUN_DAY})
    assert result.state == "FAILURE" and "warehouse API is down" in str(result.result)
    runs = _runs("test.broken")
    assert [run.attempt for run in runs] == [1, 2, 3, 4]  # the first try and JOB_MAX_RETRIES retries
    assert [run.status for run in runs] == ["retrying", "retrying", "retrying", "failed"]
    assert len({run.task_id for run in runs}) == 1 and runs[0].task_id
    assert runs[-1].error == "RuntimeError: the warehouse API is down (call 4)"
    assert all(run.finished_at and run.summary is None for run in runs)
    assert len(job.calls) == 4 and set(job.calls) == {date(2026, 3, 1)}


def test_a_job_that_fails_once_then_succeeds_ends_succeeded(register, retries):
    register("test.flaky", Flaky(failures=1))
    result = run_job.apply(kwargs={"name": "test.flaky", "date_iso": RUN_DAY})
    assert result.get() == {"done": 2, "for": date(2026, 3, 1)}
    runs = _runs("test.flaky")
    assert [(run.attempt, run.status) for run in runs] == [(1, "retrying"), (2, "succeeded")]
    assert runs[0].error == "RuntimeError: the warehouse API is down (call 1)" and runs[1].error == ""


def test_a_retry_runs_the_day_of_the_first_attempt_even_after_midnight(register, retries, monkeypatch):
    job = register("test.flaky", Flaky(failures=1))
    days = iter([date(2026, 3, 1), date(2026, 3, 2)])
    monkeypatch.setattr(timezone, "localdate", lambda *args: next(days))
    run_job.apply(kwargs={"name": "test.flaky"})  # as beat sends it: no date
    assert job.calls == [date(2026, 3, 1), date(2026, 3, 1)]
    assert {run.run_date for run in _runs("test.flaky")} == {date(2026, 3, 1)}


def test_with_no_retries_the_first_failure_is_final(register, retries):
    retries.JOB_MAX_RETRIES = 0
    register("test.broken", Flaky(failures=100))
    assert run_job.apply(kwargs={"name": "test.broken", "date_iso": RUN_DAY}).state == "FAILURE"
    assert [(run.attempt, run.status) for run in _runs("test.broken")] == [(1, "failed")]


def test_the_backoff_doubles_from_the_base_and_stops_at_the_cap(settings):
    settings.JOB_RETRY_BACKOFF_SECONDS, settings.JOB_RETRY_BACKOFF_MAX_SECONDS = 60, 600
    assert [jobs.retry_countdown(retries) for retries in range(6)] == [60, 120, 240, 480, 600, 600]


def test_the_task_asks_celery_for_the_backoff_countdown(register, retries, monkeypatch):
    register("test.broken", Flaky(failures=100))
    asked = []
    task = run_job._get_current_object()
    original = task.retry

    def spy(*args, **kwargs):
        asked.append((kwargs["countdown"], kwargs["max_retries"]))
        return original(*args, **kwargs)

    monkeypatch.setattr(task, "retry", spy)
    assert run_job.apply(kwargs={"name": "test.broken", "date_iso": RUN_DAY}).state == "FAILURE"
    assert asked == [(10, 3), (20, 3), (40, 3)]


def test_an_unknown_job_is_refused_at_once_and_records_nothing():
    with pytest.raises(KeyError, match="Unknown job"):
        run_job.apply(kwargs={"name": "no.such.job"})
    assert not JobRun.objects.exists()


def test_a_long_error_is_cut_to_fit(register):
    register("test.loud", Flaky(failures=1, message="x" * 10_000))
    with pytest.raises(CommandError):
        call_command("run_job", "test.loud", stdout=StringIO())
    [run] = _runs("test.loud")
    assert len(run.error) == jobs.ERROR_MAX_LENGTH and run.error.startswith("RuntimeError: xxx") and run.error.endswith("\u2026")


def test_a_summary_json_cannot_hold_is_kept_as_text(register):
    register("test.odd", lambda run_date: {"rows": {1, 2}})
    call_command("run_job", "test.odd", "--date", RUN_DAY, stdout=StringIO())
    [run] = _runs("test.odd")
    assert run.status == JobRun.Status.SUCCEEDED and run.summary == "{'rows': {1, 2}}"


def test_a_redelivered_attempt_starts_again_on_its_own_row(register):
    register("test.ok", Flaky(0))
    first = jobs.job_run_start(job="test.ok", run_date=date(2026, 3, 1), source=JobRun.Source.TASK, task_id="abc", attempt=2)
    # The worker died here; the broker hands the same message (same id, same retry count) to another worker.
    jobs.run_job("test.ok", date(2026, 3, 1), source=JobRun.Source.TASK, task_id="abc", attempt=2)
    [run] = _runs("test.ok")
    assert run.pk == first.pk and run.status == JobRun.Status.SUCCEEDED


# Runs by hand --------------------------------------------------------------------------------


def test_a_run_by_hand_is_recorded(register):
    register("test.ok", Flaky(0))
    out = StringIO()
    call_command("run_job", "test.ok", "--date", RUN_DAY, stdout=out)
    assert '"done": 1' in out.getvalue()
    [run] = _runs("test.ok")
    assert (run.source, run.task_id, run.attempt, run.status) == (JobRun.Source.MANUAL, "", 1, JobRun.Status.SUCCEEDED)


def test_a_failed_run_by_hand_is_recorded_failed_and_says_why(register, retries):
    job = register("test.broken", Flaky(failures=100))
    with pytest.raises(CommandError, match="test.broken failed: RuntimeError: the warehouse API is down"):
        call_command("run_job", "test.broken", "--date", RUN_DAY, stdout=StringIO())
    assert [(run.status, run.source) for run in _runs("test.broken")] == [("failed", "manual")]
    assert len(job.calls) == 1  # by hand: no retries, the person running it decides


def test_a_bad_name_or_date_by_hand_records_nothing():
    for args in (["no.such.job"], ["core.job_runs_purge", "--date", "yesterday"]):
        with pytest.raises(CommandError):
            call_command("run_job", *args, stdout=StringIO())
    assert not JobRun.objects.exists()


# Housekeeping --------------------------------------------------------------------------------


def test_the_purge_job_deletes_runs_older_than_the_kept_days(settings):
    settings.JOB_RUNS_KEEP_DAYS = 90
    midnight = timezone.make_aware(datetime(2026, 6, 1))
    old = JobRun.objects.create(job="x", run_date=date(2026, 1, 1), started_at=midnight - timedelta(days=90, seconds=1))
    kept = JobRun.objects.create(job="x", run_date=date(2026, 3, 3), started_at=midnight - timedelta(days=90))
    out = StringIO()
    call_command("run_job", "core.job_runs_purge", "--date", "2026-06-01", stdout=out)
    assert '"deleted": 1' in out.getvalue()
    assert not JobRun.objects.filter(pk=old.pk).exists() and JobRun.objects.filter(pk=kept.pk).exists()
    # The purge's own run is recorded, and running it again deletes nothing more.
    call_command("run_job", "core.job_runs_purge", "--date", "2026-06-01", stdout=out)
    assert list(JobRun.objects.filter(job="core.job_runs_purge").values_list("summary__deleted", flat=True)) == [0, 1]


def test_the_purge_job_is_on_beats_schedule():
    assert "core.job_runs_purge" in {job.name for job in jobs.registered_jobs()}


# Admin -----------------------------------------------------------------------------------------


def _make_runs(count: int):
    now = timezone.now()
    JobRun.objects.bulk_create(
        JobRun(job=f"job.{index % 3}", run_date=date(2026, 3, 1), task_id=f"t{index}", attempt=1,
               status=JobRun.Status.FAILED if index % 2 else JobRun.Status.SUCCEEDED, error="Boom" if index % 2 else "",
               started_at=now - timedelta(minutes=index), finished_at=now - timedelta(minutes=index) + timedelta(seconds=3))
        for index in range(count)
    )


@pytest.mark.parametrize("rows", [4, 40])
def test_the_admin_lists_job_runs_in_a_fixed_number_of_queries(client, admin_user, django_assert_num_queries, rows):
    _make_runs(rows)
    client.force_login(admin_user)
    client.get(CHANGELIST)
    # Session, user, two counts (paginator, full count), the page, the date bar (2), the job filter.
    with django_assert_num_queries(8):
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == rows
    assert "3.0 s" in response.content.decode()


def test_the_admin_filters_failed_runs_and_shows_the_error(client, admin_user):
    _make_runs(6)
    client.force_login(admin_user)
    response = client.get(CHANGELIST, {"status__exact": "failed"})
    runs = response.context["cl"].result_list
    assert len(runs) == 3 and {run.status for run in runs} == {"failed"}
    assert "Boom" in response.content.decode()


def test_job_runs_are_read_only_in_the_admin(client, admin_user):
    _make_runs(1)
    run = JobRun.objects.get()
    client.force_login(admin_user)
    assert client.get(reverse("admin:core_jobrun_change", args=[run.pk])).status_code == 200
    assert client.get(reverse("admin:core_jobrun_add")).status_code == 403
    client.post(reverse("admin:core_jobrun_delete", args=[run.pk]), {"post": "yes"})
    assert JobRun.objects.filter(pk=run.pk).exists()


@pytest.mark.parametrize("user", ["support_user", "marketing_user", "club_manager", "outsider"])
def test_only_superusers_see_job_runs_like_the_beat_schedule(client, request, user):
    client.force_login(request.getfixturevalue(user))
    assert client.get(CHANGELIST).status_code in (302, 403)
    assert not any("jobrun" in perm for role in roles.ROLES for perm in roles.declared_permissions(role))
    assert Permission.objects.filter(codename="view_jobrun").exists()
