"""Test-only periodic jobs, imported by the Celery worker of tests/integration/test_job_retries.py
(`celery worker --include tests.integration.failing_jobs`); never part of the product."""

import os
from datetime import date
from pathlib import Path

from core.jobs import Job, job_registry

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


# Registered at import, on purpose: the worker imports this module only in that test (never the product).
job_registry.register(ALWAYS_FAILS, Job(name=ALWAYS_FAILS, func=always_fails, schedule={"minute": "0"},
                                        description="Test only: always raises."))
job_registry.register(FAILS_ONCE, Job(name=FAILS_ONCE, func=fails_once, schedule={"minute": "0"},
                                      description="Test only: raises on the first try."))
