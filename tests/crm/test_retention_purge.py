"""Retention policy (issue 8): interactions older than RETENTION_INTERACTIONS_DAYS are purged by a job."""

import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import jobs
from crm import services
from crm.models import Interaction
from crm.retention import interactions_purge, retention_cutoff

RUN = date(2026, 6, 1)


def _at(days_before_run: float):
    midnight = timezone.make_aware(datetime.combine(RUN, datetime.min.time()))
    return midnight - timedelta(days=days_before_run)


def _log(customer, days_before_run: float, status=Interaction.Status.RESOLVED, subject="Call"):
    interaction = services.interaction_log(customer=customer, subject=subject, occurred_at=_at(days_before_run))
    Interaction.objects.filter(pk=interaction.pk).update(status=status)
    return interaction


def test_it_deletes_only_resolved_interactions_older_than_the_age_and_is_idempotent(customer, settings):
    settings.RETENTION_INTERACTIONS_DAYS = 30
    old = [_log(customer, 31, subject=f"Old {n}") for n in range(3)]
    just_old = _log(customer, 30.01)
    on_the_line = _log(customer, 30)  # exactly at the cutoff: kept
    recent = _log(customer, 2)
    open_old = _log(customer, 400, status=Interaction.Status.OPEN)
    waiting_old = _log(customer, 400, status=Interaction.Status.WAITING)

    summary = jobs.run_job("crm.retention_interactions", RUN)

    assert summary == {"deleted": 4, "older_than": retention_cutoff(RUN, 30).isoformat(), "days": 30}
    remaining = set(Interaction.objects.values_list("pk", flat=True))
    assert remaining == {on_the_line.pk, recent.pk, open_old.pk, waiting_old.pk}
    assert not remaining & {row.pk for row in [*old, just_old]}
    assert jobs.run_job("crm.retention_interactions", RUN)["deleted"] == 0


def test_zero_days_keeps_everything(customer, settings):
    settings.RETENTION_INTERACTIONS_DAYS = 0
    _log(customer, 5000)

    assert interactions_purge(run_date=RUN) == {"deleted": 0, "kept_forever": True}
    assert Interaction.objects.count() == 1


def test_it_deletes_in_batches_of_the_configured_size(customer):
    for n in range(7):
        _log(customer, 100, subject=f"Old {n}")
    _log(customer, 1)

    with CaptureQueriesContext(connection) as queries:
        summary = interactions_purge(run_date=RUN, days=30, batch_size=3)

    assert summary["deleted"] == 7 and Interaction.objects.count() == 1
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT") and "LIMIT 3" in q["sql"]]
    assert len(selects) == 4  # 3 + 3 + 1, then an empty batch ends it


def test_rows_that_point_at_a_purged_interaction_are_kept_and_unlinked(customer, place_order):
    from feedback.models import Invitation, Survey

    survey = Survey.objects.create(title="How did we do?", kind=Survey.Kind.NPS)
    interaction = _log(customer, 100)
    invitation = Invitation.objects.create(survey=survey, customer=customer, interaction=interaction,
                                           token_hash="x" * 64, expires_at=timezone.now() + timedelta(days=1))

    assert interactions_purge(run_date=RUN, days=30)["deleted"] == 1
    invitation.refresh_from_db()
    assert invitation.interaction is None


def test_the_cutoff_is_midnight_in_the_configured_time_zone(settings):
    settings.TIME_ZONE = "Asia/Tehran"
    timezone.deactivate()
    cutoff = retention_cutoff(RUN, 10)
    assert cutoff.astimezone(ZoneInfo("Asia/Tehran")) == datetime(2026, 5, 22, tzinfo=ZoneInfo("Asia/Tehran"))


@pytest.mark.parametrize("raw, expected", [(None, 1095), ("", 0), ("0", 0), ("90", 90)])
def test_the_setting_reads_days_and_treats_empty_as_keep_forever(raw, expected):
    environment = {key: value for key, value in os.environ.items() if key != "RETENTION_INTERACTIONS_DAYS"}
    if raw is not None:
        environment["RETENTION_INTERACTIONS_DAYS"] = raw
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.RETENTION_INTERACTIONS_DAYS)"],
        env=environment, capture_output=True, text=True, check=True, cwd=settings.BASE_DIR,
    )
    assert result.stdout.split()[-1] == str(expected)


def test_a_negative_age_is_refused_at_start_up():
    environment = {**os.environ, "RETENTION_INTERACTIONS_DAYS": "-5"}
    result = subprocess.run([sys.executable, "-c", "import config.settings"], env=environment, capture_output=True,
                            text=True, cwd=settings.BASE_DIR)
    assert result.returncode != 0 and "RETENTION_INTERACTIONS_DAYS=-5 must be at least 0" in result.stderr
