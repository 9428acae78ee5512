"""Benchmark: retention and churn of 10 segments for one quarter, project code against
hand-written SQL, and the retention dashboard read from snapshots (PostgreSQL).

    .venv/bin/python bench/bench_retention.py [--quick] [--customers N] [--orders-per-customer M] [--runs 3]

Uses the shared data set of bench.dataset (1,000,000 customers and about 10,000,000 orders
by default, built with INSERT ... SELECT generate_series the first time; `--quick`: 50,000
customers), creates 10 dynamic segments (`bench-ana-*`, upserted), and prints in one run:

1. the time to compute S, R, N, E and the rates of the 10 segments for the last closed
   quarter through the project's code (`analytics.metrics.retention` over each segment's QuerySet),
2. the time of the best hand-written SQL for the same numbers (one statement per segment,
   the segment's condition written by hand), checking that both give the same figures,
3. their ratio (goal: at most 1.5),
4. the time to render the retention dashboard (the admin page, through Django's test
   client) once its snapshots exist (goal: under 300 ms), and its number of SQL queries.

Each timing is the median of `--runs` runs after one warm-up run (so both sides read a
warm cache). The snapshots of the last 12 quarters are computed by the same code as the
periodic job the first time (minutes at full size); later runs reuse them.
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

HAND_SQL = """
WITH seg AS (SELECT c.id, c.first_order_at FROM crm_customer c WHERE {condition}),
per_customer AS (
    SELECT o.customer_id,
           bool_or(o.placed_at < %(start)s) AS at_start,
           bool_or(o.placed_at >= %(start)s) AS in_period,
           bool_or(o.placed_at >= %(end_window)s) AS at_end
    FROM crm_order o
    WHERE o.is_counted AND o.placed_at >= %(from)s AND o.placed_at < %(end)s
      AND o.customer_id IN (SELECT id FROM seg)
    GROUP BY o.customer_id
)
SELECT (SELECT count(*) FILTER (WHERE at_start) FROM per_customer),
       (SELECT count(*) FILTER (WHERE at_start AND in_period) FROM per_customer),
       (SELECT count(*) FROM seg WHERE first_order_at >= %(start)s AND first_order_at < %(end)s),
       (SELECT count(*) FILTER (WHERE at_end) FROM per_customer)
"""

# All segments in one pass over the orders of the window: per-customer flags once, then one
# FILTER per segment and figure; the new customers in a second statement.
HAND_SQL_ONE_PASS = """
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
HAND_SQL_NEW = "SELECT {columns} FROM crm_customer c WHERE c.first_order_at >= %(start)s AND c.first_order_at < %(end)s"


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

    from analytics.models import SegmentMetricSnapshot
    from analytics.periods import closed_periods
    from analytics.services.snapshots import snapshots_refresh
    from campaigns.segments import segment_customers, segment_save
    from analytics import metrics

    settings.ALLOWED_HOSTS = ["*"]
    window = settings.CRM_ACTIVITY_WINDOW_DAYS
    segments = [
        segment_save(slug=f"bench-ana-{slug}", name=f"Bench {slug}", rules=rules)[0] for slug, (rules, _sql) in SEGMENTS.items()
    ]
    start, end = closed_periods(SegmentMetricSnapshot.Period.QUARTER, date.today(), 1)[0]
    aware_start, aware_end = metrics.aware(start), metrics.aware(end)
    print(f"\n10 segments, quarter [{start}, {end}), window {window} days; median of {args.runs} runs after a warm-up")
    for segment in segments:
        print(f"  {segment.slug:<28} {segment.size:>9,} customers")

    def project():
        return [metrics.retention(segment_customers(segment), start=start, end=end, window_days=window) for segment in segments]

    params = {"start": aware_start, "end": aware_end, "from": aware_start - timedelta(days=window),
              "end_window": aware_end - timedelta(days=window)}

    def hand():
        rows = []
        with connection.cursor() as cursor:
            for _rules, condition in SEGMENTS.values():
                cursor.execute(HAND_SQL.format(condition=condition), params)
                rows.append(cursor.fetchone())
        return rows

    def hand_one_pass():
        conditions = [condition for _rules, condition in SEGMENTS.values()]
        columns = ", ".join(
            f"count(*) FILTER (WHERE at_start AND {c}), count(*) FILTER (WHERE at_start AND in_period AND {c}), "
            f"count(*) FILTER (WHERE at_end AND {c})" for c in conditions
        )
        with connection.cursor() as cursor:
            cursor.execute(HAND_SQL_ONE_PASS.format(columns=columns), params)
            flags = cursor.fetchone()
            cursor.execute(HAND_SQL_NEW.format(columns=", ".join(f"count(*) FILTER (WHERE {c})" for c in conditions)), params)
            new = cursor.fetchone()
        return [(flags[3 * i], flags[3 * i + 1], new[i], flags[3 * i + 2]) for i in range(len(conditions))]

    project_time, results = timed(project, args.runs)
    hand_time, rows = timed(hand, args.runs)
    one_pass_time, one_pass_rows = timed(hand_one_pass, args.runs)
    for segment, result, row, row_one_pass in zip(segments, results, rows, one_pass_rows):
        ours = (result.customers_at_start, result.retained, result.new_customers, result.customers_at_end)
        if not (ours == tuple(row) == tuple(row_one_pass)):
            raise SystemExit(f"MISMATCH for {segment.slug}: project {ours} vs SQL {tuple(row)} / {tuple(row_one_pass)}")
    print("\nretention of 10 segments, the figures identical in all three ways:")
    print(f"  A project code, analytics.metrics.retention over each segment's QuerySet: {project_time * 1000:8.0f} ms")
    print(f"  B hand-written SQL, one statement per segment:                     {hand_time * 1000:8.0f} ms")
    print(f"  C hand-written SQL, all 10 segments in one pass (2 statements):    {one_pass_time * 1000:8.0f} ms")
    print(f"ratio A / B = {project_time / hand_time:.2f} (goal <= 1.5); A / C = {project_time / one_pass_time:.2f}")
    for segment, result in zip(segments, results):
        print(f"  {segment.slug:<28} S={result.customers_at_start:>8,} R={result.retained:>8,} N={result.new_customers:>7,} "
              f"E={result.customers_at_end:>8,} retention={result.retention_rate} churn={result.churn_rate}")

    started = time.perf_counter()
    summary = snapshots_refresh(kinds=[SegmentMetricSnapshot.Period.QUARTER], window_days=window)
    print(f"\nsnapshots: {summary['computed']} computed (last 12 quarters x 11 rows, missing ones only) "
          f"in {time.perf_counter() - started:.1f} s")

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
