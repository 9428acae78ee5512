"""Benchmark: import_orders on PostgreSQL next to a plain COPY of the same file.

    DATABASE_URL=postgres://user@host:5432/anydb .venv/bin/python bench/bench_import_orders.py [--rows N] [--quick]

Creates (if missing) and migrates its own database, `clubcrm_bench_import` on the same server,
creates the customers the file references, writes the CSV under bench/data/ (about three
lines per order), then, in the same run:

1. times a plain `COPY ... FROM STDIN (FORMAT csv)` of the file into a temporary table of
   text columns, no indexes, no checks - the fastest a file can enter PostgreSQL;
2. empties the order tables and times `crm.importing.import_orders` on the same file, in a
   child process so that its peak memory (max RSS) is the import's own;
3. prints rows/s for both, the ratio import/COPY, the import's peak memory and where the
   import spent its time.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
BENCH_DATABASE = "clubcrm_bench_import"
# The steps that only write the checked rows into crm_order / crm_orderline (indexes,
# generated columns, deferred foreign key checks): what no import of these tables can avoid.
WRITING_PHASES = ("insert orders", "insert lines", "commit (deferred foreign key checks)")
HEADER = "order_number,customer_ref,placed_at,status,channel,currency,total,sku,product_name,category,quantity,unit_price"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="order rows (lines) in the file; default 1,000,000")
    parser.add_argument("--quick", action="store_true", help="100,000 rows, for a quick look")
    parser.add_argument("--database", default=BENCH_DATABASE, help=f"database to create and use; default {BENCH_DATABASE}")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: run the import in this process
    args = parser.parse_args()
    if args.child:
        return run_import_child(Path(args.child))
    rows = 100_000 if args.quick else args.rows
    customers = max(rows // 10, 1)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (postgres://user@host:5432/db); "
                 f"the benchmark creates and uses {args.database} on that server.")
    bench_url = create_database(url, args.database)
    os.environ["DATABASE_URL"] = bench_url
    setup_django()

    from django.core.management import call_command

    print(f"database: {args.database}; migrating...", flush=True)
    call_command("migrate", verbosity=0)
    path = DATA / f"orders_{rows}_{args.seed}.csv"
    if not path.exists():
        print(f"writing {path.relative_to(ROOT)}...", flush=True)
        write_csv(path, rows=rows, customers=customers, seed=args.seed)
    orders = count_orders(path)
    print(f"file: {rows:,} rows, {orders:,} orders, {path.stat().st_size / 1e6:.0f} MB", flush=True)
    reset_tables(customers)

    load_before = os.getloadavg()[0]
    copy_seconds = time_plain_copy(bench_url, path)
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(path)], env=os.environ, cwd=ROOT, capture_output=True, text=True,
    )
    if child.returncode:
        sys.stderr.write(child.stdout + child.stderr)
        sys.exit("the import failed")
    report = json.loads(child.stdout.strip().splitlines()[-1])
    import_seconds = report["seconds"]

    copy_rate, import_rate = rows / copy_seconds, rows / import_seconds
    print()
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after "
          "(other work on the machine slows both timings, the import's many writes more)")
    print(f"plain COPY (text columns, temp table) {copy_seconds:8.2f} s  {copy_rate:12,.0f} rows/s")
    print(f"import_orders                         {import_seconds:8.2f} s  {import_rate:12,.0f} rows/s")
    print(f"ratio import/COPY                     {import_rate / copy_rate:8.3f}   (goal: 0.25 or more)")
    print(f"import peak memory (peak RSS)         {report['peak_mb']:8.0f} MB (Django loaded, before the import: "
          f"{report['baseline_mb']:.0f} MB; goal: under 300 MB)")
    print(f"result: {report['summary']}")
    print("where the import spent its time:")
    for phase, seconds in report["phases"]:
        print(f"  {phase:<38}{seconds:8.2f} s")
    phases = dict(report["phases"])
    writing = sum(phases.get(name, 0) for name in WRITING_PHASES)
    print(f"writing orders and lines into their indexed tables and checking their foreign keys: {writing:.2f} s "
          f"({writing / import_seconds:.0%} of the import); with nothing else, the ratio would be "
          f"{copy_seconds / writing:.3f} at best")


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def create_database(url: str, name: str) -> str:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


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


def reset_tables(customers: int) -> None:
    """Empty orders, lines and products; make sure the customers the file names exist."""
    from django.db import connection

    from crm.models import Customer, Order, OrderLine, Product

    with connection.cursor() as cursor:
        cursor.execute(
            f"TRUNCATE {OrderLine._meta.db_table}, {Order._meta.db_table}, {Product._meta.db_table} CASCADE"
        )
        cursor.execute(
            f"UPDATE {Customer._meta.db_table} SET orders_count = 0, total_spent = 0, first_order_at = NULL, "
            "last_order_at = NULL WHERE orders_count <> 0"
        )
    existing = set(Customer.objects.filter(external_ref__startswith="BENCH-").values_list("external_ref", flat=True))
    missing = [f"BENCH-{n:07d}" for n in range(1, customers + 1) if f"BENCH-{n:07d}" not in existing]
    if missing:
        print(f"creating {len(missing):,} customers...", flush=True)
        Customer.objects.bulk_create(
            (Customer(external_ref=ref, email=f"{ref.lower()}@bench.example", first_name="Bench", last_name=ref)
             for ref in missing),
            batch_size=5000,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        try:
            cursor.execute("CHECKPOINT")  # start both timings from the same, clean state
        except Exception:  # CHECKPOINT needs a superuser (or pg_checkpoint); it only reduces noise
            pass


def time_plain_copy(url: str, path: Path) -> float:
    import psycopg

    columns = ", ".join(f"{name} text" for name in HEADER.split(","))
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE bench_plain_copy ({columns})")
        started = time.perf_counter()
        with path.open("rb") as source, cursor.copy("COPY bench_plain_copy FROM STDIN (FORMAT csv, HEADER true)") as copy:
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.rollback()
    return seconds


def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux keeps ru_maxrss across exec (the child
    would report the parent's peak), so the high-water mark of /proc is read first."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_import_child(path: Path) -> None:
    """In the child: import the file, print one JSON line with the figures."""
    setup_django()
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
    baseline = peak_rss_mb()
    started = time.perf_counter()
    result = import_orders(path)
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "baseline_mb": baseline, "summary": result.summary(),
                      "phases": phases}))


if __name__ == "__main__":
    main()
