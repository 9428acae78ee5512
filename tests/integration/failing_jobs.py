"""Test-only periodic jobs, imported by the Celery worker of tests/integration/test_job_retries.py
(`celery worker --include tests.integration.failing_jobs`); never part of the product."""

import os
from datetime import date
from pathlib import Path

from crm.jobs import register_job

ALWAYS_FAILS = "test.always_fails"
FAILS_ONCE = "test.fails_once"
ERROR = "the warehouse API is down"


def always_fails(run_date: date):
    raise RuntimeError(ERROR)


def fails_once(run_date: date) -> dict:
    """Fails on its first call for a date, succeeds after: a marker file remembers the first call
    across attempts (each attempt may run in a different process)."""
    marker = Path(os.environ["TEST_JOBS_MARKER_DIR"]) / f"fails_once-{run_date.isoformat()}"
    if not marker.exists():
        marker.touch()
        raise RuntimeError(f"{ERROR} (first try)")
    return {"ok": True}


register_job(ALWAYS_FAILS, always_fails, schedule={"minute": "0"}, description="Test only: always raises.")
register_job(FAILS_ONCE, fails_once, schedule={"minute": "0"}, description="Test only: raises on the first try.")
