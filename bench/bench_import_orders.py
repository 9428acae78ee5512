"""Benchmark: import_orders on PostgreSQL next to a COPY of the same rows into the same tables.

    .venv/bin/python bench/bench_import_orders.py [--rows 1000000] [--quick] [--runs 1]

Uses its own database, `clubcrm_bench_import`, on the server of BENCH_SERVER_URL (else of a
postgres DATABASE_URL, else postgres@127.0.0.1:5432), copied afresh for each measurement from
`clubcrm_bench_import_template`: migrated once, with the customers the file references (rows / 10),
each a club member since before the file's first order (club.services.member_enroll), tiers, an
active purchase rule and a partner subscribed to the order.created and points.earned webhooks. It
writes the CSV under bench/data/ (about three lines per order), then, in the same run:

1. the baseline, the schema's own limit: the file's orders and lines turned beforehand (untimed)
   into the exact rows of crm_order and crm_orderline (ids from their sequences, customers and
   products resolved), then timed: a COPY into each of the real tables, with their indexes,
   generated columns and foreign keys, and the commit that checks the deferred foreign keys;
2. for information, a COPY of the file into a temporary table of text columns;
3. `crm.importing.import_orders` on the file in a child process (so that its peak memory is the
   import's own) on a fresh copy: whatever the import does is in its time (today's import earns
   no points; once it does, the points, tiers and webhook outbox are measured with it);
4. baseline 2: every row the import inserted (products, orders, lines, ledger rows, tier changes, webhook
   deliveries), read back and timed as a COPY into each table of a fresh copy and the commit;
5. prints rows/s, the ratio import/baseline (goal: 0.5 or more) and import/baseline 2, the peak memory, what the
   import wrote besides orders (points, tier changes, webhook deliveries) and where it spent its time.
"""

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

