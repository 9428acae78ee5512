"""`import_orders`: a CSV of orders, one row per order line, imported all or nothing.

The file is streamed once: each row is checked in Python (cheap, per cell) and written
with its line number to a temporary staging table (COPY on PostgreSQL, batched inserts on
SQLite). Everything that needs the whole file or the database - grouping the rows of an
order wherever they are, matching customers, spotting orders that exist, creating
products, writing orders and lines, the customers' derived figures - is then a handful
of set-based statements in the same transaction. Python never holds more than one batch
of rows, so memory does not grow with the file.

Rows of one order usually follow each other. The first row of such a run (its *head*)
carries the order-level values; the rows after it that repeat those cells exactly are
staged with their line values only. A row of the same order written otherwise, or found
further down the file, starts a new run, and SQL compares every run's head with the
order's first row.
"""

import logging
import operator
import time
from collections.abc import Iterable
from contextlib import contextmanager

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audited
from core.bounds import MONEY
from crm.importing.common import (
    PLAIN_MONEY, CsvRows, ErrorList, ImportFailed, ImportResult, Progress, Source, local_timezone, read_header,
    wrong_width,
)
from crm.importing.orders.matching import MatchingSteps
from crm.importing.orders.rows import (
    LINE_COLUMNS, ORDER_COLUMNS, ORDER_LEVEL, REQUIRED_COLUMNS, BadRow, PublicIds, line_values_checked, order_values,
)
from crm.importing.orders.staging import (
    ORDERS, POSTGRES_WORK_MEM, REF_PHONES, REFS, STAGE, STAGE_COLUMNS, CopyWriter, SqliteWriter,
)
from crm.importing.orders.writing import WritingSteps
from crm.services.order_input import QUANTITY_MAX

# The name the module had before it became a package; log configurations and the benchmark use it.
logger = logging.getLogger("crm.importing.orders")


@audited
def import_orders(file: Source, *, progress: Progress | None = None, by=None) -> ImportResult:
    """Import orders from a CSV file; all or nothing.

    Columns: order_number, customer_ref, placed_at, total (required), status, channel,
    currency, and the optional line columns sku, product_name, category, quantity,
    unit_price. Rows with the same order_number are one order, one line per row;
    `customer_ref` matches a customer's external_ref, then email, then phone. An order
    that exists already (same order number, no source) is skipped and counted.

    Raises ImportFailed with every bad row as `line N: reason`; then nothing is written.
    """
    errors = ErrorList()
    with CsvRows(file, errors, progress=progress, progress_every=settings.CRM_IMPORT_BATCH_SIZE) as rows:
        columns = read_header(rows.header, errors, allowed=ORDER_COLUMNS + LINE_COLUMNS, required=REQUIRED_COLUMNS)
        errors.raise_if_any()
        try:
            with transaction.atomic():
                result = OrderImport(columns, len(rows.header), errors).run(rows)
                commit_started = time.perf_counter()
            _log_phase("commit (deferred foreign key checks)", time.perf_counter() - commit_started)
        except DataError as exc:
            logger.exception("orders import: a value the row checks let through")
            raise ImportFailed.refused_by_database(exc) from None
        except IntegrityError:
            # Only a concurrent writer can get here: every row was checked first.
            logger.exception("orders import hit a constraint")
            raise ImportFailed([
                _("another import or a partner wrote some of these orders at the same time; "
                  "nothing was imported, import the file again")
            ]) from None
    logger.info("orders import by %s: %s", by or "a script", result.summary())
    return result


