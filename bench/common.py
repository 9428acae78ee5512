"""What the benchmarks of the order roads share (`bench_import_orders.py`, `bench_orders_bulk.py`):

- Django set up as in production (DEBUG off, quiet logs, nothing queued outliving the run);
- a database of their own on the PostgreSQL server, made afresh for every measurement as a copy
  of a prepared template (migrated, with its customers, members, earning rule and webhook
  subscription), so each timing starts from the same state and no club table is reset by hand;
- the club world built through the services (tiers and an earning rule are configuration rows,
  made as the test factories make them);
- a SQL query counter, peak memory, and COPY text rows for the baselines.
"""

import os
import re
import resource
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"

# Production-like and quiet; the broker is in memory, so the webhook deliveries and messages the
# measured code queues after commit are queued (their cost is in the figures) but never sent.
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-not-a-secret",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "LOG_LEVEL": "WARNING",
    "CONN_MAX_AGE": "60",  # persistent connections, as a production deployment runs
    "API_RATE_LIMIT": "100000000/min",
    "CELERY_BROKER_URL": "memory://",
}
WEBHOOK_EVENTS = ["order.created", "points.earned"]


def say(line: str) -> None:
    print(line, flush=True)


# --- Django and databases ------------------------------------------------------------------------


def server_url() -> str:
    """The PostgreSQL server: BENCH_SERVER_URL, else the server of a postgres DATABASE_URL, else localhost."""
    url = os.environ.get("BENCH_SERVER_URL") or os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else DEFAULT_SERVER


def database_url(server: str, name: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def psycopg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def setup_django(url: str | None = None) -> None:
    """Set Django up on `url` (else DATABASE_URL) with the production-like environment."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if url:
        os.environ["DATABASE_URL"] = url
    for name, value in PRODUCTION_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import logging

    import django

    django.setup()
    # The in-memory broker has no host name, and kombu warns about that on every connection.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)


def create_database(url: str, name: str) -> str:
    """Create `name` on the server of `url` unless it exists; return its URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(url, name)


def prepare_template(name: str, build: Callable[[], None], *, log=None) -> None:
    """Create, migrate and `build` the template database `<name>_template`, in this process.

    Django must already be set up on the template's URL (setup_django(template_url(...))).
    `build` runs every time and must itself skip what is already there."""
    from django.core.management import call_command
    from django.db import connections

    log = log or say
    log(f"template {name}_template: migrating and checking its data...")
    call_command("migrate", verbosity=0)
    build()
    connections.close_all()  # CREATE DATABASE ... TEMPLATE needs nobody connected to the template


def template_url(server: str, name: str) -> str:
    return create_database(server, f"{name}_template")


def database_afresh(server: str, name: str) -> str:
    """Drop `name` and copy it from `<name>_template`; point this process's Django at it. Returns its URL."""
    import psycopg
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    with psycopg.connect(psycopg_url(server), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(f"{name}_template")))
    url = database_url(server, name)
    os.environ["DATABASE_URL"] = url
    connections["default"].settings_dict["NAME"] = name
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")
        try:
            cursor.execute("CHECKPOINT")  # start every timing from the same, clean state
        except Exception:  # CHECKPOINT needs a superuser (or pg_checkpoint); it only reduces noise
            pass
    return url


def statistics_refresh() -> None:
    """ANALYZE, then a new connection: what a live database has (autovacuum's statistics) and a new web worker
    sees (plans made with them)."""
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")
    connections.close_all()


# --- The club world --------------------------------------------------------------------------------


def club_configure() -> None:
    """Tiers (Bronze entry, Silver x1.25 from 500, Gold x1.5 from 2,000 points) and an active purchase
    rule of one point per unit; configuration rows, made once."""
    from club.models import EarningRule, Tier

    for rank, (name, threshold, multiplier) in enumerate(
        [("Bronze", 0, "1"), ("Silver", 500, "1.25"), ("Gold", 2000, "1.5")], start=1
    ):
        Tier.objects.get_or_create(name=name, defaults={
            "rank": rank, "threshold": Decimal(threshold), "points_multiplier": Decimal(multiplier),
        })
    EarningRule.objects.get_or_create(kind=EarningRule.Kind.PURCHASE, name="bench: 1 point per unit",
                                      defaults={"points_per_unit": Decimal("1"), "enabled": True})