DATA = common.DATA
BENCH_DATABASE = "clubcrm_bench_import"
PARTNER = "bench: orders import"
JOINED = datetime(2022, 12, 31, tzinfo=timezone.utc)  # the file's orders are placed from 2023 on
# The steps that only write the checked rows into crm_order / crm_orderline (indexes,
# generated columns, deferred foreign key checks): what the baseline does, and no more.
WRITING_PHASES = ("insert orders", "insert lines", "commit (deferred foreign key checks)")
HEADER = "order_number,customer_ref,placed_at,status,channel,currency,total,sku,product_name,category,quantity,unit_price"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="order rows (lines) in the file; default 1,000,000")
    parser.add_argument("--quick", action="store_true", help="100,000 rows, for a quick look")
    parser.add_argument("--database", default=BENCH_DATABASE, help=f"database to create and use; default {BENCH_DATABASE}")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=1, help="rounds of the three measurements; the median ratio is reported")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: run the import in this process
    args = parser.parse_args()
    if args.child:
        return run_import_child(Path(args.child))
    if not args.database.startswith("clubcrm_bench"):
        sys.exit("The database is dropped and copied afresh on every run: give a name starting with clubcrm_bench.")
    rows = 100_000 if args.quick else args.rows
    customers = max(rows // 10, 1)

    server = common.server_url()
    common.setup_django(common.template_url(server, args.database))
    refs = [f"BENCH-{n:07d}" for n in range(1, customers + 1)]

    def build():
        common.club_configure()
        common.members_enroll(refs, joined_at=JOINED)
        common.partner_with_webhooks(PARTNER)

    common.prepare_template(args.database, build)
    path = DATA / f"orders_{rows}_{args.seed}.csv"
    if not path.exists():
        print(f"writing {path.relative_to(ROOT)}...", flush=True)
        write_csv(path, rows=rows, customers=customers, seed=args.seed)
    orders = count_orders(path)
    print(f"file: {rows:,} rows, {orders:,} orders, {path.stat().st_size / 1e6:.0f} MB; {customers:,} customers, "
          "each a club member", flush=True)

    load_before = common.load_average()
    rounds = []
    for number in range(1, args.runs + 1):
        measured = measure(server, args.database, path)
        rounds.append(measured)
        if args.runs > 1:
            print(f"run {number}: baseline {measured['baseline_seconds']:.2f} s, import {measured['import_seconds']:.2f} s, "
                  f"baseline 2 {measured['everything_seconds']:.2f} s: ratio {ratio(measured):.3f}, "
                  f"to baseline 2 {ratio(measured, 'everything_seconds'):.3f}", flush=True)
    # The run of the median ratio is reported in full; with several runs, each ratio and their median too.
    report_round(sorted(rounds, key=ratio)[len(rounds) // 2], rows, load_before)
    if args.runs > 1:
        ratios = sorted(ratio(measured) for measured in rounds)
        seconds = sorted(ratio(measured, "everything_seconds") for measured in rounds)
        print(f"{args.runs} runs: ratio import/baseline {', '.join(f'{value:.3f}' for value in ratios)}, "
              f"median {ratios[len(ratios) // 2]:.3f}; import/baseline 2 {', '.join(f'{value:.3f}' for value in seconds)}, "
              f"median {seconds[len(seconds) // 2]:.3f}")


def ratio(measured: dict, baseline: str = "baseline_seconds") -> float:
    """import/baseline in rows per second: the baseline's seconds over the import's."""
    return measured[baseline] / measured["import_seconds"]


def measure(server: str, database: str, path: Path) -> dict:
    """One round, each part on a fresh copy of the template: the baseline, the plain COPY, the import (in a child
    process), then baseline 2 with the rows the import inserted."""
    url = common.database_afresh(server, database)
    print("preparing the baseline's rows (untimed)...", flush=True)
    baseline = BaselineRows.from_csv(path)
    copy_seconds = time_plain_copy(url, path)
    baseline_steps = baseline.time_copy(url)

    url = common.database_afresh(server, database)
    before = common.club_outbox_counts()
    marks = InsertedRows.marks()
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(path)], env=os.environ, cwd=ROOT, capture_output=True, text=True,
    )
    if child.returncode:
        sys.stderr.write(child.stdout + child.stderr)
        sys.exit("the import failed")
    report = json.loads(child.stdout.strip().splitlines()[-1])
    written = {name: count - before[name] for name, count in common.club_outbox_counts().items()}
    inserted = InsertedRows.dump(url, marks, path)
    url = common.database_afresh(server, database)
    everything_steps = inserted.time_copy(url)
    return {"copy_seconds": copy_seconds, "baseline_steps": baseline_steps,
            "baseline_seconds": sum(baseline_steps.values()), "report": report, "import_seconds": report["seconds"],
            "written": written, "inserted": inserted.count, "everything_steps": everything_steps,
            "everything_seconds": sum(everything_steps.values())}


def report_round(measured: dict, rows: int, load_before: float) -> None:
    report, baseline_steps, everything_steps = measured["report"], measured["baseline_steps"], measured["everything_steps"]
    copy_seconds, baseline_seconds = measured["copy_seconds"], measured["baseline_seconds"]
    import_seconds, everything_seconds = measured["import_seconds"], measured["everything_seconds"]
    copy_rate, baseline_rate, import_rate = rows / copy_seconds, rows / baseline_seconds, rows / import_seconds
    print()
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} before and {common.load_average():.1f} after "
          "(other work on the machine slows every timing, the import's many writes more)")
    print(f"baseline: COPY of the same rows into crm_order + crm_orderline, commit "
          f"{baseline_seconds:8.2f} s {baseline_rate:12,.0f} rows/s")
    print(f"import_orders (points, tiers and webhooks included)               "
          f"{import_seconds:8.2f} s {import_rate:12,.0f} rows/s")
    print(f"ratio import/baseline                                             {import_rate / baseline_rate:8.3f}   "
          "(goal: 0.5 or more)")
    print("  the baseline's steps: " + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in baseline_steps.items()))
    print(f"baseline 2: COPY of every row the import inserts ({measured['inserted']:,} rows), commit "
          f"{everything_seconds:8.2f} s {rows / everything_seconds:12,.0f} rows/s")
    print(f"ratio import/baseline 2                                           "
          f"{import_rate / (rows / everything_seconds):8.3f}")
    print("  baseline 2's steps: " + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in everything_steps.items()))
    print(f"information: COPY of the file into a temporary table of text columns "
          f"{copy_seconds:5.2f} s {copy_rate:12,.0f} rows/s; ratio import/that {import_rate / copy_rate:.3f}")
    print(f"import peak memory (peak RSS)  {report['peak_mb']:8.0f} MB (Django loaded, before the import: "
          f"{report['baseline_mb']:.0f} MB; goal: flat in the file's size)")
    print(f"result: {report['summary']}")
    print("written besides orders and lines: " + ", ".join(f"{count:,} {name}" for name, count in measured["written"].items()))
    print("where the import spent its time:")
    for phase, seconds in report["phases"]:
        print(f"  {phase:<38}{seconds:8.2f} s")
    phases = dict(report["phases"])
    writing = sum(phases.get(name, 0) for name in WRITING_PHASES)
    if writing:
        print(f"the import's own writing of orders and lines (with the foreign key checks): {writing:.2f} s "
              f"({writing / import_seconds:.0%} of the import), the baseline's {baseline_seconds:.2f} s")


