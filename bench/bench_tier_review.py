"""Benchmark: the club's periodic tier review over 1,000,000 members (PostgreSQL).

    .venv/bin/python bench/bench_tier_review.py [--members N] [--runs 3] [--rebuild]

Creates (if missing) and migrates a database of its own, `clubcrm_bench_club` on the
server of BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432), and fills it with
set-based SQL (INSERT ... SELECT generate_series): N customers, one membership each in a
random tier, and two ledger rows per member (one inside the 12-month window, one before
it) whose points make qualification vary: about half the members go up or down.

Then, in the same run and from the same starting state each time (every run is rolled
back, the table vacuumed between runs), it times:

1. `club.services.tiers_review` (the job `run_job club.tier_review` runs): two set-based
   statements - requalify every member whose figures changed, then apply the upgrades and
   due downgrades and record a TierChange for each (UPDATE ... RETURNING feeding an INSERT) -
   with the grace period and frozen tiers honoured (the grace period is 0 here, so every
   downgrade is due). This is the first review of the data set, the worst case: every
   member is requalified;
2. the baseline: one hand-written UPDATE ... FROM that computes each member's qualified tier
   from the same ledger window and sets it where it differs (no audit rows, no grace, no
   freeze): the least work a review can do;

and prints the median of each and the ratio review/baseline. Finally it commits one review
and times a second one for the same day (a quiet night: nothing left to change) next to the
baseline on that state.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATABASE = "clubcrm_bench_club"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="drop the data and build it again")
    args = parser.parse_args()

    server = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    _ensure_database(server)
    os.environ["DATABASE_URL"] = f"{server}/{DATABASE}"
    os.environ["CLUB_TIER_GRACE_DAYS"] = "0"  # every downgrade is due: the review does all its work
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("VAR_DIR", "/tmp/clubcrm-bench-var")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _ensure_data(args.members, rebuild=args.rebuild)
    run(runs=args.runs)


def _ensure_database(server: str) -> None:
    host_args = ["-h", "127.0.0.1", "-U", "postgres"] if "127.0.0.1" in server else []
    exists = subprocess.run(
        ["psql", *host_args, "-d", "template1", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(["createdb", *host_args, DATABASE], check=True)


def _insert_select(model, overrides: dict[str, str], source: str) -> tuple[str, list]:
    """INSERT INTO <table> (every concrete column) SELECT <override or the field's default> FROM <source>.

    Built from the model, so columns added by later migrations get their defaults."""
    from django.db import connection

    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or getattr(field, "generated", False):
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in overrides:
            values.append(overrides[field.name])
            continue
        default = field.get_default()
        if default is None and not field.null:
            default = 0 if field.get_internal_type() not in ("CharField", "TextField", "SlugField") else ""
        values.append("%s")
        params.append(field.get_db_prep_save(default, connection) if default is not None else None)
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source}"
    return sql, params


def _ensure_data(members: int, *, rebuild: bool) -> None:
    from django.db import connection, transaction

    from club.models import Membership, PointsTransaction, Tier
    from crm.models import Customer

    have = Membership.objects.count()
    if have == members and not rebuild:
        print(f"Using the existing data set: {have:,} members, {PointsTransaction.objects.count():,} ledger rows.")
        return
    started = time.perf_counter()
    print(f"Building the data set: {members:,} members...", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE club_tierchange, club_pointstransaction, club_membership, club_tier, crm_customer CASCADE")
    with transaction.atomic():
        tiers = [
            Tier.objects.create(name="Bronze", rank=1, threshold=0),
            Tier.objects.create(name="Silver", rank=2, threshold=500),
            Tier.objects.create(name="Gold", rank=3, threshold=2000),
            Tier.objects.create(name="Platinum", rank=4, threshold=5000),
        ]
        with connection.cursor() as cursor:
            sql, params = _insert_select(Customer, {
                "public_id": "gen_random_uuid()",
                "first_name": "'Bench'",
                "last_name": "g::text",
                "email": "'bench' || g || '@example.com'",
                "created_at": "now()",
                "updated_at": "now()",
            }, f"generate_series(1, {int(members)}) AS g")
            cursor.execute(sql, params)
            tier_ids = ", ".join(str(tier.pk) for tier in tiers)
            sql, params = _insert_select(Membership, {
                "customer": "c.id",
                "member_number": "lpad(c.id::text, 10, '0')",
                "joined_at": "now() - interval '800 days'",
                "status": "'active'",
                "source": "'bench'",
                # A random starting tier: the review finds upgrades and downgrades.
                "tier": f"(ARRAY[{tier_ids}])[1 + floor(random() * 4)::int]",
            }, "crm_customer c")
            cursor.execute(sql, params)
            # Two earnings per member: one before the window (does not count), one inside it
            # (points spread so each tier gets members: ~45% Bronze, 30% Silver, 18% Gold, 7% Platinum).
            for label, age, points in (
                ("old", "500 days", "100 + floor(random() * 4000)::int"),
                ("recent", "100 days", "(ARRAY[50, 300, 700, 1200, 2500, 3500, 6000])"
                                       "[1 + floor(power(random(), 1.3) * 7)::int]"),
            ):
                sql, params = _insert_select(PointsTransaction, {
                    "member": "m.id",
                    "points": points,
                    "kind": "'earn'",
                    "source": "'order'",
                    "reason": "'bench'",
                    "idempotency_key": f"'bench:{label}:' || m.id",
                    "created_at": f"now() - interval '{age}'",
                    "expires_at": f"now() - interval '{age}' + interval '365 days'",
                    "lines": "'{}'::jsonb",
                }, "club_membership m")
                cursor.execute(sql, params)
            cursor.execute("""
                UPDATE club_membership m SET points_balance = s.total
                FROM (SELECT member_id, SUM(points) AS total FROM club_pointstransaction GROUP BY member_id) s
                WHERE s.member_id = m.id
            """)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE club_membership")
        cursor.execute("VACUUM ANALYZE club_pointstransaction")
        cursor.execute("VACUUM ANALYZE crm_customer")
    print(f"  built in {time.perf_counter() - started:.1f} s: {Membership.objects.count():,} members, "
          f"{PointsTransaction.objects.count():,} ledger rows", flush=True)


BASELINE = """
    UPDATE club_membership m SET tier_id = q.tier_id
    FROM (
        SELECT mm.id,
            (SELECT t.id FROM club_tier t WHERE t.threshold <= COALESCE(s.value, 0) ORDER BY t.rank DESC LIMIT 1) AS tier_id
        FROM club_membership mm
        LEFT JOIN (
            SELECT member_id, SUM(points) - SUM(shortfall) AS value FROM club_pointstransaction
            WHERE kind IN ('earn', 'reverse') AND created_at >= %(start)s AND created_at < %(end)s GROUP BY member_id
        ) s ON s.member_id = mm.id
        WHERE mm.status = 'active'
    ) q
    WHERE m.id = q.id AND m.tier_id IS DISTINCT FROM q.tier_id
