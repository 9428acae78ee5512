"""Benchmark: retention and churn of 10 segments for one quarter, the project's one pass against the
best hand-written single statement, the snapshots of 10 segments x 12 quarters, and the retention
dashboard read from snapshots (PostgreSQL).

    .venv/bin/python bench/bench_retention.py [--quick] [--customers N] [--orders-per-customer M] [--runs 3]
                                              [--snapshot-quarters 12] [--skip-per-period]

Uses the shared data set of bench.dataset (1,000,000 customers and about 10,000,000 orders
by default, built with INSERT ... SELECT generate_series the first time; `--quick`: 50,000
customers), creates 10 dynamic segments (`bench-ana-*`, upserted, which materializes their members),
and prints in one run:

1. the time to refresh the 10 segments' materialized members (the nightly campaigns.segments_refresh),
2. the time to compute S, R, N, E and the rates of the 10 segments for the last closed quarter
   through the project: `analytics.metrics.retention_by_segment`, one statement over the members,
3. the time of the best hand-written single SQL statement for the same numbers (the segments'
   conditions written by hand, one FILTER per segment and figure), checking that both give the same
   figures, and their ratio (goal: at most 1.5);
   for reference, the per-segment path (`metrics.retention` over each segment's QuerySet, 10 statements);
4. the time to compute every snapshot of the 10 segments and all customers for the last 12 closed
   quarters (forced, so they are all recomputed; goal: under 60 s at 1M customers): before, the former
   path (one pass per period, `snapshots_refresh(per_period=True)`), and after, all periods at once
   (`analytics.metrics.snapshot_figures`), checking that both store the same rows, and their ratio;
5. the time to render the retention dashboard (the admin page, through Django's test
   client) once its snapshots exist (goal: under 300 ms), and its number of SQL queries.

Each timing of 2 and 3 is the median of `--runs` runs after one warm-up run (so both sides read a
warm cache).
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dataset import DEFAULT_DATABASE, QUICK, ensure_dataset  # noqa: E402

# slug: (rules, the same condition written by hand over crm_customer c)
SEGMENTS = {
    "tehran": ({"all": [{"field": "city", "op": "eq", "value": "Tehran"}]}, "upper(c.city) = upper('Tehran')"),
    "persian-speakers": ({"all": [{"field": "language", "op": "eq", "value": "fa"}]}, "c.language = 'fa'"),
    "uk": ({"all": [{"field": "country", "op": "eq", "value": "GB"}]}, "upper(c.country) = upper('GB')"),
    "three-orders": ({"all": [{"field": "orders_count", "op": "gte", "value": 3}]}, "c.orders_count >= 3"),
    "big-spenders": ({"all": [{"field": "total_spent", "op": "gte", "value": 1000}]}, "c.total_spent >= 1000"),
    "email-opt-in": ({"all": [{"field": "email_opt_in", "op": "eq", "value": True}]}, "c.email_opt_in"),
    "instagram": ({"all": [{"field": "source", "op": "eq", "value": "instagram"}]}, "upper(c.source) = upper('instagram')"),
    "women": ({"all": [{"field": "gender", "op": "eq", "value": "female"}]}, "c.gender = 'female'"),
    "sms-dubai": ({"all": [{"field": "sms_opt_in", "op": "eq", "value": True},
                           {"field": "city", "op": "in", "value": ["Dubai", "Abu Dhabi"]}]},
                  "c.sms_opt_in AND (upper(c.city) = upper('Dubai') OR upper(c.city) = upper('Abu Dhabi'))"),
    "frequent-or-big": ({"any": [{"field": "orders_count", "op": "gte", "value": 10},
                                 {"field": "total_spent", "op": "gte", "value": 2000}]},
                        "(c.orders_count >= 10 OR c.total_spent >= 2000)"),
}

# The best single statement by hand: the per-customer flags over the counted orders of [start - W, end)
# once, joined with the customers, one FILTER per segment and figure (N from first_order_at, which
# the data set derives from the counted orders).
HAND_SQL_ONE_STATEMENT = """
SELECT {columns}
FROM (
    SELECT o.customer_id,
           bool_or(o.placed_at < %(start)s) AS at_start,
           bool_or(o.placed_at >= %(start)s) AS in_period,
           bool_or(o.placed_at >= %(end_window)s) AS at_end
    FROM crm_order o
    WHERE o.is_counted AND o.placed_at >= %(from)s AND o.placed_at < %(end)s
    GROUP BY o.customer_id
) per_customer
JOIN crm_customer c ON c.id = per_customer.customer_id
"""
NEW = "c.first_order_at >= %(start)s AND c.first_order_at < %(end)s"


def timed(func, runs: int) -> tuple[float, object]:
    func()  # warm-up
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders-per-customer", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK['customers']:,} customers")
    parser.add_argument("--database", help=f"default {DEFAULT_DATABASE} ({DEFAULT_DATABASE}_quick with --quick)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--snapshot-quarters", type=int, default=12,
                        help="quarters of snapshots to compute (12 for the goal; fewer for a quick look at full size)")
    parser.add_argument("--skip-per-period", action="store_true",
                        help="time only the all-periods snapshots (the former per-period path takes ~10 min at 1M)")
    args = parser.parse_args()
    size = QUICK if args.quick else {"customers": args.customers, "orders_per_customer": args.orders_per_customer}
    database = args.database or (f"{DEFAULT_DATABASE}_quick" if args.quick else DEFAULT_DATABASE)
    url = ensure_dataset(**size, database=database, log=lambda line: print(line, flush=True))

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from crm.models import Customer

    from analytics.models import SegmentMetricSnapshot
    from analytics.periods import closed_periods
    from analytics.services.snapshots import snapshots_refresh
    from campaigns.models import Segment
    from campaigns.segments import segment_customers, segment_save, segments_refresh
    from analytics import metrics

    settings.ALLOWED_HOSTS = ["*"]
    window = settings.CRM_ACTIVITY_WINDOW_DAYS
    for slug, (rules, _sql) in SEGMENTS.items():
        segment_save(slug=f"bench-ana-{slug}", name=f"Bench {slug}", rules=rules)
    segments = list(Segment.objects.filter(slug__startswith="bench-ana-").order_by("pk"))
    started = time.perf_counter()
    segments_refresh(segments=Segment.objects.filter(pk__in=[segment.pk for segment in segments]).order_by("pk"))
    refresh_time = time.perf_counter() - started
    segments = list(Segment.objects.filter(pk__in=[segment.pk for segment in segments]).order_by("pk"))
    start, end = closed_periods(SegmentMetricSnapshot.Period.QUARTER, date.today(), 1)[0]
    aware_start, aware_end = metrics.aware(start), metrics.aware(end)
    customers = Customer.objects.count()
    print(f"\n{customers:,} customers; 10 segments, quarter [{start}, {end}), window {window} days; "
          f"median of {args.runs} runs after a warm-up")
    for segment in segments:
        print(f"  {segment.slug:<28} {segment.size:>9,} customers")
    print(f"members of the 10 segments refreshed (the nightly job): {refresh_time:.1f} s", flush=True)

    def project():
        results = metrics.retention_by_segment(segments, start=start, end=end, window_days=window)
        return [results[segment.pk] for segment in segments]

    def per_segment():
        return [metrics.retention(segment_customers(segment), start=start, end=end, window_days=window)
                for segment in segments]

    params = {"start": aware_start, "end": aware_end, "from": aware_start - timedelta(days=window),
              "end_window": aware_end - timedelta(days=window)}

    def hand():
        conditions = [condition for _rules, condition in SEGMENTS.values()]
        columns = ", ".join(
            f"count(*) FILTER (WHERE at_start AND {c}), count(*) FILTER (WHERE at_start AND in_period AND {c}), "
            f"count(*) FILTER (WHERE {NEW} AND {c}), count(*) FILTER (WHERE at_end AND {c})" for c in conditions
        )
        with connection.cursor() as cursor:
            cursor.execute(HAND_SQL_ONE_STATEMENT.format(columns=columns), params)
            row = cursor.fetchone()
        return [tuple(row[4 * i:4 * i + 4]) for i in range(len(conditions))]

    project_time, results = timed(project, args.runs)
    hand_time, rows = timed(hand, args.runs)
    per_segment_time, per_segment_results = timed(per_segment, 1)
    for segment, result, row, alone in zip(segments, results, rows, per_segment_results):
        ours = (result.customers_at_start, result.retained, result.new_customers, result.customers_at_end)
        if not (ours == tuple(row) and result == alone):
            raise SystemExit(f"MISMATCH for {segment.slug}: project {ours} vs SQL {tuple(row)} / per segment {alone}")
    print("\nretention of 10 segments, the figures identical in all three ways:")
    print(f"  A project, metrics.retention_by_segment (one statement over the members): {project_time * 1000:8.0f} ms")
    print(f"  B best hand-written single statement for all ten:                      {hand_time * 1000:8.0f} ms")
    print(f"ratio A / B = {project_time / hand_time:.2f} (goal <= 1.5)")
    print(f"  (reference: metrics.retention per segment, 10 statements:             {per_segment_time * 1000:8.0f} ms)",
          flush=True)
    for segment, result in zip(segments, results):
        print(f"  {segment.slug:<28} S={result.customers_at_start:>8,} R={result.retained:>8,} N={result.new_customers:>7,} "
              f"E={result.customers_at_end:>8,} retention={result.retention_rate} churn={result.churn_rate}")

    quarters = args.snapshot_quarters
    quarter = SegmentMetricSnapshot.Period.QUARTER

    def stored() -> list[tuple]:
        return list(SegmentMetricSnapshot.objects.filter(period=quarter, window_days=window).order_by(
            "segment_id", "start").values_list("segment_id", "start", "size", "customers_at_start", "retained",
                                               "new_customers", "customers_at_end", "retention_rate", "crr_classic",
                                               "extra"))

    def refresh(per_period: bool) -> tuple[float, dict, list[tuple]]:
        started = time.perf_counter()
        summary = snapshots_refresh(kinds=[quarter], window_days=window, periods=quarters, force=True,
                                    per_period=per_period)
        return time.perf_counter() - started, summary, stored()

    rows_per_period = Segment.objects.count() + 1
    print(f"\nsnapshots of {Segment.objects.count()} segments and all customers x {quarters} quarters, forced "
          f"({rows_per_period} rows per period; goal for 12 quarters: < 60 s at 1M customers):", flush=True)
    before_time = before_rows = None
    if not args.skip_per_period:
        before_time, summary, before_rows = refresh(per_period=True)
        print(f"  before, one pass per period (per_period=True): {summary['computed']} rows in {before_time:.2f} s",
              flush=True)
    after_time, summary, after_rows = refresh(per_period=False)
    print(f"  after, all periods at once (metrics.snapshot_figures): {summary['computed']} rows in {after_time:.2f} s",
          flush=True)
    if before_rows is not None:
        if before_rows != after_rows:
            raise SystemExit("MISMATCH: the snapshots of both paths differ")
        print(f"  the rows identical; ratio before / after = {before_time / after_time:.1f}x", flush=True)

    user, _created = get_user_model().objects.get_or_create(username="bench-ana-admin", defaults={"is_staff": True,
                                                                                                    "is_superuser": True})
    client = Client()
    client.force_login(user)
    page = reverse("admin:analytics_retentiondashboard_changelist")

    def render():
        reply = client.get(page)
        assert reply.status_code == 200, reply.status_code
        return reply

    render_time, reply = timed(render, max(args.runs, 5))
    with CaptureQueriesContext(connection) as queries:
        render()
    body = reply.content.decode()
    print(f"dashboard render (11 rows, sparklines of 12 quarters): {render_time * 1000:.0f} ms (goal < 300 ms), "
          f"{len(queries)} SQL queries, {len(body):,} bytes")


if __name__ == "__main__":
    main()
