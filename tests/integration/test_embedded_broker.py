"""`make run` works with no services: a real Celery worker on the embedded (filesystem)
broker picks up a task queued by another process and runs it against the SQLite file.

Everything runs in subprocesses with their own VAR_DIR, as `make run` would.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(var_dir: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update({"VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings", "CELERY_TASK_ALWAYS_EAGER": "0"})
    return env


def _manage(env, *args, timeout=120):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=True)


@pytest.mark.integration
def test_a_worker_on_the_embedded_broker_runs_a_queued_job(tmp_path):
    env = _env(tmp_path)
    _manage(env, "migrate", "--no-input", "-v", "0", timeout=300)
    celery = Path(sys.executable).with_name("celery")
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            [str(celery), "-A", "config", "worker", "--pool=solo", "--loglevel=INFO", "--without-heartbeat",
             "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        _manage(env, "shell", "-c", "from core.tasks import run_job; run_job.delay('club.points_pending_release', '2026-01-15')")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            output = log_path.read_text()
            if "succeeded" in output and "core.tasks.run_job" in output:
                break
            if worker.poll() is not None:
                pytest.fail(f"the worker stopped:\n{output}")
            time.sleep(0.5)
        else:
            pytest.fail(f"the task did not run within 90 s:\n{log_path.read_text()}")
        assert "job club.points_pending_release for 2026-01-15" in output
        assert list((tmp_path / "celery" / "queue").iterdir()) == []  # nothing left in the queue
    finally:
        worker.terminate()
        worker.wait(timeout=30)
