"""Benchmark: counting a segment (3-5 conditions) through the rules compiler, against the
same count written by hand in SQL, on the shared 1,000,000-customer data set (PostgreSQL).

    .venv/bin/python bench/bench_segments.py [--quick] [--runs 5]

Prints, for each rule set, the median time of `customers_matching(rules).count()` and of
the hand-written statement (after one warm-up each), the two counts (which must agree) and
the ratio. Goal of the segments issue: under a second at 1,000,000 customers.
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

from bench.dataset import DEFAULT_DATABASE, QUICK, ensure_dataset  # noqa: E402

# name: (rules, the same selection by hand; %(now)s is the run's "now")
RULE_SETS = {
    "at-risk coffee buyers in Tehran": (
        {"all": [
            {"field": "city", "op": "eq", "value": "Tehran"},
            {"field": "days_since_last_order", "op": "between", "value": [90, 179]},
            {"field": "purchased_category_within_days", "op": "eq", "value": {"category": "coffee", "days": 365}},
            {"field": "email_opt_in", "op": "eq", "value": True},
        ]},
        """SELECT count(*) FROM crm_customer c
           WHERE upper(c.city) = 'TEHRAN' AND c.email_opt_in
             AND c.last_order_at <= %(now)s - interval '90 days' AND c.last_order_at > %(now)s - interval '180 days'
             AND EXISTS (SELECT 1 FROM crm_orderline l JOIN crm_order o ON o.id = l.order_id
                         WHERE o.customer_id = c.id AND o.is_counted AND upper(l.category) = 'COFFEE'
                           AND o.placed_at >= %(now)s - interval '365 days')""",
    ),
    "loyal big spenders, Persian speakers": (
        {"all": [
            {"field": "language", "op": "eq", "value": "fa"},
            {"field": "orders_count", "op": "gte", "value": 5},
            {"field": "total_spent", "op": "gte", "value": 500},
        ]},
        "SELECT count(*) FROM crm_customer c WHERE c.language = 'fa' AND c.orders_count >= 5 AND c.total_spent >= 500",
    ),
    "lapsed or rare, UK or UAE, with SMS": (
        {"all": [
            {"any": [{"field": "days_since_last_order", "op": "gte", "value": 180},
                     {"field": "orders_count", "op": "lte", "value": 1}]},
            {"field": "country", "op": "in", "value": ["GB", "AE"]},
            {"field": "sms_opt_in", "op": "eq", "value": True},
            {"field": "order_channel", "op": "eq", "value": "online"},
        ]},
        """SELECT count(*) FROM crm_customer c
           WHERE (c.last_order_at <= %(now)s - interval '180 days' OR c.orders_count <= 1)
             AND (upper(c.country) = 'GB' OR upper(c.country) = 'AE') AND c.sms_opt_in
             AND EXISTS (SELECT 1 FROM crm_order o WHERE o.customer_id = c.id AND o.is_counted AND o.channel = 'online')""",
    ),
}


def median_time(func, runs: int):
    result = func()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK['customers']:,} customers")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.quick:
        url = ensure_dataset(**QUICK, database=f"{DEFAULT_DATABASE}_quick", log=print)
    else:
        url = ensure_dataset(log=print)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from campaigns.rules import customers_matching

    now = timezone.now()
    total = 0.0
    print(f"\n{'rule set':40} {'project':>10} {'by hand':>10} {'ratio':>6}  count")
    for name, (rules, sql) in RULE_SETS.items():
        project_time, project_count = median_time(lambda: customers_matching(rules, at=now).count(), args.runs)

        def by_hand():
            with connection.cursor() as cursor:
                cursor.execute(sql, {"now": now})
                return cursor.fetchone()[0]

        hand_time, hand_count = median_time(by_hand, args.runs)
        agree = "" if project_count == hand_count else f"  MISMATCH: by hand {hand_count}"
        print(f"{name:40} {project_time * 1000:>8.1f}ms {hand_time * 1000:>8.1f}ms {project_time / hand_time:>6.2f}  "
              f"{project_count:,}{agree}")
        total += project_time
    print(f"\nslowest goal: under 1 s per count at 1,000,000 customers; all three counts took {total:.2f} s")


if __name__ == "__main__":
    main()
