"""A big, realistic crm data set on PostgreSQL, built with set-based SQL, for benchmarks.

    .venv/bin/python -m bench.dataset [--customers N] [--orders-per-customer M] [--quick] [--rebuild]
    # prints the DATABASE_URL of the data set on its last line

    from bench.dataset import ensure_dataset
    url = ensure_dataset(customers=1_000_000, orders_per_customer=10)

The database (`clubcrm_bench_dataset` by default; its own, because other benchmarks empty
tables in theirs) is created and migrated if missing, then filled in one transaction
with `INSERT ... SELECT ... generate_series`:

- customers: names, an email for 90%, a phone for 80%, an external reference for 30%,
  language, city, country, consent flags, acquired over ~2.5 years;
- orders: a count per customer drawn from an exponential law (about 15% of customers
  never order, 10% order once, a long tail orders a lot), placed over the last two years, each
  customer's orders clustered before their "last seen" day so that every lifecycle stage
  exists; 90% fulfilled, 3% cancelled, 2% refunded, 2% partly refunded, 3% paid;
- 1 to 3 lines per order over 500 products, interactions for half of the customers
  (some open with a follow-up date), 20 staff users;
- then the derived customer figures in one UPDATE ... FROM (SELECT ... GROUP BY), the
  identity sequences, VACUUM ANALYZE.

Secondary indexes and constraints of the big tables are dropped during the load and
rebuilt after it, in the same transaction (core.copy.IndexesDeferred, as seed_demo's COPY
load does): an interrupted build leaves the database as it was. For the demo's own shapes
(Persian/Arabic/English names, club members and ledgers...), seed a database with
`manage.py seed_demo`, which streams its rows with COPY, and point the benchmark at it. It is idempotent: when the database already holds a data set of the asked size
(checked against the real row counts), it returns at once.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from core.copy import IndexesDeferred

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "clubcrm_bench_dataset"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/"
QUICK = {"customers": 50_000, "orders_per_customer": 10.0}
LOCK_KEY = 732_519_004  # pg_advisory_lock: one builder at a time
PRODUCTS = 500
STAFF = 20

FIRST_NAMES = [
    "Sara", "Ali", "Maryam", "Reza", "Fatemeh", "Mohammad", "Zahra", "Hossein", "Narges", "Amir", "Leila", "Mehdi",
    "Niloufar", "Hamid", "Shirin", "Arash", "Parisa", "Kaveh", "Roya", "Babak", "Yasmin", "Omar", "Layla", "Karim",
    "Noor", "Hassan", "Aisha", "Youssef", "Mona", "Tariq", "Emma", "James", "Olivia", "Noah", "Sophia", "Liam", "Mia",
    "Lucas", "Amelia", "Ethan", "Hana", "Samir", "Dina", "Rami", "Salma", "Nadia", "Farid", "Soraya", "Darius", "Ava",
]
LAST_PARTS_1 = [
    "Ah", "Kar", "Moh", "Raz", "Sad", "Tav", "Jaf", "Naz", "Rost", "Sha", "Far", "Ham", "Kha", "Mir", "Nas",
    "Bah", "Gol", "Hos", "Sol", "Zan", "Ben", "Mal", "Tur", "Wil", "Har", "Cla", "Mor", "Dav", "Ell", "Rob",
]
LAST_PARTS_2 = [
    "madi", "imi", "seni", "avi", "egh", "ani", "ari", "doust", "zadeh", "pour", "nejad", "far", "lou", "abadi",
    "son", "ley", "ton", "ford", "ridge", "well", "mann", "ini", "oudi", "ami", "bakhsh", "kian", "vand", "yar",
    "khah", "rad",
]
CITIES = ["Tehran", "Shiraz", "Isfahan", "Mashhad", "Tabriz", "Dubai", "Abu Dhabi", "London", "Manchester", "Karaj"]
CATEGORIES = ["coffee", "tea", "beans", "cups", "machines", "filters", "syrups", "snacks", "gifts", "books", "grinders", "milk"]


@dataclass(frozen=True)
class DatasetSpec:
    customers: int
    orders_per_customer: float
    version: int = 1  # bump when the generated data changes shape


def server_url() -> str:
    """The PostgreSQL server: BENCH_SERVER_URL, else the server of a postgres DATABASE_URL, else localhost."""
    url = os.environ.get("BENCH_SERVER_URL") or os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = DEFAULT_SERVER
    return url


def database_url(database: str = DEFAULT_DATABASE) -> str:
    parts = urlsplit(server_url())
    return urlunsplit(parts._replace(scheme="postgres", path=f"/{database}"))


def ensure_dataset(
    *,
    customers: int = 1_000_000,
    orders_per_customer: float = 10.0,
    database: str = DEFAULT_DATABASE,
    rebuild: bool = False,
    migrate: bool = True,
    log=print,
) -> str:
    """Make sure `database` holds the data set of that size; return its DATABASE_URL."""
    import psycopg

    spec = DatasetSpec(customers=customers, orders_per_customer=float(orders_per_customer))
    url = database_url(database)
    _create_database(database)
    if migrate:
        _migrate(url, log)
    with psycopg.connect(_psycopg(url), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        try:
            if not rebuild and _is_built(conn, spec):
                log(f"dataset: {database} already holds {_describe(conn)}")
                return url
            started = time.monotonic()
            log(f"dataset: building {customers:,} customers x ~{orders_per_customer:g} orders in {database}...")
            _build(conn, spec, log)
            log(f"dataset: built {_describe(conn)} in {time.monotonic() - started:.0f}s")
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    return url


# Database and schema ----------------------------------------------------------------------


def _psycopg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _create_database(database: str) -> None:
    import psycopg
    from psycopg import sql

    # template1 as the maintenance database; the new one is copied from template0 (which
    # nobody is connected to).
    with psycopg.connect(_psycopg(database_url("template1")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(database)))


def _migrate(url: str, log) -> None:
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    if result.returncode:
        raise RuntimeError(f"migrate failed:\n{result.stdout}\n{result.stderr}")


def _is_built(conn, spec: DatasetSpec) -> bool:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS bench_dataset (id int PRIMARY KEY, spec jsonb NOT NULL, customers bigint NOT NULL,"
        " orders bigint NOT NULL, built_at timestamptz NOT NULL DEFAULT now())"
    )
    row = conn.execute("SELECT spec, customers, orders FROM bench_dataset WHERE id = 1").fetchone()
    if row is None or row[0] != asdict(spec):
        return False
    # Another benchmark may have emptied or added rows since: trust the tables, not the note.
    actual = conn.execute("SELECT (SELECT count(*) FROM crm_customer), (SELECT count(*) FROM crm_order)").fetchone()
    return tuple(actual) == (row[1], row[2])


def _describe(conn) -> str:
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM crm_customer), (SELECT count(*) FROM crm_order),"
        " (SELECT count(*) FROM crm_orderline), (SELECT count(*) FROM crm_interaction)"
    ).fetchone()
    return "{:,} customers, {:,} orders, {:,} order lines, {:,} interactions".format(*counts)


# The data ---------------------------------------------------------------------------------


def _build(conn, spec: DatasetSpec, log) -> None:
    big_tables = ["crm_customer", "crm_order", "crm_orderline", "crm_interaction"]
    with conn.transaction():
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        conn.execute("SET LOCAL work_mem = '256MB'")
        conn.execute("SET LOCAL synchronous_commit = off")
        conn.execute("SELECT setseed(0.42)")
        _step(conn, log, "emptied the crm tables",
              "TRUNCATE crm_customer, crm_order, crm_orderline, crm_interaction, crm_consentchange, crm_product,"
              " crm_customer_tags RESTART IDENTITY CASCADE")
        # The same deferral as seed_demo's COPY load (core.copy.bulk_load).
        with IndexesDeferred(conn.cursor(), big_tables, lambda line: log(f"dataset:   {line}")):
            _insert_staff(conn, log)
            _insert_products(conn, log)
            _insert_customers(conn, spec, log)
            _insert_orders(conn, spec, log)
            _insert_lines(conn, log)
            _insert_interactions(conn, spec, log)
            _step(conn, log, "derived customer figures", """
                UPDATE crm_customer c
                SET orders_count = s.n, total_spent = s.v, first_order_at = s.first_at, last_order_at = s.last_at
                FROM (
                    SELECT customer_id, count(*) AS n, sum(net_total) AS v, min(placed_at) AS first_at, max(placed_at) AS last_at
                    FROM crm_order WHERE is_counted GROUP BY customer_id
                ) s
                WHERE c.id = s.customer_id
            """)
        for table in ["crm_customer", "crm_order", "crm_orderline", "crm_interaction", "crm_product"]:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"  # nosec B608
            )
        counts = conn.execute("SELECT (SELECT count(*) FROM crm_customer), (SELECT count(*) FROM crm_order)").fetchone()
        conn.execute(
            "INSERT INTO bench_dataset (id, spec, customers, orders) VALUES (1, %s, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET spec = EXCLUDED.spec, customers = EXCLUDED.customers,"
            " orders = EXCLUDED.orders, built_at = now()",
            [json.dumps(asdict(spec)), counts[0], counts[1]],
        )
    # The UPDATE above left a dead copy of every customer row: compact that table, then
    # set the visibility map and the planner statistics of all of them.
    _step(conn, log, "VACUUM FULL crm_customer", "VACUUM (FULL, ANALYZE) crm_customer")
    _step(conn, log, "VACUUM ANALYZE", "VACUUM (ANALYZE) crm_order, crm_orderline, crm_interaction, crm_product, auth_user")


def _step(conn, log, label: str, statement: str, params=None) -> None:
    started = time.monotonic()
    cursor = conn.execute(statement, params)
    rows = f"{cursor.rowcount:,} rows, " if cursor.rowcount and cursor.rowcount > 0 else ""
    log(f"dataset:   {label}: {rows}{time.monotonic() - started:.0f}s")


def _insert_staff(conn, log) -> None:
    _step(conn, log, "staff users", """
        INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
        SELECT '!', false, 'bench-staff-' || i, '', '', 'bench-staff-' || i || '@example.com', true, true, now()
        FROM generate_series(1, %s) i
        ON CONFLICT (username) DO NOTHING
    """, [STAFF])


def _insert_products(conn, log) -> None:
    _step(conn, log, "products", """
        INSERT INTO crm_product (id, sku, name, category, replenishment_days, price, url, is_active, created_at)
        SELECT i, 'SKU-' || lpad(i::text, 5, '0'), 'Product ' || i, (%(categories)s::text[])[1 + i %% %(ncat)s],
               CASE WHEN i %% 4 = 0 THEN 30 + i %% 60 END, 5 + i %% 95, '', true, now() - interval '3 years'
        FROM generate_series(1, %(n)s) i
    """, {"categories": CATEGORIES, "ncat": len(CATEGORIES), "n": PRODUCTS})


def _insert_customers(conn, spec: DatasetSpec, log) -> None:
    _step(conn, log, "customers", """
        INSERT INTO crm_customer (
            id, public_id, first_name, last_name, email, phone, external_ref, birth_date, gender, language, city, country,
            source, acquired_at, notes, email_opt_in, sms_opt_in, first_order_at, last_order_at, orders_count, total_spent,
            created_at, updated_at, search_name, search_last_name
        )
        SELECT
            i, gen_random_uuid(), first_name, last_name,
            CASE WHEN r_email < 0.9 THEN lower(first_name) || '.' || lower(last_name) || i || '@example.com' END,
            -- +98 912 xxx xxxx: a possible Iranian mobile number, unique per customer
            CASE WHEN r_email >= 0.9 OR r_phone < 0.8 THEN '+98912' || lpad(i::text, 7, '0') END,
            CASE WHEN r_ref < 0.3 THEN 'POS-' || i END,
            CASE WHEN r_ref > 0.4 THEN date '1960-01-01' + (r_phone * 15000)::int END,
            (ARRAY['female', 'male', ''])[1 + i %% 3],
            CASE WHEN r_lang < 0.6 THEN 'fa' WHEN r_lang < 0.9 THEN 'en' ELSE 'ar' END,
            (%(cities)s::text[])[1 + (i * 7) %% %(ncities)s],
            CASE WHEN r_lang < 0.8 THEN 'IR' WHEN r_lang < 0.9 THEN 'GB' ELSE 'AE' END,
            (ARRAY['store', 'online', 'referral', 'instagram'])[1 + i %% 4],
            acquired_at, '', r_optin < 0.6, r_optin < 0.4, NULL, NULL, 0, 0, acquired_at, acquired_at,
            -- core.text.normalize_for_search of ASCII names is lower(): the name lists are ASCII
            lower(first_name || ' ' || last_name), lower(last_name)
        FROM (
            SELECT i,
                   (%(first)s::text[])[1 + floor(random() * %(nfirst)s)::int] AS first_name,
                   (%(last1)s::text[])[1 + floor(random() * %(nlast1)s)::int]
                       || (%(last2)s::text[])[1 + floor(random() * %(nlast2)s)::int] AS last_name,
                   random() AS r_email, random() AS r_phone, random() AS r_ref, random() AS r_lang, random() AS r_optin,
                   now() - make_interval(secs => random() * 900 * 86400) AS acquired_at
            FROM generate_series(1, %(n)s) i
        ) c
    """, {
        "n": spec.customers, "first": FIRST_NAMES, "nfirst": len(FIRST_NAMES), "last1": LAST_PARTS_1,
        "nlast1": len(LAST_PARTS_1), "last2": LAST_PARTS_2, "nlast2": len(LAST_PARTS_2), "cities": CITIES,
        "ncities": len(CITIES),
    })


def _insert_orders(conn, spec: DatasetSpec, log) -> None:
    # Orders per customer: floor(Exp(m)), with m small for 40% of customers (occasional
    # buyers: many prospects and one-time buyers) and larger for the rest, the mean
    # being the asked one. A customer's orders fall in [last_seen, last_seen + span] days
    # ago, last_seen skewed towards today: every lifecycle stage exists.
    _step(conn, log, "orders", """
        INSERT INTO crm_order (
            id, public_id, customer_id, source, order_number, placed_at, status, channel, currency, total, discount,
            refunded_amount, fulfilled_at, created_at, updated_at
        )
        SELECT
            n, gen_random_uuid(), customer_id, '', 'ORD-' || lpad(n::text, 9, '0'), placed_at,
            CASE WHEN r_status < 0.03 THEN 'cancelled' WHEN r_status < 0.05 THEN 'refunded'
                 WHEN r_status < 0.08 THEN 'paid' ELSE 'fulfilled' END,
            CASE WHEN r_channel < 0.5 THEN 'store' WHEN r_channel < 0.85 THEN 'online'
                 WHEN r_channel < 0.95 THEN 'app' ELSE 'phone' END,
            'USD', total, 0,
            CASE WHEN r_status >= 0.03 AND r_status < 0.05 THEN total
                 WHEN r_status >= 0.08 AND r_status < 0.10 THEN round(total * 0.3, 2) ELSE 0 END,
            CASE WHEN r_status >= 0.03 AND r_status < 0.05 OR r_status >= 0.08 THEN placed_at END,
            placed_at, placed_at
        FROM (
            SELECT row_number() OVER () AS n, o.*
            FROM (
                SELECT p.customer_id,
                       now() - make_interval(secs => least(p.last_seen + random() * p.span, 729.9) * 86400) AS placed_at,
                       round((5 + 195 * power(random(), 2))::numeric, 2) AS total,
                       random() AS r_status, random() AS r_channel
                FROM (
                    SELECT id AS customer_id,
                           floor(-ln(1 - random()) * %(mean)s
                                 * CASE WHEN random() < 0.4 THEN 0.2 ELSE 1.5333 END)::int AS orders,
                           730 * power(random(), 2) AS last_seen,
                           30 + random() * 500 AS span
                    FROM crm_customer
                ) p
                CROSS JOIN LATERAL generate_series(1, p.orders) g
            ) o
        ) numbered
    """, {"mean": spec.orders_per_customer + 0.5})


def _insert_lines(conn, log) -> None:
    # 1 to 3 lines (about 1.45 on average), chosen from the order id so that the lateral
    # series is evaluated per order.
    _step(conn, log, "order lines", """
        INSERT INTO crm_orderline (public_id, order_id, product_id, sku, product_name, category, quantity, unit_price)
        SELECT gen_random_uuid(), o.id, pr.id, pr.sku, pr.name, pr.category, 1, round(o.total / o.lines, 2)
        FROM (
            SELECT id, total,
                   1 + (abs(hashint8(id)::bigint) %% 100 < 35)::int + (abs(hashint8(id + 7)::bigint) %% 100 < 10)::int AS lines
            FROM crm_order
        ) o
        CROSS JOIN LATERAL generate_series(1, o.lines) k
        JOIN crm_product pr ON pr.id = 1 + abs(hashint8(o.id * 3 + k)::bigint) %% %(products)s
    """, {"products": PRODUCTS})


def _insert_interactions(conn, spec: DatasetSpec, log) -> None:
    _step(conn, log, "interactions", """
        INSERT INTO crm_interaction (
            public_id, customer_id, channel, direction, subject, body, status, staff_id, occurred_at, follow_up_on, order_id,
            resolved_at, created_at
        )
        SELECT gen_random_uuid(), customer_id,
               (ARRAY['phone', 'email', 'chat', 'sms', 'visit', 'social', 'other'])[1 + floor(r_kind * 7)::int],
               CASE WHEN r_kind < 0.7 THEN 'inbound' ELSE 'outbound' END,
               (ARRAY['Asked about delivery', 'Wrong size', 'Refund request', 'Loyalty points question',
                      'Changed address', 'Complaint about service', 'Thanked the staff'])[1 + floor(r_subject * 7)::int],
               '', status, staff_id, occurred_at,
               CASE WHEN status <> 'resolved' THEN (occurred_at + make_interval(days => floor(r_kind * 14)::int))::date END,
               NULL,
               CASE WHEN status = 'resolved' THEN occurred_at END,
               occurred_at
        FROM (
            SELECT 1 + floor(random() * %(customers)s)::bigint AS customer_id,
                   random() AS r_kind, random() AS r_subject,
                   CASE WHEN random() < 0.85 THEN 'resolved' WHEN random() < 0.7 THEN 'open' ELSE 'waiting' END AS status,
                   (SELECT min(id) FROM auth_user WHERE username LIKE 'bench-staff-%%') + floor(random() * %(staff)s)::int
                       AS staff_id,
                   now() - make_interval(secs => power(random(), 1.5) * 730 * 86400) AS occurred_at
            FROM generate_series(1, %(n)s)
        ) i
    """, {"customers": spec.customers, "staff": STAFF, "n": max(spec.customers // 2, 1)})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="default 1,000,000")
    parser.add_argument("--orders-per-customer", type=float, default=10.0, help="on average; default 10")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK['customers']:,} customers x {QUICK['orders_per_customer']:g}")
    parser.add_argument(
        "--database", help=f"default {DEFAULT_DATABASE} ({DEFAULT_DATABASE}_quick with --quick, so both can be kept)"
    )
    parser.add_argument("--rebuild", action="store_true", help="build again even if the data set is there")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else {"customers": args.customers, "orders_per_customer": args.orders_per_customer}
    database = args.database or (f"{DEFAULT_DATABASE}_quick" if args.quick else DEFAULT_DATABASE)
    url = ensure_dataset(**size, database=database, rebuild=args.rebuild, log=lambda line: print(line, flush=True))
    print(url)


if __name__ == "__main__":
    main()
