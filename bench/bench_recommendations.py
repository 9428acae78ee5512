"""Benchmark: the nightly refresh of every customer's recommendations (crm.recommend) on PostgreSQL,
beside a baseline measured in the same run.

    .venv/bin/python bench/bench_recommendations.py [--customers 100000] [--orders-per-customer 4]
        [--products 10000] [--chunk-size 20000]

The data set is bench/dataset.py's (customers, orders over two years, 1-3 lines per order) in its own
database (`clubcrm_bench_recommend_<customers>`), with two changes so that co-purchase has something to
find and to cost: PRODUCTS (default 10,000, the issue's catalogue size) and the lines drawn 70% from a
"taste" of ten products fixed per customer, 30% from the whole catalogue; 2% of the products are off sale.
It is built once and reused.

Prints the refresh time (all customers, top 10 each, one DELETE + INSERT ... SELECT per chunk of ids), the
time per 100,000 customers, the baseline (one `SELECT customer_id, count(*) ... GROUP BY` over the same
order lines of the lookback window: the least any recomputation from the lines must read) and the ratio,
and this process's peak RSS (the work is in the database: Python holds no rows, so it stays flat).
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common, dataset  # noqa: E402


def structured_lines(conn, log) -> None:
    """Order lines with structure: each customer has a taste of ten neighbouring products."""
    dataset._step(conn, log, "order lines (70% from the customer's taste of ten products)", """
        INSERT INTO crm_orderline (public_id, order_id, product_id, sku, product_name, category, quantity, unit_price)
        SELECT gen_random_uuid(), o.id, pr.id, pr.sku, pr.name, pr.category, 1, round(o.total / o.lines, 2)
        FROM (
            SELECT id, customer_id, total,
                   1 + (abs(hashint8(id)::bigint) %% 100 < 35)::int + (abs(hashint8(id + 7)::bigint) %% 100 < 10)::int AS lines
            FROM crm_order
        ) o
        CROSS JOIN LATERAL generate_series(1, o.lines) k
        JOIN crm_product pr ON pr.id = CASE
            WHEN abs(hashint8(o.id * 5 + k)::bigint) %% 100 < 70
            THEN 1 + (abs(hashint8(o.customer_id)::bigint) %% (%(products)s / 10)) * 10 + abs(hashint8(o.id * 3 + k)::bigint) %% 10
            ELSE 1 + abs(hashint8(o.id * 3 + k)::bigint) %% %(products)s END
    """, {"products": dataset.PRODUCTS})
    dataset._step(conn, log, "2% of products off sale", "UPDATE crm_product SET is_active = false WHERE id % 50 = 7")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders-per-customer", type=float, default=4.0)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--chunk-size", type=int, default=None)
    args = parser.parse_args(argv)

    dataset.PRODUCTS = args.products
    dataset._insert_lines = structured_lines
    url = dataset.ensure_dataset(
        customers=args.customers, orders_per_customer=args.orders_per_customer,
        database=f"clubcrm_bench_recommend_{args.customers}", log=common.say,
    )
    common.setup_django(url)
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from crm.recommend import recommendations_refresh

    as_of = timezone.now()
    since = as_of - timezone.timedelta(days=settings.RECOMMEND_LOOKBACK_DAYS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM crm_customer), (SELECT count(*) FROM crm_product),"
                       " (SELECT count(*) FROM crm_orderline l JOIN crm_order o ON o.id = l.order_id"
                       "  WHERE o.is_counted AND o.placed_at >= %s)", [since])
        customers, products, lines = cursor.fetchone()
        common.say(f"data: {customers:,} customers, {products:,} products, {lines:,} counted lines in the lookback")
        started = time.monotonic()
        cursor.execute(
            "SELECT count(*), sum(n) FROM (SELECT o.customer_id, count(*) AS n FROM crm_order o"
            " JOIN crm_orderline l ON l.order_id = o.id WHERE o.is_counted AND o.placed_at >= %s"
            " AND l.product_id IS NOT NULL GROUP BY o.customer_id) per_customer",
            [since],
        )
        cursor.fetchone()
        baseline = time.monotonic() - started

    rss_before = common.peak_rss_mb()
    marks = []

    def progress(done, total):
        marks.append((done, time.monotonic()))

    started = time.monotonic()
    summary = recommendations_refresh(as_of=as_of, chunk_size=args.chunk_size, progress=progress)
    elapsed = time.monotonic() - started
    per_100k = elapsed / customers * 100_000
    common.say(f"refresh: {summary['recommendations']:,} recommendations for {summary['customers']:,} customers "
               f"in {summary['chunks']} chunks, {summary['pairs']:,} product neighbours: {elapsed:.1f} s "
               f"({per_100k:.1f} s per 100,000 customers)")
    if len(marks) > 2:
        first_chunk = marks[0][1] - started
        common.say(f"  first chunk (training + one chunk): {first_chunk:.1f} s; "
                   f"later chunks: {(marks[-1][1] - marks[0][1]) / (len(marks) - 1):.2f} s each")
    common.say(f"baseline (SELECT customer_id, count(*) ... GROUP BY over the same lines): {baseline:.2f} s; "
               f"ratio {elapsed / baseline:.1f}x")
    common.say(f"peak RSS: {rss_before:.0f} MB before the refresh, {common.peak_rss_mb():.0f} MB after")
    common.say(f"linear extrapolation to 1,000,000 customers: {per_100k * 10 / 60:.1f} min")


if __name__ == "__main__":
    main()