def members_enroll(refs: list[str], *, joined_at: datetime | None = None, log=None) -> None:
    """Customers `refs` (external_ref) and a club membership for each, through the services, for
    those missing. `joined_at`: enrol on that date (the clock is moved for the enrolment only), so
    that orders placed since then earn points."""
    import time_machine

    log = log or say

    from club import services as club_services
    from crm.models import Customer

    existing = set(Customer.objects.filter(external_ref__in=refs).values_list("external_ref", flat=True))
    missing = [ref for ref in refs if ref not in existing]
    if missing:
        log(f"  creating {len(missing):,} customers...")
        Customer.objects.bulk_create(
            (Customer(external_ref=ref, email=f"{ref.lower()}@bench.example", first_name="Bench", last_name=ref)
             for ref in missing),
            batch_size=5000,
        )
    customers = Customer.objects.filter(external_ref__in=refs, membership__isnull=True).order_by("pk")
    todo = customers.count()
    if not todo:
        return
    log(f"  enrolling {todo:,} members (club.services.member_enroll)...")
    started = time.monotonic()
    with time_machine.travel(joined_at or datetime.now().astimezone(), tick=True):
        for done, customer in enumerate(customers.iterator(chunk_size=2000), start=1):
            club_services.member_enroll(customer=customer, source="import")
            if done % 10_000 == 0:
                log(f"    {done:,} / {todo:,} ({time.monotonic() - started:.0f} s)")


def partner_with_webhooks(name: str) -> None:
    """A partner subscribed to order.created and points.earned for every customer (made once)."""
    from api import services as api_services
    from api import webhooks
    from api.models import Partner

    partner = Partner.objects.filter(name=name).first() or api_services.partner_create(name=name)
    if not partner.webhook_subscriptions.exists():
        webhooks.webhook_subscribe(partner=partner, url="https://hooks.bench.example/orders", events=WEBHOOK_EVENTS)


def api_key_for(partner_name: str, scopes: list[str]) -> str:
    """A new key of the partner (keys are not in the template: their secret is never stored)."""
    from api import services as api_services
    from api.models import Partner

    _key, secret = api_services.api_key_create(partner=Partner.objects.get(name=partner_name), scopes=scopes, name="bench")
    return secret


def club_outbox_counts() -> dict[str, int]:
    """Rows an order road may write besides orders and lines (counted before and after it)."""
    from api.models import WebhookDelivery
    from club.models import PointsTransaction, TierChange

    return {
        "points ledger rows": PointsTransaction.objects.count(),
        "tier changes": TierChange.objects.exclude(reason=TierChange.Reason.ENROLLED).count(),
        "webhook deliveries": WebhookDelivery.objects.count(),
    }


# --- Measuring -------------------------------------------------------------------------------------


_TABLE = re.compile(r'\b(?:INTO|UPDATE|FROM)\s+"?([a-z0-9_]+)"?', re.IGNORECASE)
_WRITES = ("INSERT", "UPDATE", "DELETE", "COPY", "WITH")


@dataclass
class QueryLog:
    """The SQL a stretch of code sent: how many statements, their time, their time by app (the
    prefix of the first table named: crm, club, api...) and when each app's tables were first
    written, as seconds since the log started."""

    started: float = field(default_factory=time.perf_counter)
    count: int = 0
    seconds: float = 0.0
    seconds_by_app: dict[str, float] = field(default_factory=dict)
    first_write: dict[str, float] = field(default_factory=dict)


@contextmanager
def queries_counted() -> Iterator[QueryLog]:
    from django.db import connection

    log = QueryLog()

    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds = time.perf_counter() - started
            table = _TABLE.search(sql)
            app = table.group(1).split("_", 1)[0] if table else "other"
            log.count += 1
            log.seconds += seconds
            log.seconds_by_app[app] = log.seconds_by_app.get(app, 0.0) + seconds
            if sql.lstrip()[:6].upper().startswith(_WRITES) and app not in log.first_write:
                log.first_write[app] = started - log.started

    with connection.execute_wrapper(wrapper):
        yield log


def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux keeps ru_maxrss across exec (a child
    would report its parent's peak), so the high-water mark of /proc is read first."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> float:
    return os.getloadavg()[0]


# --- COPY rows for the baselines --------------------------------------------------------------------


def copy_columns(model) -> list:
    """The columns a row of `model` is written with: every concrete field but the generated ones and those the
    database fills (a `db_default` without a Python default, such as a product's `is_active`)."""
    from django.db.models import NOT_PROVIDED, GeneratedField

    return [f for f in model._meta.concrete_fields
            if not isinstance(f, GeneratedField) and (f.db_default is NOT_PROVIDED or f.has_default())]


def copy_line(fields: list, values: dict) -> bytes:
    """One row of COPY's text format; a field missing from `values` gets its model default."""
    cells = []
    for f in fields:
        value = values[f.attname] if f.attname in values else f.get_default()
        cells.append(_copy_text(value))
    return ("\t".join(cells) + "\n").encode()


def _copy_text(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (Decimal, int, float, UUID)):
        return str(value)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def sequence_values(model, count: int) -> list[int]:
    """`count` new ids from the model's own id sequence, as its inserts would take them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                       [model._meta.db_table, count])
        return [row[0] for row in cursor.fetchall()]


def copy_into(cursor, model, fields: list, rows: Iterable[bytes]) -> None:
    names = ", ".join(f'"{f.column}"' for f in fields)
    with cursor.copy(f'COPY "{model._meta.db_table}" ({names}) FROM STDIN') as copy:
        for chunk in rows:
            copy.write(chunk)
