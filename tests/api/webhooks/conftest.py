"""Fixtures of the webhook tests: an eager or a broken broker (the receiver is in tests/api/conftest.py)."""

import pytest

from config.celery import app as celery_app
from tests.api.webhook_helpers import forget_connections


@pytest.fixture
def broker_down():
    """The broker is a closed port: queueing a task raises, as in a real outage. `restore()` brings it
    back (as an eager broker, so the queued tasks run here)."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = "redis://127.0.0.1:1/0", False
    forget_connections()

    class Outage:
        @staticmethod
        def restore():
            celery_app.conf.update(saved)
            celery_app.conf.task_always_eager = True
            forget_connections()

    yield Outage
    celery_app.conf.update(saved)
    forget_connections()

