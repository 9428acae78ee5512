"""Fixtures of the webhook tests: a real local receiver, an eager or a broken broker."""

import pytest

from config.celery import app as celery_app
from tests.api.webhook_helpers import forget_connections, celery_eager, receiver, webhook_settings  # noqa: F401  (fixtures)
from tests.club.conftest import make_member, order_with_lines  # noqa: F401  (fixtures)
from tests.feedback.conftest import survey  # noqa: F401  (fixture)


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

