"""Benchmark: the club's points liability (club.selectors.liability) over a large ledger (PostgreSQL).

    .venv/bin/python bench/bench_liability.py [--members N] [--runs 3] [--rebuild]

Creates (if missing) and migrates a database of its own, `clubcrm_bench_liab` on the server of BENCH_PG_URL
(default postgres://postgres@127.0.0.1:5432), and fills it with set-based SQL as bench_tier_review.py does
(N members in random tiers, two earnings each), plus one redemption per member (a floating debit the FIFO
must spread) and one tier change per member (the tier history the per-tier split reads).

Then, in the same run, it times (median of --runs):

1. `club_liability()` - outstanding, pending, expiring 30/60/90 days (FIFO window over every credit), the
   12-month flows, per tier as of the day by the tier history: one statement, plus the tiers;
2. `liability_trend()` - the 12 month ends: one statement;
3. the baseline: the least a per-tier balance can cost, `SUM(points)` of the ledger joined to the members'
   current tier, grouped by tier (no FIFO, no history, no expiry);

and prints the ratios to the baseline.
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
    args = parser.parse_args()

    server = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    bench_tier_review._ensure_database(server)
    os.environ["DATABASE_URL"] = f"{server}/{bench_tier_review.DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("VAR_DIR", "/tmp/clubcrm-bench-var")  # nosec B108 - a benchmark's scratch folder, as bench_tier_review
    os.environ.setdefault("CLUB_POINT_VALUE", "0.05")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    built = _ensure_data(args.members, rebuild=args.rebuild)
    run(runs=args.runs, built=built)


def _ensure_data(members: int, *, rebuild: bool) -> bool:
    from django.db import connection

    from club.models import PointsTransaction, TierChange

    bench_tier_review._ensure_data(members, rebuild=rebuild)
    if PointsTransaction.objects.filter(kind="redeem").exists():
        return False
    insert = bench_tier_review._insert_select
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
    return True


def _timed(func, runs: int) -> float:
    times = []
    for _index in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(*, runs: int, built: bool) -> None:
    from django.db import connection
    from django.utils import timezone

    from club.dates import day_end
    from club.models import Membership, PointsTransaction
    from club.selectors.liability import club_liability, liability_trend

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
    base = _timed(baseline, runs)
    liability = _timed(lambda: club_liability(as_of=today), runs)
    trend = _timed(lambda: liability_trend(as_of=today), runs)
    print(f"  baseline (SUM per current tier): {base * 1000:8.0f} ms")
    print(f"  club_liability():                {liability * 1000:8.0f} ms  ({liability / base:.1f} x baseline)")
    print(f"  liability_trend():               {trend * 1000:8.0f} ms  ({trend / base:.1f} x baseline)")


if __name__ == "__main__":
    main()
