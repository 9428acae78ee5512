"""A periodic job that fails, run by a real Celery worker on Redis (issue 8): it is retried with
exponential backoff, every attempt is a JobRun row, and the last one of a job that never succeeds
ends `failed` with the error (visible in the admin, not lost); a job that fails once then
succeeds ends `succeeded`.

The worker runs in a subprocess against the test database (a transactional test, so it sees the
committed rows), on Redis database 14, with a one-second backoff base and three retries. It
imports the test-only jobs of tests/integration/failing_jobs.py.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import redis
from django.db import connection

from config.celery import app as celery_app
from crm.models import JobRun
from crm.tasks import run_job
from tests.integration.failing_jobs import ALWAYS_FAILS, ERROR, FAILS_ONCE

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/14"
MAX_RETRIES = 3
BACKOFF = 1  # seconds; the retries come 1, 2 and 4 s after the attempt before
RUN_DAY = date(2026, 3, 1)

pytestmark = [pytest.mark.postgres, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_broker():
    client = redis.Redis.from_url(BROKER)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    client.flushdb()
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = BROKER, False
    _forget_connections()  # earlier tests may have published to the default broker: connect again, to Redis
    yield client
    celery_app.conf.update(saved)
    _forget_connections()
    client.flushdb()


def _forget_connections() -> None:
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


def start_worker(tmp_path: Path, name: str) -> subprocess.Popen:
    database = connection.settings_dict
    (tmp_path / "markers").mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in ("CELERY_TASK_ALWAYS_EAGER",)}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}",
        "CELERY_BROKER_URL": BROKER, "EMAIL_URL": f"file://{tmp_path / 'mail'}",
        "JOB_MAX_RETRIES": str(MAX_RETRIES), "JOB_RETRY_BACKOFF_SECONDS": str(BACKOFF),
        "JOB_RETRY_BACKOFF_MAX_SECONDS": "60", "TEST_JOBS_MARKER_DIR": str(tmp_path / "markers"),
    })
    log = open(tmp_path / f"{name}.log", "w")
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("celery")), "-A", "config", "worker", "--concurrency=1", "--loglevel=INFO",
         "--without-heartbeat", "--without-mingle", "--without-gossip", "-n", f"{name}@%h",
         "--include", "tests.integration.failing_jobs"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def stop(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def wait_for(condition, *, seconds: float, what: str, tmp_path: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    logs = "\n".join(path.read_text()[-3000:] for path in tmp_path.glob("*.log"))
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def _finished(task_id: str, status: str):
    return lambda: JobRun.objects.filter(task_id=task_id, status=status).exists()


def test_a_failing_job_is_retried_with_backoff_and_ends_failed_and_a_flaky_one_succeeds(tmp_path, redis_broker):
    worker = start_worker(tmp_path, "jobs")
    try:
        broken = run_job.apply_async(kwargs={"name": ALWAYS_FAILS, "date_iso": RUN_DAY.isoformat()})
        flaky = run_job.apply_async(kwargs={"name": FAILS_ONCE, "date_iso": RUN_DAY.isoformat()})
        wait_for(_finished(broken.id, JobRun.Status.FAILED), seconds=120, what="the failing job's last attempt",
                 tmp_path=tmp_path)
        wait_for(_finished(flaky.id, JobRun.Status.SUCCEEDED), seconds=60, what="the flaky job's success",
                 tmp_path=tmp_path)
    finally:
        stop(worker)

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
