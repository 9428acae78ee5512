"""Benchmark: the crm admin's pages on a big data set (PostgreSQL).

    .venv/bin/python bench/bench_admin.py [--customers N] [--orders-per-customer M] [--quick] [--runs 5] [--explain]

Builds the data set if needed (bench.dataset.ensure_dataset: 1,000,000 customers and
about 10,000,000 orders by default; that takes a while the first time), signs in a
superuser with Django's test client against that database, and for each page prints
the median time of `--runs` requests (after one warm-up request), the number of SQL
queries, the time spent in SQL, and, as a baseline measured in the same run, the time of
a bare `SELECT ... LIMIT 100` of the same table's rows with the ratio page/baseline.
`--explain` prints the plans of each page's two slowest statements; `--only TEXT` runs
the pages whose label contains TEXT.
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

BASELINES = {
    "customers": "SELECT id, first_name, last_name, email, phone, city, orders_count, total_spent, last_order_at"
                 " FROM crm_customer ORDER BY id DESC LIMIT 100",
    "orders": "SELECT o.id, o.order_number, o.placed_at, o.status, o.channel, o.total, o.refunded_amount, o.is_counted,"
              " c.first_name, c.last_name FROM crm_order o JOIN crm_customer c ON c.id = o.customer_id"
              " ORDER BY o.placed_at DESC, o.id DESC LIMIT 100",
    "interactions": "SELECT i.id, i.subject, i.channel, i.status, i.follow_up_on, i.occurred_at, c.first_name, u.username"
                    " FROM crm_interaction i JOIN crm_customer c ON c.id = i.customer_id"
                    " LEFT JOIN auth_user u ON u.id = i.staff_id ORDER BY i.occurred_at DESC, i.id DESC LIMIT 100",
    "order lines": "SELECT l.id, l.sku, l.product_name, l.category, l.quantity, l.unit_price, o.order_number"
                   " FROM crm_orderline l JOIN crm_order o ON o.id = l.order_id ORDER BY l.id LIMIT 100",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders-per-customer", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK['customers']:,} customers")
    parser.add_argument("--database", help=f"default {DEFAULT_DATABASE} ({DEFAULT_DATABASE}_quick with --quick)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print the plans of each page's two slowest queries")
    parser.add_argument("--only", help="only the pages whose label contains this text")
    args = parser.parse_args()
    size = QUICK if args.quick else {"customers": args.customers, "orders_per_customer": args.orders_per_customer}
    database = args.database or (f"{DEFAULT_DATABASE}_quick" if args.quick else DEFAULT_DATABASE)

    url = ensure_dataset(**size, database=database, log=lambda line: print(line, flush=True))
    _setup_django(url)
    run(runs=args.runs, explain=args.explain, only=args.only)


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # As in production: DEBUG off (no template debug, no query log unless captured)...
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    # ...but plain http for the test client.
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        os.environ.setdefault(name, "0")
    import django

    django.setup()


def run(*, runs: int, explain: bool, only: str | None = None) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True, "email": "bench-admin@example.com"}
    )
    client = Client()
    client.force_login(user)
    sample = _sample(connection)

    customers = reverse("admin:crm_customer_changelist")
    orders = reverse("admin:crm_order_changelist")
    interactions = reverse("admin:crm_interaction_changelist")
    pages = [
        ("customers", "customers", customers, {}),
        ("customers: search email", "customers", customers, {"q": sample["email"].upper()}),
        ("customers: search phone", "customers", customers, {"q": sample["phone_typed"]}),
        ("customers: search external ref", "customers", customers, {"q": sample["external_ref"]}),
        ("customers: search order number", "customers", customers, {"q": sample["order_number"]}),
        ("customers: search name prefix", "customers", customers, {"q": sample["first_name"][:3].lower()}),
        ("customers: search first + last", "customers", customers, {"q": sample["full_name_prefix"]}),
        *[
            (f"customers: stage {stage}", "customers", customers, {"stage": stage})
            for stage in ("prospect", "new", "repeat", "at_risk", "churned")
        ],
        ("customers: email opt-in + fa", "customers", customers, {"email_opt_in__exact": "1", "language__exact": "fa"}),
        ("customers: sorted by last order", "customers", customers, {"o": "-8"}),
        ("customers: page 50", "customers", customers, {"p": "50"}),
        ("customer page (timeline)", "customers", reverse("admin:crm_customer_change", args=[sample["busy_customer"]]), {}),
        ("orders", "orders", orders, {}),
        ("orders: search order number", "orders", orders, {"q": sample["order_number"]}),
        ("orders: status cancelled", "orders", orders, {"status__exact": "cancelled"}),
        ("orders: of one customer", "orders", orders, {"customer__id__exact": sample["busy_customer"]}),
        ("order page", "orders", reverse("admin:crm_order_change", args=[sample["order_id"]]), {}),
        ("interactions", "interactions", interactions, {}),
        ("interactions: all open follow-ups", "interactions", interactions, {"follow_up": "open"}),
        ("interactions: search customer", "interactions", interactions, {"q": sample["email"]}),
        ("order lines", "order lines", reverse("admin:crm_orderline_changelist"), {}),
        ("admin home (my follow-ups)", "customers", reverse("admin:index"), {}),
    ]

    if only:
        pages = [page for page in pages if only in page[0]]
    baselines = {name: _time_sql(connection, sql, runs) for name, sql in BASELINES.items()}
    print()
    print(f"{'page':<36} {'median ms':>9} {'queries':>7} {'sql ms':>7} {'baseline ms':>11} {'ratio':>6}")
    print("-" * 82)
    for label, table, url, params in pages:
        result = _time_page(client, connection, url, params, runs)
        baseline = baselines[table]
        print(
            f"{label:<36} {result['median']:>9.1f} {result['queries']:>7} {result['sql']:>7.1f} {baseline:>11.2f}"
            f" {result['median'] / baseline:>6.0f}",
            flush=True,
        )
        if explain:
            for sql in result["statements"]:
                _explain(connection, sql)
    print("-" * 82)
    print("baseline: a bare SELECT ... LIMIT 100 of the same table's rows (median); ratio = page / baseline")


def _sample(connection) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, email, phone, external_ref, first_name, last_name FROM crm_customer"
            " WHERE email IS NOT NULL AND phone IS NOT NULL AND external_ref IS NOT NULL"
            " AND id >= (SELECT max(id) / 2 FROM crm_customer) ORDER BY id LIMIT 1"
        )
        _, email, phone, external_ref, first_name, last_name = cursor.fetchone()
        cursor.execute("SELECT id, order_number FROM crm_order WHERE id >= (SELECT max(id) / 2 FROM crm_order) ORDER BY id LIMIT 1")
        order_id, order_number = cursor.fetchone()
        cursor.execute(
            "SELECT id FROM crm_customer WHERE orders_count >= 40 AND id >= (SELECT max(id) / 3 FROM crm_customer)"
            " ORDER BY id LIMIT 1"
        )
        row = cursor.fetchone()
    busy_customer = row[0] if row else 1
    # "+98 912 123 4567", as someone reads it out on the phone
    phone_typed = f"{phone[:3]} {phone[3:6]} {phone[6:9]} {phone[9:]}"
    return {
        "email": email, "phone_typed": phone_typed, "external_ref": external_ref, "first_name": first_name,
        "full_name_prefix": f"{first_name} {last_name[:3]}", "order_number": order_number, "order_id": order_id,
        "busy_customer": busy_customer,
    }


def _time_sql(connection, sql: str, runs: int) -> float:
    timings = []
    with connection.cursor() as cursor:
        cursor.execute(sql)
        cursor.fetchall()
        for _ in range(runs):
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _time_page(client, connection, url: str, params: dict, runs: int) -> dict:
    """Median of `runs` requests after a warm-up one; SQL time and count from the last."""
    from django.test.utils import CaptureQueriesContext

    response = client.get(url, params)  # warm-up
    if response.status_code != 200:
        raise SystemExit(f"{url} {params}: HTTP {response.status_code}")
    timings, sql_times = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, params)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        sql_times.append(sum(float(query["time"]) for query in queries.captured_queries) * 1000)
    slowest = sorted(queries.captured_queries, key=lambda query: -float(query["time"]))
    return {
        "median": statistics.median(timings),
        "queries": len(queries.captured_queries),
        "sql": statistics.median(sql_times),
        "statements": [query["sql"] for query in slowest[:2] if query["sql"].lstrip().upper().startswith("SELECT")],
    }


def _explain(connection, sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        for (line,) in cursor.fetchall():
            print("      " + line)


if __name__ == "__main__":
    main()
