"""Benchmark: the club's points liability (club.selectors.liability) over a large ledger (PostgreSQL).

    .venv/bin/python bench/bench_liability.py [--members N] [--runs 3] [--rebuild]

Creates (if missing) and migrates a database of its own, `clubcrm_bench_liab` on the server of BENCH_PG_URL
(default postgres://postgres@127.0.0.1:5432), and fills it with set-based SQL as bench_tier_review.py does
(N members in random tiers, two earnings each), plus one redemption per member (a floating debit the FIFO
must spread), one tier change per member (the tier history the per-tier split reads) and, for a quarter of
the members, an expiry of 10 points of their first earning (a row taking from a credit).

Then, in the same run, it times (median of --runs):

1. `club_liability()` - outstanding, pending, expiring 30/60/90 days, the 12-month flows, per tier as of the
   day by the tier history: one statement reading the ledger once, plus the tiers;
2. `liability_trend()` - the 12 month ends: one statement (the ledger and the holds each read once);
3. the admin page (`/admin/club/pointsliability/`) as a club manager sees it, served from the nightly snapshots
   (stored first, with the job's service, for yesterday and the month ends before it; the time to store them once
   is printed too), through Django's test client signed in as a superuser;
4. the baseline: the least a per-tier balance can cost, `SUM(points)` of the ledger joined to the members'
   current tier, grouped by tier (no FIFO, no history, no expiry);

and prints the ratios to the baseline. `--explain` prints the plan of the one-pass statement.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import bench_tier_review  # noqa: E402 - after the path is set

bench_tier_review.DATABASE = "clubcrm_bench_liab"
_insert_select = bench_tier_review._insert_select


def _insert_with_public_ids(model, overrides: dict[str, str], source: str):
    # A unique public id per row: the field's Python default would give every row the same uuid.
    if any(field.name == "public_id" for field in model._meta.concrete_fields):
        overrides = {"public_id": "gen_random_uuid()", **overrides}
    return _insert_select(model, overrides, source)


bench_tier_review._insert_select = _insert_with_public_ids

BASELINE = """
    SELECT m.tier_id, SUM(p.points) FROM club_pointstransaction p JOIN club_membership m ON m.id = p.member_id
    WHERE p.created_at < %s GROUP BY m.tier_id
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="drop the data and build it again")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the one-pass statement")
    args = parser.parse_args()

    server = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    bench_tier_review._ensure_database(server)
    os.environ["DATABASE_URL"] = f"{server}/{bench_tier_review.DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("VAR_DIR", "/tmp/clubcrm-bench-var")  # nosec B108 - a benchmark's scratch folder, as bench_tier_review
    os.environ.setdefault("CLUB_POINT_VALUE", "0.05")
    # As bench_admin.py: DEBUG off, plain http for the test client.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        os.environ.setdefault(name, "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    built = _ensure_data(args.members, rebuild=args.rebuild)
    run(runs=args.runs, built=built, explain=args.explain)


def _ensure_data(members: int, *, rebuild: bool) -> bool:
    from django.db import connection

    from club.models import PointsTransaction, TierChange

    bench_tier_review._ensure_data(members, rebuild=rebuild)
    insert = bench_tier_review._insert_select
    if PointsTransaction.objects.filter(kind="redeem").exists():
        return _ensure_expiries(insert)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE club_tierchange")
        sql, params = insert(PointsTransaction, {
            "member": "m.id", "points": "-LEAST(m.points_balance, 40)", "kind": "'redeem'", "source": "'offer'",
            "idempotency_key": "'bench:redeem:' || m.id", "created_at": "now() - interval '50 days'",
            "lines": "'{}'::jsonb",
        }, "club_membership m WHERE m.points_balance > 0")
        cursor.execute(sql, params)
        sql, params = insert(TierChange, {
            "member": "m.id", "from_tier": "NULL", "to_tier": "m.tier_id", "reason": "'enrolled'",
            "changed_at": "m.joined_at",
        }, "club_membership m")
        cursor.execute(sql, params)
        cursor.execute("VACUUM ANALYZE club_pointstransaction")
        cursor.execute("VACUUM ANALYZE club_tierchange")
    _ensure_expiries(insert)
    return True


