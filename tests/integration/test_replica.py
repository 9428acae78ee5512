"""Reports read from a real streaming replica (a second PostgreSQL cluster made by pg_basebackup, which `.ci/run`
starts on port 5433), writes go to the primary, and a replica that is down or lagging is skipped.

The reports run as an operator runs them: `manage.py` in a process of its own with `DATABASE_REPLICA_URL` set, against
the test's database (this test commits its rows). The replica replays the whole cluster, the test database included,
so the replica URL names the replica's copy of that same database.
"""

import json
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from django.db import connection

from analytics.models import SegmentMetricSnapshot
from core.replicas import LAG_SQL
from tests.factories import CustomerFactory, OrderFactory

pytestmark = [pytest.mark.postgres, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REPLICA_URL = os.environ.get("TEST_DATABASE_REPLICA_URL", "")
TODAY = date.today()


@pytest.fixture(autouse=True)
def _needs_a_replica():
    if not REPLICA_URL:
        pytest.skip("no streaming replica: set TEST_DATABASE_REPLICA_URL (`.ci/run` starts one on port 5433)")


def _url(host: str, port: int) -> str:
    return f"postgres://{connection.settings_dict['USER']}@{host}:{port}/{connection.settings_dict['NAME']}"


def _manage(*args: str, port: int | None = None, **env: str) -> subprocess.CompletedProcess:
    replica = urlsplit(REPLICA_URL)
    environment = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_REPLICA_URL"}
    environment.update({
        "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING",
        "DATABASE_URL": _url(connection.settings_dict["HOST"], int(connection.settings_dict["PORT"] or 5432)),
        "DATABASE_REPLICA_URL": _url(replica.hostname, port or replica.port or 5432), **env,
    })
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def _on_replica(sql: str):
    replica = urlsplit(REPLICA_URL)
    with psycopg.connect(host=replica.hostname, port=replica.port, user=replica.username or "postgres",
                         dbname=connection.settings_dict["NAME"], autocommit=True) as session:
        return session.execute(sql).fetchone()[0]


def _until(what: str, condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def _orders(count: int) -> None:
    for index in range(count):
        OrderFactory(customer=CustomerFactory(), placed_at=f"{TODAY - timedelta(days=40 + index)}T12:00:00Z")


def _replayed(orders: int) -> None:
    _until(f"the replica to replay {orders} orders", lambda: _on_replica("SELECT count(*) FROM crm_order") == orders)


def _order_scans_on_replica() -> int:
    """Scans of the orders table that ran on the replica (its own statistics; catalog reads are not counted)."""
    return _on_replica("SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables"
                       " WHERE relname = 'crm_order'")


def _retention(**env: str) -> subprocess.CompletedProcess:
    return _manage("retention", "--segment", "all", "--start", str(TODAY - timedelta(days=90)), "--end", str(TODAY),
                   "--json", **env)


def test_reports_read_from_the_replica_and_their_writes_go_to_the_primary():
    _orders(5)
    _replayed(5)
    scans_before = _order_scans_on_replica()

    report = _retention()
    job = _manage("run_job", "campaigns.segment_snapshots")

    assert json.loads(report.stdout)["segment"] == "all"
    assert "replica" not in report.stderr + job.stderr  # no fallback was logged
    # The snapshots were written to the primary (a standby refuses writes)...
    assert SegmentMetricSnapshot.objects.exists()
    # ...and the reports read the orders on the replica: its own statistics moved.
    _until("the replica's statistics to move", lambda: _order_scans_on_replica() > scans_before, seconds=15)


def test_a_replica_that_is_down_is_skipped_and_the_report_reads_the_primary():
    _orders(2)
    _replayed(2)
    scans_before = _order_scans_on_replica()
    report = _retention(port=1)  # nothing listens there

    assert json.loads(report.stdout)["segment"] == "all"
    assert "The read replica is unreachable; reports read from the primary" in report.stderr
    time.sleep(1)  # statistics are flushed at most once a second
    assert _order_scans_on_replica() == scans_before


def test_a_replica_lagging_beyond_the_setting_is_skipped_until_it_catches_up():
    _orders(1)
    _replayed(1)
    _on_replica("SELECT pg_wal_replay_pause()")
    try:
        _orders(1)  # received by the replica, not replayed
        time.sleep(2.5)
        lagging = _retention(DATABASE_REPLICA_MAX_LAG_SECONDS="1")
    finally:
        _on_replica("SELECT pg_wal_replay_resume()")
    assert json.loads(lagging.stdout)["segment"] == "all"
    assert "behind (more than 1); reports read from the primary" in lagging.stderr

    _replayed(2)
    _until("the replica to catch up", lambda: _on_replica(LAG_SQL) <= 5, seconds=60)
    caught_up = _retention(DATABASE_REPLICA_MAX_LAG_SECONDS="5")
    assert "replica" not in caught_up.stderr
