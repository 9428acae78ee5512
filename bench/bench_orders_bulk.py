"""Benchmark: the partner API's order roads on PostgreSQL, `orders/bulk/` and `orders/`, for club members.

    .venv/bin/python bench/bench_orders_bulk.py [--customers 2000] [--runs 3] [--calls 10] [--singles 200] [--quick]

Uses its own database, `clubcrm_bench_bulk` on the server of BENCH_SERVER_URL (else of a postgres
DATABASE_URL, else postgres@127.0.0.1:5432), copied afresh for every run from
`clubcrm_bench_bulk_template`, which is migrated and built once through the services: N customers,
each a club member (club.services.member_enroll), tiers and an active purchase rule (one point per
unit), and a partner subscribed to the order.created and points.earned webhooks. The run gets a new
API key (orders:write, customers:read) and sends the requests with Django's test client, in this
process, with DEBUG off (as in production; the broker is in memory, so queued webhook deliveries are
counted, never sent), each with an Idempotency-Key as a partner sends it:

1. `--runs` times: one `POST /api/v1/orders/bulk/` of BATCH_MAX_ORDERS new orders (1 to 3 lines each,
   for random members, placed now so they earn points), then the baseline for the same orders: their
   crm_order and crm_orderline rows, prepared beforehand, written by two COPYs and a commit;
2. `--calls` more bulk calls in a row (10 x 1,000 = 10,000 orders), each call's time next to the web
   server's timeout (gunicorn's --timeout: the project sets none, so gunicorn's default of 30 s);
3. `--singles` single orders, `POST /api/v1/orders/`, one after the other.

It prints orders/s, SQL queries per call and where a call's time goes: before the first order is
written (authentication, parsing, validation, the batch's checks), then SQL on the crm tables
(orders, lines, products, customers' figures), the club's (points, tiers) and the api's (webhook
outbox, idempotency record, call log), and the Python around them.
"""

import argparse
import gc
import json
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