"""


def _reset_state() -> None:
    """Every member in a tier chosen by their id (so half go up or down), never reviewed, no history."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE club_tierchange")
        cursor.execute("""
            UPDATE club_membership SET qualifying_value = 0, qualified_tier_id = NULL, below_tier_since = NULL,
                tier_id = (SELECT t.id FROM club_tier t ORDER BY t.rank OFFSET (club_membership.id % 4) LIMIT 1)
        """)
        cursor.execute("VACUUM ANALYZE club_membership")


class _Rollback(Exception):
    pass


def _timed(func):
    from django.db import transaction

    result = {}
    started = time.perf_counter()
    try:
        with transaction.atomic():
            result = func()
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return elapsed, result


def run(*, runs: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from club.models import Membership
    from club.selectors import tier_window
    from club.services import tiers_review
    from club.services.common import day_end

    today = timezone.localdate()
    start, end = tier_window(day_end(today))
    members = Membership.objects.count()
    _reset_state()

    def review():
        return tiers_review(run_date=today)

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute(BASELINE, {"start": start, "end": end})
            return {"changed": cursor.rowcount}

    timings = {"review": [], "baseline": []}
    results = {}
    for index in range(runs):
        for name, func in (("review", review), ("baseline", baseline)):
            elapsed, results[name] = _timed(func)
            timings[name].append(elapsed)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM club_membership")
            print(f"  run {index + 1}: {name:<8} {elapsed:7.2f} s  {results[name]}", flush=True)
    review_time, baseline_time = statistics.median(timings["review"]), statistics.median(timings["baseline"])

    # A quiet night: commit one review, then time the next one (nothing left to change).
    tiers_review(run_date=today)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE club_membership")
    quiet_review, quiet_result = _timed(review)
    quiet_baseline, quiet_baseline_result = _timed(baseline)
    print(f"  quiet night: review {quiet_review:.2f} s {quiet_result}, baseline {quiet_baseline:.2f} s {quiet_baseline_result}")
    _reset_state()  # leave the data set as it was built, for the next run

    print()
    print(f"Tier review over {members:,} members (PostgreSQL, median of {runs}):")
    print(f"  first review, every member requalified:  tiers_review {review_time:7.2f} s "
          f"(changed {results['review'].get('changed', 0):,}, with TierChange rows)")
    print(f"                                           baseline     {baseline_time:7.2f} s "
          f"(changed {results['baseline'].get('changed', 0):,}, one UPDATE, no audit rows)")
    print(f"                                           ratio review / baseline: {review_time / baseline_time:.2f}")
    print(f"  quiet night (nothing to change):         tiers_review {quiet_review:7.2f} s, baseline {quiet_baseline:7.2f} s, "
          f"ratio {quiet_review / quiet_baseline:.2f}")


if __name__ == "__main__":
    main()
