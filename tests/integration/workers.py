"""A real Celery worker in a subprocess, on a Redis broker, against the test database.

Used by the integration tests (transactional tests, so the worker sees the committed rows)."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def redis_broker(url: str):
    """This process publishes to the Redis database `url` (emptied before and after); skips without Redis."""
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    client.flushdb()
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = url, False
    _forget_connections()  # earlier tests may have published to the default broker: connect again, to Redis
    try:
        yield client
    finally:
        celery_app.conf.update(saved)
        _forget_connections()
        client.flushdb()


def _forget_connections() -> None:
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


def start_worker(tmp_path: Path, name: str, *, broker: str, env: dict[str, str], args: tuple[str, ...] = ()):
    """A worker (concurrency 1) logging to tmp_path/<name>.log; `env` adds settings to the test's."""
    database = connection.settings_dict
    environment = {key: value for key, value in os.environ.items() if key != "CELERY_TASK_ALWAYS_EAGER"}
    environment.update({
        "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}",
        "CELERY_BROKER_URL": broker, "EMAIL_URL": f"file://{tmp_path / 'mail'}", **env,
    })
    log = open(tmp_path / f"{name}.log", "w")
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("celery")), "-A", "config", "worker", "--concurrency=1", "--loglevel=INFO",
         "--without-heartbeat", "--without-mingle", "--without-gossip", "-n", f"{name}@%h", *args],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def kill(worker: subprocess.Popen) -> None:
    """SIGKILL to the worker and its pool: no chance to finish or acknowledge anything."""
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