DATABASE = "clubcrm_bench_bulk"
PARTNER = "bench: orders bulk"
SCOPES = ["orders:write", "customers:read"]
JOINED = datetime(2022, 12, 31, tzinfo=timezone.utc)
SERVER_TIMEOUT_SECONDS = 30  # gunicorn's default --timeout; neither scripts/ nor the README set another
PRODUCTS = 300
BULK_URL, SINGLE_URL = "/api/v1/orders/bulk/", "/api/v1/orders/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, help="club members in the template (default 2,000; --quick 500)")
    parser.add_argument("--runs", type=int, help="bulk calls measured next to the baseline (default 3; --quick 1)")
    parser.add_argument("--calls", type=int, help="bulk calls in a row for the per-call time (default 10; --quick 2)")
    parser.add_argument("--singles", type=int, help="single orders (default 200; --quick 50)")
    parser.add_argument("--quick", action="store_true", help="the smaller sizes, for a run of about 4 minutes today")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    sizes = {"customers": 500, "runs": 1, "calls": 2, "singles": 50} if args.quick else \
        {"customers": 2000, "runs": 3, "calls": 10, "singles": 200}
    for name, value in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if min(args.customers, args.runs, args.singles) < 1 or args.calls < 0:
        parser.error("--customers, --runs and --singles must be at least 1, --calls at least 0")

    server = common.server_url()
    common.setup_django(common.template_url(server, DATABASE))
    refs = [f"BULK-{n:06d}" for n in range(1, args.customers + 1)]

    def build():
        common.club_configure()
        common.members_enroll(refs, joined_at=JOINED)
        common.partner_with_webhooks(PARTNER)

    common.prepare_template(DATABASE, build)
    common.database_afresh(server, DATABASE)

    from django.test import Client

    from api.services import BATCH_MAX_ORDERS
    from crm.models import Customer

    client = Client(HTTP_AUTHORIZATION=f"Api-Key {common.api_key_for(PARTNER, SCOPES)}")
    members = [str(public_id) for public_id in
               Customer.objects.filter(external_ref__in=refs, membership__isnull=False).values_list("public_id", flat=True)]
    rng = random.Random(args.seed)
    numbers = iter(range(1, 10**9))

    def orders(count: int) -> list[dict]:
        return [order_body(rng, rng.choice(members), f"BB-{next(numbers):08d}") for _ in range(count)]

    print(f"database: {DATABASE} (a fresh copy of {DATABASE}_template); {len(members):,} members; "
          f"load average {common.load_average():.1f}", flush=True)
    before = common.club_outbox_counts()
    # Warm-up: imports, caches, and a database that holds orders. The statistics are then refreshed (as autovacuum
    # does within a minute on a live database) and the connection opened afresh: a connection that first checked
    # its foreign keys against near-empty tables keeps a sequential-scan plan for those checks, and every later
    # commit then scans all the orders written since (seen here: the commit growing by 0.1 s with each call).
    post(client, BULK_URL, {"orders": orders(BATCH_MAX_ORDERS)})
    post(client, SINGLE_URL, orders(1)[0])
    common.statistics_refresh()
    # As a web server's process does once Django has loaded (config/wsgi.py): what start-up built is kept out of
    # the collector's full passes.
    gc.freeze()

    print(f"\n1. POST {BULK_URL} with {BATCH_MAX_ORDERS:,} orders, and the baseline (two COPYs and a commit); runs: {args.runs}")
    bulk_rates, baseline_rates = [], []
    for run in range(1, args.runs + 1):
        batch = orders(BATCH_MAX_ORDERS)
        call = post(client, BULK_URL, {"orders": batch}, expect=201)
        baseline_seconds = time_baseline(batch)
        bulk_rates.append(len(batch) / call["seconds"])
        baseline_rates.append(len(batch) / baseline_seconds)
        print(f"  run {run}: bulk {call['seconds']:6.2f} s {bulk_rates[-1]:8,.0f} orders/s, {call['queries']:,} queries "
              f"({call['queries'] / len(batch):.1f} per order) | baseline {baseline_seconds * 1000:6.1f} ms "
              f"{baseline_rates[-1]:9,.0f} orders/s")
        print(f"         {split_text(call)}")
    bulk, baseline = statistics.median(bulk_rates), statistics.median(baseline_rates)
    print(f"  median: bulk {bulk:,.0f} orders/s (goal: 1,000 or more), baseline {baseline:,.0f} orders/s, "
          f"ratio bulk/baseline {bulk / baseline:.3f}")

    if args.calls:
        total = args.calls * BATCH_MAX_ORDERS
        print(f"\n2. {total:,} orders as the API takes them: {args.calls} calls of {BATCH_MAX_ORDERS:,}")
        seconds = [post(client, BULK_URL, {"orders": orders(BATCH_MAX_ORDERS)}, expect=201)["seconds"]
                   for _ in range(args.calls)]
        print(f"  per call: median {statistics.median(seconds):.2f} s, slowest {max(seconds):.2f} s "
              f"(the web server's timeout: {SERVER_TIMEOUT_SECONDS} s); {total / sum(seconds):,.0f} orders/s overall")
        print("  each call: " + ", ".join(f"{value:.2f}" for value in seconds) + " s")

    print(f"\n3. POST {SINGLE_URL}, {args.singles} orders one after the other")
    calls = [post(client, SINGLE_URL, body, expect=201) for body in orders(args.singles)]
    spent = sum(call["seconds"] for call in calls)
    print(f"  {args.singles / spent:,.1f} orders/s, median {statistics.median(c['seconds'] for c in calls) * 1000:.1f} ms "
          f"per call, {statistics.median(c['queries'] for c in calls):.0f} queries per call")
    print(f"  median call: {split_text(sorted(calls, key=lambda c: c['seconds'])[len(calls) // 2])}")
    written = {name: count - before[name] for name, count in common.club_outbox_counts().items()}
    print("\nwritten by the API calls besides orders and lines: " + ", ".join(f"{n:,} {name}" for name, n in written.items()))
    print(f"load average after: {common.load_average():.1f} (other work on the machine slows every timing)")