def write_csv(path: Path, *, rows: int, customers: int, seed: int) -> None:
    """Orders of 1 to 5 lines (3 on average) for `customers` customers over three years."""
    rng = random.Random(seed)
    start = datetime(2023, 1, 1)
    statuses = ["fulfilled"] * 16 + ["paid", "placed", "cancelled", "refunded"]
    channels = ["store", "store", "online", "app", "phone"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\n")
        written = order = 0
        while written < rows:
            order += 1
            ref = f"BENCH-{rng.randrange(1, customers + 1):07d}"
            placed = start + timedelta(seconds=rng.randrange(3 * 365 * 86400))
            placed_at = placed.date().isoformat() if order % 10 == 0 else placed.isoformat()
            status, channel = rng.choice(statuses), rng.choice(channels)
            lines = []
            for _ in range(min(rng.randint(1, 5), rows - written)):
                product = rng.randrange(1, 2001)
                lines.append((f"SKU-{product:05d}", f"Product {product}", f"category {product % 40}",
                              rng.randint(1, 3), rng.randrange(100, 20000)))
            total = sum(quantity * cents for *_, quantity, cents in lines)
            for sku, name, category, quantity, cents in lines:
                out.write(f"B-{order:08d},{ref},{placed_at},{status},{channel},USD,{total // 100}.{total % 100:02d},"
                          f"{sku},{name},{category},{quantity},{cents // 100}.{cents % 100:02d}\n")
            written += len(lines)
    tmp.rename(path)


def count_orders(path: Path) -> int:
    numbers = 0
    previous = None
    with path.open("rb") as lines:
        next(lines)
        for line in lines:
            number = line[: line.index(b",")]
            if number != previous:
                numbers += 1
                previous = number
    return numbers




class BaselineRows:
    """The file's orders and lines as the exact rows of crm_order and crm_orderline (and of the
    products the import would create), written to COPY files beforehand, so that the timing is
    only the COPYs into the real tables and the commit."""

    def __init__(self, products: list[bytes], orders: Path, lines: Path, order_count: int, line_count: int):
        self.products, self.orders, self.lines = products, orders, lines
        self.order_count, self.line_count = order_count, line_count

    @classmethod
    def from_csv(cls, path: Path) -> "BaselineRows":
        from zoneinfo import ZoneInfo

        from django.conf import settings

        from crm.models import Customer, Order, OrderLine, Product

        tz = ZoneInfo(settings.TIME_ZONE)
        customers = dict(Customer.objects.filter(external_ref__startswith="BENCH-").values_list("external_ref", "pk"))
        with path.open(encoding="utf-8", newline="") as source:
            reader = csv.DictReader(source)
            skus, numbers, line_count = {}, 0, 0
            previous = None
            for row in reader:
                skus.setdefault(row["sku"], (row["product_name"], row["category"]))
                numbers += row["order_number"] != previous
                previous = row["order_number"]
                line_count += 1
        product_fields = common.copy_columns(Product)
        product_ids = dict(zip(skus, common.sequence_values(Product, len(skus))))
        now = datetime.now(timezone.utc)
        products = [common.copy_line(product_fields, {"id": product_ids[sku], "sku": sku, "name": name,
                                                      "category": category, "created_at": now})
                    for sku, (name, category) in skus.items()]
        order_ids = iter(common.sequence_values(Order, numbers))
        line_ids = iter(common.sequence_values(OrderLine, line_count))
        order_fields, line_fields = common.copy_columns(Order), common.copy_columns(OrderLine)
        orders_path, lines_path = path.with_suffix(".orders.copy"), path.with_suffix(".lines.copy")
        with path.open(encoding="utf-8", newline="") as source, orders_path.open("wb") as orders, \
                lines_path.open("wb") as lines:
            previous, order_id = None, None
            for row in csv.DictReader(source):
                if row["order_number"] != previous:
                    previous, order_id = row["order_number"], next(order_ids)
                    placed_at = datetime.fromisoformat(row["placed_at"])
                    if placed_at.tzinfo is None:
                        placed_at = placed_at.replace(tzinfo=tz)
                    total = Decimal(row["total"])
                    orders.write(common.copy_line(order_fields, {
                        "id": order_id, "public_id": uuid.uuid4(), "customer_id": customers[row["customer_ref"]],
                        "source": "", "order_number": row["order_number"], "placed_at": placed_at,
                        "status": row["status"], "channel": row["channel"], "currency": row["currency"].upper(),
                        "total": total, "discount": Decimal("0"),
                        "refunded_amount": total if row["status"] == "refunded" else Decimal("0"),
                        "fulfilled_at": placed_at if row["status"] == "fulfilled" else None,
                        "created_at": now, "updated_at": now,
                    }))
                lines.write(common.copy_line(line_fields, {
                    "id": next(line_ids), "public_id": uuid.uuid4(), "order_id": order_id,
                    "product_id": product_ids[row["sku"]], "sku": row["sku"], "product_name": row["product_name"],
                    "category": row["category"], "quantity": int(row["quantity"]), "unit_price": Decimal(row["unit_price"]),
                }))
        return cls(products, orders_path, lines_path, numbers, line_count)

    def time_copy(self, url: str) -> dict[str, float]:
        """Products first (untimed, a few thousand rows the import creates too), then the timed part:
        the seconds of each COPY and of the commit."""
        import psycopg

        from crm.models import Order, OrderLine, Product

        with psycopg.connect(common.psycopg_url(url)) as conn, conn.cursor() as cursor:
            common.copy_into(cursor, Product, common.copy_columns(Product), self.products)
            seconds = time_copies(conn, cursor, [(Order, self.orders), (OrderLine, self.lines)])
            counts = [cursor.execute(f'SELECT COUNT(*) FROM "{model._meta.db_table}"').fetchone()[0]  # nosec B608 - model tables
                      for model in (Order, OrderLine)]
        self.orders.unlink()
        self.lines.unlink()
        if counts != [self.order_count, self.line_count]:
            sys.exit(f"the baseline stored {counts} orders and lines, not {[self.order_count, self.line_count]}")
        return seconds


class InsertedRows:
    """Every row the import inserted (products, orders, lines, ledger rows, tier changes, webhook deliveries), as it
    wrote them: read back after the import, then COPYed into the same tables of a fresh copy and committed (their
    indexes and deferred foreign key checks). What the schema takes for all the rows the import stores, whatever
    computed them; the rows it updates (customers' figures, members' balances and tiers) are not in it."""

    def __init__(self, files: list[tuple[type, Path, int]]):
        self.files = files
        self.count = sum(count for _model, _path, count in files)

    @staticmethod
    def models() -> list[type]:
        from api.models import WebhookDelivery
        from club.models import PointsTransaction, TierChange
        from crm.models import Order, OrderLine, Product

        return [Product, Order, OrderLine, PointsTransaction, TierChange, WebhookDelivery]  # referenced ones first

    @classmethod
    def marks(cls) -> dict[type, int]:
        """The largest id of each table before the import: the rows after it are the import's."""
        from django.db.models import Max

        return {model: model.objects.aggregate(top=Max("pk"))["top"] or 0 for model in cls.models()}

    @classmethod
    def dump(cls, url: str, marks: dict[type, int], path: Path) -> "InsertedRows":
        import psycopg

        files = []
        with psycopg.connect(common.psycopg_url(url)) as conn, conn.cursor() as cursor:
            for model, mark in marks.items():
                target = path.with_suffix(f".{model._meta.db_table}.copy")
                names = ", ".join(f'"{f.column}"' for f in common.copy_columns(model))
                count = 0
                with target.open("wb") as out, cursor.copy(
                        f'COPY (SELECT {names} FROM "{model._meta.db_table}" WHERE id > {int(mark)} ORDER BY id) TO STDOUT'  # nosec B608 - model tables and columns
                ) as copy:
                    for chunk in copy:
                        out.write(chunk)
                        count += bytes(chunk).count(b"\n")
                files.append((model, target, count))
        return cls(files)

    def time_copy(self, url: str) -> dict[str, float]:
        import psycopg

        with psycopg.connect(common.psycopg_url(url)) as conn, conn.cursor() as cursor:
            seconds = time_copies(conn, cursor, [(model, path) for model, path, _count in self.files])
        for _model, path, _count in self.files:
            path.unlink()
        return seconds


def time_copies(conn, cursor, files: list[tuple[type, Path]]) -> dict[str, float]:
    """The seconds of a COPY of each (model, COPY text file) into the model's table, then of the commit that checks
    the deferred foreign keys."""
    seconds = {}
    for model, path in files:
        started = time.perf_counter()
        with path.open("rb") as rows:
            common.copy_into(cursor, model, common.copy_columns(model), iter(lambda: rows.read(1 << 20), b""))
        seconds[f"COPY {model._meta.db_table}"] = time.perf_counter() - started
    started = time.perf_counter()
    conn.commit()
    seconds["commit (deferred foreign key checks)"] = time.perf_counter() - started
    return seconds


def time_plain_copy(url: str, path: Path) -> float:
    import psycopg

    columns = ", ".join(f"{name} text" for name in HEADER.split(","))
    with psycopg.connect(common.psycopg_url(url)) as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE bench_plain_copy ({columns})")
        started = time.perf_counter()
        with path.open("rb") as source, cursor.copy("COPY bench_plain_copy FROM STDIN (FORMAT csv, HEADER true)") as copy:
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.rollback()
    return seconds


def run_import_child(path: Path) -> None:
    """In the child: import the file, print one JSON line with the figures."""
    common.setup_django()
    import gc
    import logging

    from crm.importing import import_orders

    phases: list[tuple[str, float]] = []

    class PhaseTimes(logging.Handler):
        def emit(self, record):
            if hasattr(record, "phase"):
                phases.append((record.phase, record.seconds))

    logger = logging.getLogger("crm.importing")
    logger.addHandler(PhaseTimes())
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    baseline = common.peak_rss_mb()
    gc.freeze()  # as `manage.py import_orders` does (core.commands) and the web process (config/wsgi.py)
    started = time.perf_counter()
    result = import_orders(path)
    seconds = time.perf_counter() - started
    peak = common.peak_rss_mb()
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "baseline_mb": baseline, "summary": result.summary(),
                      "phases": phases}))


if __name__ == "__main__":
    main()
