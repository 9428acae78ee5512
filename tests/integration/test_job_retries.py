"""A periodic job that fails, run by a real Celery worker on Redis (issue 8): it is retried with
exponential backoff, every attempt is a JobRun row, and the last one of a job that never succeeds
ends `failed` with the error (visible in the admin, not lost); a job that fails once then
succeeds ends `succeeded`.

The worker runs in a subprocess against the test database (a transactional test, so it sees the
committed rows), on Redis database 14, with a one-second backoff base and three retries. It
imports the test-only jobs of tests/integration/failing_jobs.py.
"""

from datetime import date
from pathlib import Path

import pytest

from core.models import JobRun
from core.tasks import run_job
from tests.integration import workers
from tests.integration.failing_jobs import ALWAYS_FAILS, ERROR, FAILS_ONCE

BROKER = "redis://127.0.0.1:6379/14"
MAX_RETRIES = 3
BACKOFF = 1  # seconds; the retries come 1, 2 and 4 s after the attempt before
RUN_DAY = date(2026, 3, 1)

pytestmark = [pytest.mark.postgres, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_broker():
    with workers.redis_broker(BROKER) as client:
        yield client


def start_worker(tmp_path: Path, name: str):
    (tmp_path / "markers").mkdir(exist_ok=True)
    return workers.start_worker(tmp_path, name, broker=BROKER, env={
        "JOB_MAX_RETRIES": str(MAX_RETRIES), "JOB_RETRY_BACKOFF_SECONDS": str(BACKOFF),
        "JOB_RETRY_BACKOFF_MAX_SECONDS": "60", "TEST_JOBS_MARKER_DIR": str(tmp_path / "markers"),
    }, args=("--include", "tests.integration.failing_jobs"))


def _finished(task_id: str, status: str):
    return lambda: JobRun.objects.filter(task_id=task_id, status=status).exists()


def test_a_failing_job_is_retried_with_backoff_and_ends_failed_and_a_flaky_one_succeeds(tmp_path, redis_broker):
    worker = start_worker(tmp_path, "jobs")
    try:
        broken = run_job.apply_async(kwargs={"name": ALWAYS_FAILS, "date_iso": RUN_DAY.isoformat()})
        flaky = run_job.apply_async(kwargs={"name": FAILS_ONCE, "date_iso": RUN_DAY.isoformat()})
        workers.wait_for(_finished(broken.id, JobRun.Status.FAILED), seconds=120, what="the failing job's last attempt",
                 tmp_path=tmp_path)
        workers.wait_for(_finished(flaky.id, JobRun.Status.SUCCEEDED), seconds=60, what="the flaky job's success",
                 tmp_path=tmp_path)
    finally:
        workers.kill(worker)

    runs = list(JobRun.objects.filter(task_id=broken.id).order_by("attempt"))
    assert [run.attempt for run in runs] == list(range(1, MAX_RETRIES + 2))
    assert [run.status for run in runs] == [JobRun.Status.RETRYING] * MAX_RETRIES + [JobRun.Status.FAILED]
    assert all(run.job == ALWAYS_FAILS and run.run_date == RUN_DAY and run.source == JobRun.Source.TASK for run in runs)
    assert all(run.error == f"RuntimeError: {ERROR}" and run.finished_at for run in runs)
    intervals = [(later.started_at - earlier.started_at).total_seconds() for earlier, later in zip(runs, runs[1:])]
    print(f"\nmeasured retry intervals (s): {', '.join(f'{interval:.2f}' for interval in intervals)}")
    for retry, interval in enumerate(intervals):
        countdown = BACKOFF * 2**retry
        assert countdown <= interval < countdown + 3, intervals
    assert intervals == sorted(intervals) and intervals[-1] > 3 * intervals[0]

    flaky_runs = list(JobRun.objects.filter(task_id=flaky.id).order_by("attempt"))
    assert [(run.attempt, run.status) for run in flaky_runs] == [(1, "retrying"), (2, "succeeded")]
    assert flaky_runs[0].error == f"RuntimeError: {ERROR} (first try)" and flaky_runs[1].summary == {"ok": True}
    # Nothing else ran, and nothing was left half-way.
    assert not JobRun.objects.filter(status=JobRun.Status.RUNNING).exists()
    assert JobRun.objects.count() == len(runs) + len(flaky_runs)