def order_body(rng: random.Random, customer: str, number: str) -> dict:
    lines = []
    for _ in range(rng.randint(1, 3)):
        product = rng.randrange(1, PRODUCTS + 1)
        lines.append({"sku": f"BULK-SKU-{product:04d}", "product_name": f"Product {product}",
                      "category": f"category {product % 12}", "quantity": rng.randint(1, 3),
                      "unit_price": f"{rng.randrange(100, 20000) / 100:.2f}"})
    total = sum(Decimal(line["unit_price"]) * line["quantity"] for line in lines)
    return {"customer": customer, "order_number": number, "placed_at": datetime.now(timezone.utc).isoformat(),
            "status": "fulfilled", "channel": rng.choice(["store", "online", "app"]), "currency": "USD",
            "total": f"{total:.2f}", "lines": lines}


def post(client, url: str, body: dict, *, expect: int | None = None) -> dict:
    """One call with its time, its SQL queries and their time by app."""
    payload = json.dumps(body)
    with common.queries_counted() as log:
        started = time.perf_counter()
        response = client.post(url, payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
        seconds = time.perf_counter() - started
    if expect is not None and response.status_code != expect:
        sys.exit(f"{url} answered {response.status_code}: {response.content[:2000]!r}")
    before_writing = log.first_write.get("crm", seconds) + (log.started - started)
    return {"seconds": seconds, "queries": log.count, "sql": log.seconds, "by_app": log.seconds_by_app,
            "before_writing": before_writing}


def split_text(call: dict) -> str:
    sql = call["by_app"]
    named = sum(sql.get(app, 0.0) for app in ("crm", "club", "api"))
    return (f"{call['before_writing'] * 1000:.0f} ms before the first order is written; SQL {call['sql'] * 1000:.0f} ms "
            f"(crm {sql.get('crm', 0) * 1000:.0f}, club {sql.get('club', 0) * 1000:.0f}, api {sql.get('api', 0) * 1000:.0f}, "
            f"other {(call['sql'] - named) * 1000:.0f}); Python {(call['seconds'] - call['sql']) * 1000:.0f} ms")


def time_baseline(batch: list[dict]) -> float:
    """The batch's crm_order and crm_orderline rows, as the API stores them, prepared first (ids from the
    tables' own sequences, the products the API created), then timed: two COPYs into the real tables
    and the commit (which runs the deferred foreign key checks)."""
    import psycopg
    from django.db import connection

    from crm.models import Customer, Order, OrderLine, Product

    customers = dict(Customer.objects.filter(public_id__in={o["customer"] for o in batch}).values_list("public_id", "pk"))
    products = dict(Product.objects.filter(sku__startswith="BULK-SKU-").values_list("sku", "pk"))
    order_ids = common.sequence_values(Order, len(batch))
    line_ids = iter(common.sequence_values(OrderLine, sum(len(o["lines"]) for o in batch)))
    order_fields, line_fields = common.copy_columns(Order), common.copy_columns(OrderLine)
    now = datetime.now(timezone.utc)
    order_rows, line_rows = [], []
    for order_id, body in zip(order_ids, batch):
        placed_at = datetime.fromisoformat(body["placed_at"])
        order_rows.append(common.copy_line(order_fields, {
            "id": order_id, "public_id": uuid.uuid4(), "customer_id": customers[uuid.UUID(body["customer"])],
            "source": "bench-baseline", "order_number": body["order_number"], "placed_at": placed_at,
            "status": body["status"], "channel": body["channel"], "currency": body["currency"],
            "total": Decimal(body["total"]), "fulfilled_at": placed_at, "created_at": now, "updated_at": now,
        }))
        for line in body["lines"]:
            line_rows.append(common.copy_line(line_fields, {
                "id": next(line_ids), "public_id": uuid.uuid4(), "order_id": order_id,
                "product_id": products.get(line["sku"]), "sku": line["sku"], "product_name": line["product_name"],
                "category": line["category"], "quantity": line["quantity"], "unit_price": Decimal(line["unit_price"]),
            }))
    url = common.psycopg_url(common.database_url(common.server_url(), connection.settings_dict["NAME"]))
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        started = time.perf_counter()
        common.copy_into(cursor, Order, order_fields, [b"".join(order_rows)])
        common.copy_into(cursor, OrderLine, line_fields, [b"".join(line_rows)])
        conn.commit()
        return time.perf_counter() - started


if __name__ == "__main__":
    main()