class OrderImport(MatchingSteps, WritingSteps):
    def __init__(self, columns: dict[str, int], width: int, errors: ErrorList):
        self.columns = columns
        self.width = width
        self.errors = errors
        self.postgres = connection.vendor == "postgresql"
        self.now = timezone.now()
        self.result = ImportResult()
        self.heads = 0

    def run(self, rows: CsvRows) -> ImportResult:
        with connection.cursor() as cursor:
            self.cursor = cursor
            self._create_stage()
            with _phase("read, check and stage the rows"), self._stage_writer() as write:
                self._stage(rows, write)
            if self.postgres:
                # Temporary tables get no statistics by themselves; the joins below
                # need them to hash the small side.
                with _phase("analyze the staged rows"):
                    cursor.execute(f"ANALYZE {STAGE} (line, run_head, order_number, customer_ref, placed_at, sku)")
            with _phase("match customers"):
                self.resolve_customers()
            with _phase("group orders, find existing ones"):
                self.collect_orders()
            self.errors.raise_if_any()
            with _phase("create products"):
                self.create_products()
            with _phase("insert orders"):
                self.insert_orders()
            with _phase("insert lines"):
                self.insert_lines()
            with _phase("refresh customers' figures"):
                self.refresh_customer_stats()
            with _phase("announce the orders (points, tiers, webhooks)"):
                self.announce_orders()
            self._drop_temporary_tables()
        return self.result

    # Reading the file ------------------------------------------------------------

    def _stage(self, rows: Iterable[tuple[int, list[str]]], write) -> None:
        """Check each row and stage the good ones. The hot loop of the import."""
        columns, errors, width = self.columns, self.errors, self.width
        number_at = columns["order_number"]
        order_cells = operator.itemgetter(*(columns[name] for name in ORDER_LEVEL if name in columns))
        order_names = tuple(name for name in ORDER_LEVEL if name in columns)
        # A missing line column reads the empty cell appended to every row.
        line_cells = operator.itemgetter(*(columns.get(name, width) for name in LINE_COLUMNS))
        has_lines = any(name in columns for name in LINE_COLUMNS)
        money = PLAIN_MONEY.fullmatch
        new_id = PublicIds().next
        tz = local_timezone()

        run_number = run_cells = run_values = run_error = None
        run_head = 0
        count = heads = 0
        for line, cells in rows:
            count += 1
            if len(cells) != width:
                errors.add(line, wrong_width(cells, width))
                continue
            number = cells[number_at].strip()
            if not number or len(number) > 64:
                errors.add(line, _("order_number is longer than %(limit)s characters") % {"limit": 64} if number
                           else _("order_number is required"))
                continue
            raw = order_cells(cells)
            head = False
            reason = None
            if number == run_number and raw == run_cells:
                reason = run_error  # the same cells as the row above: the same verdict
            else:
                try:
                    values = order_values(raw, order_names, tz)
                except BadRow as exc:
                    reason = str(exc)
                    if number != run_number:
                        run_number, run_cells, run_values, run_error, run_head = number, raw, None, reason, line
                else:
                    if number != run_number or values != run_values:
                        # A new run; if it is an order seen before, SQL compares it with the order's first row.
                        run_number, run_cells, run_values, run_error, run_head = number, raw, values, None, line
                        head = True
            if reason:
                errors.add(line, reason)
            line_values = None
            if has_lines:
                cells.append("")
                sku, name, category, quantity, price = line_cells(cells)
                if sku or name or category or quantity or price:
                    sku, name, category, quantity, price = (
                        sku.strip(), name.strip(), category.strip(), quantity.strip(), price.strip())
                    units = (1 if not quantity else int(quantity)
                             if quantity.isascii() and quantity.isdigit() and len(quantity) < 10 else 0)
                    if (
                        1 <= units <= QUANTITY_MAX and (sku or name) and money(price)
                        and len(sku) <= 64 and len(name) <= 200 and len(category) <= 100
                    ):
                        line_values = (sku or None, name or None, category or None, units, price, new_id())
                    else:  # the slow path, which says what is wrong
                        try:
                            line_values = (*line_values_checked(sku, name, category, quantity, price), new_id())
                        except BadRow as exc:
                            errors.add(line, str(exc))
                            if not head:
                                continue
                            # Keep the order so that SQL still reports its other rows.
            if head:
                heads += 1
                write(line, line, number, (*run_values, new_id()), line_values)
            elif not reason:
                write(line, run_head, number, None, line_values)
        self.result.rows = count
        self.heads = heads

    def _create_stage(self) -> None:
        self._drop_temporary_tables()
        if self.postgres:
            # These statements are plain joins and writes: compiling them (JIT) costs
            # more than it saves.
            self.cursor.execute(f"SET LOCAL work_mem = '{POSTGRES_WORK_MEM}'")
            self.cursor.execute("SET LOCAL jit = off")
            money = "numeric({max_digits}, {decimal_places})".format(**MONEY)  # as the orders' own columns
            self.cursor.execute(
                f"CREATE TEMPORARY TABLE {STAGE} (line integer NOT NULL, run_head integer NOT NULL, "
                "order_number text NOT NULL, customer_ref text, placed_at timestamptz, status text, channel text, "
                f"currency text, total {money}, order_uuid uuid, sku text, product_name text, category text, "
                f"quantity integer, unit_price {money}, line_uuid uuid)"
            )
        else:
            self.cursor.execute(
                f"CREATE TEMPORARY TABLE {STAGE} (line integer PRIMARY KEY, run_head integer NOT NULL, "
                "order_number text NOT NULL, customer_ref text, placed_at text, status text, channel text, "
                "currency text, total decimal, order_uuid char(32), sku text, product_name text, category text, "
                "quantity integer, unit_price decimal, line_uuid char(32))"
            )

    def _stage_writer(self):
        if self.postgres:
            return CopyWriter(self.cursor, STAGE, STAGE_COLUMNS)
        return SqliteWriter(self.cursor, STAGE, STAGE_COLUMNS, settings.CRM_IMPORT_BATCH_SIZE)

    def _drop_temporary_tables(self) -> None:
        for table in (REF_PHONES, REFS, ORDERS, STAGE):
            self.cursor.execute(f"DROP TABLE IF EXISTS {table}")

    def db_datetime(self, value):
        return value if self.postgres else connection.ops.adapt_datetimefield_value(value)


@contextmanager
def _phase(name: str):
    """Time a step of the import (DEBUG log; the benchmark prints them)."""
    started = time.perf_counter()
    yield
    _log_phase(name, time.perf_counter() - started)


def _log_phase(name: str, seconds: float) -> None:
    logger.debug("%s: %.2f s", name, seconds, extra={"phase": name, "seconds": seconds})