def _ensure_expiries(insert) -> bool:
    """A quarter of the members had 10 points of their first earning expire (rows taking from a credit, which
    the statement joins to the credits expiring soon), so the breakage rate is not 0."""
    from django.db import connection

    from club.models import PointsTransaction

    if PointsTransaction.objects.filter(kind="expire").exists():
        return False
    with connection.cursor() as cursor:
        sql, params = insert(PointsTransaction, {
            "member": "e.member_id", "points": "-10", "kind": "'expire'", "source": "'system'", "original": "e.id",
            "idempotency_key": "'bench:expire:' || e.id", "created_at": "now() - interval '20 days'",
            "lines": "'{}'::jsonb",
        }, "(SELECT DISTINCT ON (member_id) id, member_id FROM club_pointstransaction"
           " WHERE kind = 'earn' AND mod(member_id, 4) = 0 ORDER BY member_id, id) e")
        cursor.execute(sql, params)
        cursor.execute("VACUUM ANALYZE club_pointstransaction")
    return True


def _timed(func, runs: int) -> float:
    times = []
    for _index in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(*, runs: int, built: bool, explain: bool = False) -> None:
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from club.dates import day_end
    from club.models import Membership, PointsLiabilitySnapshot, PointsTransaction
    from club.selectors import liability as selector
    from club.selectors.liability import club_liability, liability_trend, month_ends
    from club.services import liability_snapshot_store, liability_snapshots_fill

    today = timezone.localdate()

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute(BASELINE, [day_end(today)])
            return cursor.fetchall()

    print(f"{Membership.objects.count():,} members, {PointsTransaction.objects.count():,} ledger rows"
          f"{' (just built)' if built else ''}; median of {runs} runs", flush=True)
    figures = club_liability(as_of=today).as_dict()
    print(f"  outstanding {figures['outstanding_points']:,}, expiring in 90 days {figures['expiring_90d']:,}, "
          f"value {figures['liability_value']}, breakage {figures['breakage_rate']}")
    if explain:
        params = {"cutoff": day_end(today), "since": day_end(selector.year_before(today)),
                  **{f"e{days}": day_end(today + timedelta(days=days)) for days in selector.EXPIRY_HORIZONS}}
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + selector._LIABILITY_SQL, params)
            print("\n".join(row[0] for row in cursor.fetchall()))

    # The snapshots the page reads: yesterday's (the nightly job's) and the month ends before it, stored once.
    yesterday = today - timedelta(days=1)
    PointsLiabilitySnapshot.objects.filter(day__in=month_ends(yesterday)).delete()
    started = time.perf_counter()
    liability_snapshot_store(day=yesterday)
    liability_snapshots_fill(as_of=yesterday)
    stored = time.perf_counter() - started
    user, _created = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True, "email": "bench-admin@example.com"})
    client = Client()
    client.force_login(user)
    page_url = reverse("admin:club_pointsliability_changelist")

    def page():
        response = client.get(page_url)
        assert response.status_code == 200, response.status_code
        assert yesterday.isoformat() in response.content.decode()

    page()  # warm the session and the templates
    base = _timed(baseline, runs)
    liability = _timed(lambda: club_liability(as_of=today), runs)
    trend = _timed(lambda: liability_trend(as_of=today), runs)
    served = _timed(page, runs)
    print(f"  baseline (SUM per current tier):   {base * 1000:8.0f} ms")
    print(f"  club_liability() (one pass):       {liability * 1000:8.0f} ms  ({liability / base:.2f} x baseline)")
    print(f"  liability_trend() (12 month ends): {trend * 1000:8.0f} ms  ({trend / base:.2f} x baseline)")
    print(f"  admin page from the snapshots:     {served * 1000:8.0f} ms  ({served / base:.2f} x baseline)")
    print(f"  (storing yesterday and the 11 month ends before it once: {stored:.1f} s)")


if __name__ == "__main__":
    main()
