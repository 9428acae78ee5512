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
import os
import time
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audited
from crm.importing.common import (
    PLAIN_MONEY, CsvRows, ErrorList, ImportFailed, ImportResult, Progress, Source, check_length, local_timezone,
    parse_datetime, parse_money, parse_quantity, read_header, ref_as_phone, wrong_width,
)
from crm.models import Customer, Order, OrderLine, Product

logger = logging.getLogger(__name__)

ORDER_COLUMNS = ("order_number", "customer_ref", "placed_at", "status", "channel", "currency", "total")
LINE_COLUMNS = ("sku", "product_name", "category", "quantity", "unit_price")
REQUIRED_COLUMNS = ("order_number", "customer_ref", "placed_at", "total")
# The columns every row of an order must agree on, in the order they are reported.
_ORDER_LEVEL = ("customer_ref", "placed_at", "status", "channel", "currency", "total")

_STATUSES = frozenset(Order.Status.values)
_CHANNELS = frozenset(Order.Channel.values)
_MAX_REF = 254  # the longest key a customer_ref can match: an email

# Temporary tables, private to the connection and dropped at the end of the import.
_STAGE = "crm_import_order_rows"
_ORDERS = "crm_import_orders"
_REFS = "crm_import_order_refs"
_REF_PHONES = "crm_import_order_ref_phones"

# Hash joins and aggregates over a million staged rows stay in memory with this much;
# it is set for the import's transaction only.
_POSTGRES_WORK_MEM = "256MB"


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
                result = _OrderImport(columns, len(rows.header), errors).run(rows)
                commit_started = time.perf_counter()
            _log_phase("commit (deferred foreign key checks)", time.perf_counter() - commit_started)
        except IntegrityError:
            # Only a concurrent writer can get here: every row was checked first.
            logger.exception("orders import hit a constraint")
            raise ImportFailed([
                _("another import or a partner wrote some of these orders at the same time; "
                  "nothing was imported, import the file again")
            ]) from None
    logger.info("orders import by %s: %s", by or "a script", result.summary())
    return result


class _OrderImport:
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
                    cursor.execute(f"ANALYZE {_STAGE} (line, run_head, order_number, customer_ref, placed_at, sku)")
            with _phase("match customers"):
                self._resolve_customers()
            with _phase("group orders, find existing ones"):
                self._collect_orders()
            self.errors.raise_if_any()
            with _phase("create products"):
                self._create_products()
            with _phase("insert orders"):
                self._insert_orders()
            with _phase("insert lines"):
                self._insert_lines()
            with _phase("refresh customers' figures"):
                self._refresh_customer_stats()
            self._drop_temporary_tables()
        return self.result

    # Reading the file ------------------------------------------------------------

    def _stage(self, rows: Iterable[tuple[int, list[str]]], write) -> None:
        """Check each row and stage the good ones. The hot loop of the import."""
        columns, errors, width = self.columns, self.errors, self.width
        number_at = columns["order_number"]
        order_cells = operator.itemgetter(*(columns[name] for name in _ORDER_LEVEL if name in columns))
        order_names = tuple(name for name in _ORDER_LEVEL if name in columns)
        # A missing line column reads the empty cell appended to every row.
        line_cells = operator.itemgetter(*(columns.get(name, width) for name in LINE_COLUMNS))
        has_lines = any(name in columns for name in LINE_COLUMNS)
        money = PLAIN_MONEY.fullmatch
        new_id = _PublicIds().next
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
                    values = _order_values(raw, order_names, tz)
                except _BadRow as exc:
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
                        units >= 1 and (sku or name) and money(price)
                        and len(sku) <= 64 and len(name) <= 200 and len(category) <= 100
                    ):
                        line_values = (sku or None, name or None, category or None, units, price, new_id())
                    else:  # the slow path, which says what is wrong
                        try:
                            line_values = (*_line_values(sku, name, category, quantity, price), new_id())
                        except _BadRow as exc:
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

    # Staging ---------------------------------------------------------------------

    _STAGE_COLUMNS = (
        "line", "run_head", "order_number", "customer_ref", "placed_at", "status", "channel", "currency", "total",
        "order_uuid", "sku", "product_name", "category", "quantity", "unit_price", "line_uuid",
    )

    def _create_stage(self) -> None:
        self._drop_temporary_tables()
        if self.postgres:
            # These statements are plain joins and writes: compiling them (JIT) costs
            # more than it saves.
            self.cursor.execute(f"SET LOCAL work_mem = '{_POSTGRES_WORK_MEM}'")
            self.cursor.execute("SET LOCAL jit = off")
            self.cursor.execute(
                f"CREATE TEMPORARY TABLE {_STAGE} (line integer NOT NULL, run_head integer NOT NULL, "
                "order_number text NOT NULL, customer_ref text, placed_at timestamptz, status text, channel text, "
                "currency text, total numeric(14, 2), order_uuid uuid, sku text, product_name text, category text, "
                "quantity integer, unit_price numeric(14, 2), line_uuid uuid)"
            )
        else:
            self.cursor.execute(
                f"CREATE TEMPORARY TABLE {_STAGE} (line integer PRIMARY KEY, run_head integer NOT NULL, "
                "order_number text NOT NULL, customer_ref text, placed_at text, status text, channel text, "
                "currency text, total decimal, order_uuid char(32), sku text, product_name text, category text, "
                "quantity integer, unit_price decimal, line_uuid char(32))"
            )

    def _stage_writer(self):
        if self.postgres:
            return _CopyWriter(self.cursor, _STAGE, self._STAGE_COLUMNS)
        return _SqliteWriter(self.cursor, _STAGE, self._STAGE_COLUMNS, settings.CRM_IMPORT_BATCH_SIZE)

    def _drop_temporary_tables(self) -> None:
        for table in (_REF_PHONES, _REFS, _ORDERS, _STAGE):
            self.cursor.execute(f"DROP TABLE IF EXISTS {table}")

    # Checks that need the whole file or the database -----------------------------------

    def _resolve_customers(self) -> None:
        """customer_ref -> customer: external_ref, then email, then phone (E.164)."""
        cursor, customers = self.cursor, Customer._meta.db_table
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_REFS} AS "  # nosec B608 - identifiers are constants or checked column names; values are parameters
            f"SELECT d.ref, COALESCE("
            f"  (SELECT c.id FROM {customers} c WHERE c.external_ref = d.ref),"
            f"  CASE WHEN d.ref LIKE %s THEN (SELECT c.id FROM {customers} c WHERE LOWER(c.email) = LOWER(d.ref)) END"
            f") AS customer_id, 0 AS phone_matches "
            f"FROM (SELECT DISTINCT customer_ref AS ref FROM {_STAGE} WHERE customer_ref IS NOT NULL) d",
            ["%@%"],
        )
        if not self.postgres:  # SQLite joins through indexes; PostgreSQL hashes
            cursor.execute(f"CREATE UNIQUE INDEX {_REFS}_ref ON {_REFS} (ref)")
        # Phone numbers are written in many ways; Python turns the refs that look like
        # one into E.164, as stored, and SQL matches those.
        cursor.execute(f"CREATE TEMPORARY TABLE {_REF_PHONES} (ref text PRIMARY KEY, phone text NOT NULL)")
        cursor.execute(f"SELECT ref FROM {_REFS} WHERE customer_id IS NULL")  # nosec B608 - identifiers are constants or checked column names; values are parameters
        while batch := cursor.fetchmany(10000):
            phones = [(ref, phone) for (ref,) in batch if (phone := ref_as_phone(ref))]
            if phones:
                with connection.cursor() as writer:
                    writer.executemany(f"INSERT INTO {_REF_PHONES} (ref, phone) VALUES (%s, %s)", phones)  # nosec B608 - identifiers are constants or checked column names; values are parameters
        cursor.execute(
            f"UPDATE {_REFS} SET "  # nosec B608 - identifiers are constants or checked column names; values are parameters
            f"customer_id = (SELECT MIN(c.id) FROM {customers} c JOIN {_REF_PHONES} p ON c.phone = p.phone"
            f"               WHERE p.ref = {_REFS}.ref), "
            f"phone_matches = (SELECT COUNT(*) FROM {customers} c JOIN {_REF_PHONES} p ON c.phone = p.phone"
            f"                 WHERE p.ref = {_REFS}.ref) "
            f"WHERE customer_id IS NULL AND ref IN (SELECT ref FROM {_REF_PHONES})"
        )
        cursor.execute(f"UPDATE {_REFS} SET customer_id = NULL WHERE phone_matches > 1")  # nosec B608 - identifiers are constants or checked column names; values are parameters
        cursor.execute(f"SELECT COUNT(*) FROM {_REFS} WHERE customer_id IS NULL")  # nosec B608 - identifiers are constants or checked column names; values are parameters
        if cursor.fetchone()[0]:
            cursor.execute(
                f"SELECT r.line, f.ref, f.phone_matches FROM {_STAGE} r JOIN {_STAGE} h ON h.line = r.run_head "  # nosec B608 - identifiers are constants or checked column names; values are parameters
                f"JOIN {_REFS} f ON f.ref = h.customer_ref WHERE f.customer_id IS NULL"
            )
            while batch := cursor.fetchmany(10000):
                for line, ref, matches in batch:
                    if matches > 1:
                        reason = _('customer_ref "%(ref)s" matches several customers') % {"ref": ref}
                    else:
                        reason = _('customer_ref "%(ref)s" matches no customer') % {"ref": ref}
                    self.errors.add(line, reason)

    def _collect_orders(self) -> None:
        """One row per order number (from its first row), with its customer and whether it exists."""
        cursor = self.cursor
        exists = (
            f"EXISTS (SELECT 1 FROM {Order._meta.db_table} o WHERE o.source = '' AND o.order_number = h.order_number)"  # nosec B608 - identifiers are constants or checked column names; values are parameters
        )
        select = (
            f"SELECT h.line, h.order_number, h.customer_ref, f.customer_id, h.placed_at, h.status, h.channel, "  # nosec B608 - identifiers are constants or checked column names; values are parameters
            f"h.currency, h.total, {exists} AS existing, h.order_uuid "
            f"FROM {_STAGE} h LEFT JOIN {_REFS} f ON f.ref = h.customer_ref "
            f"WHERE h.placed_at IS NOT NULL "
            f"AND h.line IN (SELECT MIN(line) FROM {_STAGE} WHERE placed_at IS NOT NULL GROUP BY order_number) "
            f"ORDER BY h.line"
        )
        if self.postgres:
            # The ids are drawn now, in file order, so that the lines can join on this
            # small table; OFFSET 0 keeps the EXISTS from being evaluated twice.
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_ORDERS} AS SELECT x.*, "  # nosec B608 - identifiers are constants or checked column names; values are parameters
                f"CASE WHEN NOT x.existing THEN nextval(pg_get_serial_sequence(%s, 'id')) END AS id "
                f"FROM ({select} OFFSET 0) x",
                [Order._meta.db_table],
            )
            orders = cursor.rowcount
            cursor.execute(f"ANALYZE {_ORDERS} (order_number, customer_id, existing)")
        else:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_ORDERS} AS SELECT x.*, CAST(NULL AS integer) AS id FROM ({select}) x"  # nosec B608 - identifiers are constants or checked column names; values are parameters
            )
            cursor.execute(f"CREATE UNIQUE INDEX {_ORDERS}_number ON {_ORDERS} (order_number)")
            cursor.execute(f"SELECT COUNT(*) FROM {_ORDERS}")  # sqlite3 does not count CREATE TABLE AS  # nosec B608 - identifiers are constants or checked column names; values are parameters
            orders = cursor.fetchone()[0]
        if self.heads > orders:
            self._report_disagreeing_runs()
        cursor.execute(f"SELECT COUNT(*) FROM {_ORDERS} WHERE existing")  # nosec B608 - identifiers are constants or checked column names; values are parameters
        self.result.skipped = cursor.fetchone()[0]
        self.result.created = orders - self.result.skipped

    def _report_disagreeing_runs(self) -> None:
        """Rows of an order found again further down the file must agree with its first row."""
        differs = {
            "customer_ref": "h.customer_ref <> o.customer_ref",
            "placed_at": "h.placed_at <> o.placed_at",
            "status": "h.status <> o.status",
            "channel": "h.channel <> o.channel",
            "currency": "h.currency <> o.currency",
            "total": "h.total <> o.total",
        }
        flags = ", ".join(f"CASE WHEN {condition} THEN 1 ELSE 0 END" for condition in differs.values())
        self.cursor.execute(
            f"SELECT r.line, h.order_number, o.line, {flags} "  # nosec B608 - identifiers are constants or checked column names; values are parameters
            f"FROM {_STAGE} h JOIN {_ORDERS} o ON o.order_number = h.order_number "
            f"JOIN {_STAGE} r ON r.run_head = h.line "
            f"WHERE h.placed_at IS NOT NULL AND h.line <> o.line AND ({' OR '.join(differs.values())})"
        )
        while batch := self.cursor.fetchmany(10000):
            for line, number, first_line, *flags in batch:
                names = [name for name, flag in zip(differs, flags) if flag]
                self.errors.add(line, _differs_message(number, first_line, names))

    # Writing ---------------------------------------------------------------------------

    def _create_products(self) -> None:
        """The catalogue builds itself from what is sold: unknown SKUs become products."""
        skip_existing = f"AND s.order_number NOT IN (SELECT order_number FROM {_ORDERS} WHERE existing)"  # nosec B608 - identifiers are constants or checked column names; values are parameters
        self.cursor.execute(
            f"INSERT INTO {Product._meta.db_table} (sku, name, category, created_at) "  # nosec B608 - identifiers are constants or checked column names; values are parameters
            f"SELECT r.sku, COALESCE(r.product_name, r.sku), COALESCE(r.category, ''), %s FROM {_STAGE} r "
            f"WHERE r.line IN (SELECT MIN(s.line) FROM {_STAGE} s WHERE s.sku IS NOT NULL "
            f"{skip_existing if self.result.skipped else ''} GROUP BY s.sku) "
            f"ON CONFLICT (sku) DO NOTHING",
            [self._datetime(self.now)],
        )
        self.result.details["products_created"] = max(self.cursor.rowcount, 0)

    def _insert_orders(self) -> None:
        if not self.result.created:
            return
        now = self._datetime(self.now)
        columns = (
            "customer_id, source, order_number, placed_at, status, channel, currency, total, discount, "
            "refunded_amount, fulfilled_at, created_at, updated_at"
        )
        # As the services leave them: a fulfilled order was fulfilled when it was placed
        # (order_create), a refunded one was refunded in full (order_set_status).
        values = (
            "customer_id, '', order_number, placed_at, status, channel, currency, total, 0, "
            "CASE WHEN status = 'refunded' THEN total ELSE 0 END, CASE WHEN status = 'fulfilled' THEN placed_at END, "
            "%s, %s"
        )
        if self.postgres:
            self.cursor.execute(
                f"INSERT INTO {Order._meta.db_table} (id, public_id, {columns}) "  # nosec B608 - identifiers are constants or checked column names; values are parameters
                f"SELECT id, order_uuid, {values} FROM {_ORDERS} WHERE NOT existing",  # in id order already
                [now, now],
            )
        else:
            self.cursor.execute(
                f"INSERT INTO {Order._meta.db_table} (public_id, {columns}) "  # nosec B608 - identifiers are constants or checked column names; values are parameters
                f"SELECT order_uuid, {values} FROM {_ORDERS} WHERE NOT existing ORDER BY line",
                [now, now],
            )
            self.cursor.execute(
                f"UPDATE {_ORDERS} SET id = (SELECT o.id FROM {Order._meta.db_table} o "  # nosec B608 - identifiers are constants or checked column names; values are parameters
                f"WHERE o.source = '' AND o.order_number = {_ORDERS}.order_number) WHERE NOT existing"
            )

    def _insert_lines(self) -> None:
        if not self.result.created:
            self.result.details["lines_created"] = 0
            return
        self.cursor.execute(
            f"INSERT INTO {OrderLine._meta.db_table} "  # nosec B608 - identifiers are constants or checked column names; values are parameters
            f"(public_id, order_id, product_id, sku, product_name, category, quantity, unit_price) "
            f"SELECT r.line_uuid, o.id, p.id, COALESCE(r.sku, ''), COALESCE(r.product_name, ''), "
            f"COALESCE(r.category, p.category, ''), r.quantity, r.unit_price "
            f"FROM {_STAGE} r JOIN {_ORDERS} o ON o.order_number = r.order_number "
            f"LEFT JOIN {Product._meta.db_table} p ON p.sku = r.sku "
            f"WHERE r.unit_price IS NOT NULL AND NOT o.existing ORDER BY r.line"
        )
        self.result.details["lines_created"] = max(self.cursor.rowcount, 0)

    def _refresh_customer_stats(self) -> None:
        """The derived figures of the customers who got orders, as one statement.

        The same figures as crm.services.customers_refresh_order_stats, which runs four
        correlated subqueries per customer and takes a list of ids; over a million rows
        one aggregate over the new orders' customers is many times faster. A customer
        whose new orders are not counted keeps figures the import did not change.
        Updating in id order keeps the heap and index pages it touches together."""
        if not self.result.created:
            return
        customers, orders = Customer._meta.db_table, Order._meta.db_table
        self.cursor.execute(
            f"UPDATE {customers} SET orders_count = s.orders_count, total_spent = s.total_spent, "  # nosec B608 - identifiers are constants or checked column names; values are parameters
            f"first_order_at = s.first_order_at, last_order_at = s.last_order_at "
            f"FROM (SELECT o.customer_id, COUNT(*) AS orders_count, SUM(o.net_total) AS total_spent, "
            f"      MIN(o.placed_at) AS first_order_at, MAX(o.placed_at) AS last_order_at "
            f"      FROM {orders} o WHERE o.is_counted "
            f"      AND o.customer_id IN (SELECT customer_id FROM {_ORDERS} WHERE NOT existing) "
            f"      GROUP BY o.customer_id ORDER BY o.customer_id) s "
            f"WHERE {customers}.id = s.customer_id"
        )

    def _datetime(self, value):
        return value if self.postgres else connection.ops.adapt_datetimefield_value(value)


@contextmanager
def _phase(name: str):
    """Time a step of the import (DEBUG log; the benchmark prints them)."""
    started = time.perf_counter()
    yield
    _log_phase(name, time.perf_counter() - started)


def _log_phase(name: str, seconds: float) -> None:
    logger.debug("%s: %.2f s", name, seconds, extra={"phase": name, "seconds": seconds})


# Row checks ---------------------------------------------------------------------------


class _BadRow(ValueError):
    pass


def _order_values(raw: tuple[str, ...], names: tuple[str, ...], tz) -> tuple:
    """The order-level cells of a row, checked and normalised:
    (customer_ref, placed_at, status, channel, currency, total)."""
    cells = dict(zip(names, raw))
    reasons = []
    ref = cells["customer_ref"].strip()
    if not ref:
        reasons.append(_("customer_ref is required"))
    elif len(ref) > _MAX_REF:
        reasons.append(_("customer_ref is longer than %(limit)s characters") % {"limit": _MAX_REF})
    placed_at = cells["placed_at"].strip()
    if not placed_at:
        reasons.append(_("placed_at is required"))
    else:
        try:
            placed_at = parse_datetime(placed_at, "placed_at", tz)
        except ValueError as exc:
            reasons.append(str(exc))
    status = cells.get("status", "").strip().lower() or Order.Status.FULFILLED.value
    if status not in _STATUSES:
        reasons.append(_('status "%(value)s" is not one of %(choices)s') % {
            "value": cells["status"].strip(), "choices": ", ".join(Order.Status.values)})
    channel = cells.get("channel", "").strip().lower() or Order.Channel.STORE.value
    if channel not in _CHANNELS:
        reasons.append(_('channel "%(value)s" is not one of %(choices)s') % {
            "value": cells["channel"].strip(), "choices": ", ".join(Order.Channel.values)})
    currency = cells.get("currency", "").strip().upper() or "USD"
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        reasons.append(_('currency "%(value)s" is not a 3-letter code') % {"value": cells["currency"].strip()})
    total = cells["total"].strip()
    if not total:
        reasons.append(_("total is required"))
    else:
        try:
            total = Decimal(parse_money(total, "total"))
        except ValueError as exc:
            reasons.append(str(exc))
    if reasons:
        raise _BadRow("; ".join(reasons))
    return ref, placed_at, status, channel, currency, total


def _line_values(sku: str, name: str, category: str, quantity: str, price: str) -> tuple:
    """(sku, product_name, category, quantity, unit_price) of a row with a line; the slow
    path of the reading loop, which says what is wrong."""
    reasons = []
    if not (sku or name):
        reasons.append(_("a line needs a sku or a product_name"))
    for column, value, limit in (("sku", sku, 64), ("product_name", name, 200), ("category", category, 100)):
        try:
            check_length(value, column, limit)
        except ValueError as exc:
            reasons.append(str(exc))
    if quantity:
        try:
            quantity = parse_quantity(quantity, "quantity")
        except ValueError as exc:
            reasons.append(str(exc))
    else:
        quantity = 1
    if not price:
        reasons.append(_("unit_price is required for a line"))
    else:
        try:
            price = parse_money(price, "unit_price")
        except ValueError as exc:
            reasons.append(str(exc))
    if reasons:
        raise _BadRow("; ".join(reasons))
    return sku or None, name or None, category or None, quantity, price


class _PublicIds:
    """Public ids for the new rows: UUIDv7 (RFC 9562) as 32 hex digits.

    Time-ordered ids land at the end of the unique index instead of all over it, which
    makes a million inserts markedly faster; 74 of their bits come from os.urandom, so
    they are as hard to guess as the uuid4 the models default to. Generating them here,
    from one os.urandom() call per 4096 ids, is also cheaper than gen_random_uuid()."""

    _BATCH = 4096
    _VARIANT = {digit: "89ab"[int(digit, 16) % 4] for digit in "0123456789abcdef"}

    def __init__(self):
        self._refill()

    def _refill(self) -> None:
        self._hex = os.urandom(16 * self._BATCH).hex()
        self._at = 0
        self._prefix = f"{time.time_ns() // 1_000_000:012x}7"

    def next(self) -> str:
        at = self._at
        if at == len(self._hex):
            self._refill()
            at = 0
        self._at = at + 32
        hex_ = self._hex
        return self._prefix + hex_[at:at + 3] + self._VARIANT[hex_[at + 3]] + hex_[at + 4:at + 19]


def _differs_message(number: str, first_line: int, names: list[str]) -> str:
    return _('order "%(number)s" differs from line %(first)s in %(columns)s') % {
        "number": number, "first": first_line, "columns": ", ".join(names),
    }


# Staging writers -------------------------------------------------------------------------


class _CopyWriter:
    """Rows to a table through COPY (psycopg 3), streamed while the file is read.

    The rows are formatted as COPY text here: psycopg's write_row() would take as long
    again as reading and checking the row. NULL is the empty string (no row stages an
    empty string), so that only real backslashes need escaping."""

    _ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
    _FLUSH_EVERY = 2000
    _NO_ORDER = "\t" * 7
    _NO_LINE = "\t" * 6

    def __init__(self, cursor, table: str, columns: tuple[str, ...]):
        self._raw_cursor = cursor.cursor
        self._statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (NULL '')"
        self._tabs = len(columns) - 1
        self._buffer: list[str] = []

    def __enter__(self):
        self._context = self._raw_cursor.copy(self._statement)
        self._copy = self._context.__enter__()
        return self.write

    def write(self, line: int, run_head: int, number: str, order: tuple | None, line_values: tuple | None) -> None:
        if order is None:
            middle = self._NO_ORDER
        else:
            ref, placed_at, status, channel, currency, total, order_uuid = order
            middle = "\t" + "\t".join((ref, placed_at.isoformat(), status, channel, currency, str(total), order_uuid))
        if line_values is None:
            end = self._NO_LINE
        else:
            sku, name, category, quantity, price, line_uuid = line_values
            end = f"\t{sku or ''}\t{name or ''}\t{category or ''}\t{quantity}\t{price}\t{line_uuid}"
        text = f"{line}\t{run_head}\t{number}{middle}{end}"
        if "\\" in text or "\n" in text or "\r" in text or text.count("\t") != self._tabs:
            text = self._escaped(line, run_head, number, order, line_values)
        buffer = self._buffer
        buffer.append(text)
        if len(buffer) >= self._FLUSH_EVERY:
            buffer.append("")
            self._copy.write("\n".join(buffer))
            buffer.clear()

    def _escaped(self, line, run_head, number, order, line_values) -> str:
        values = (line, run_head, number, *(order or (None,) * 7), *(line_values or (None,) * 6))
        return "\t".join(
            "" if value is None else (value.isoformat() if isinstance(value, datetime) else str(value)).translate(
                self._ESCAPES)
            for value in values
        )

    def __exit__(self, exc_type, *exc_info):
        if exc_type is None and self._buffer:
            self._buffer.append("")
            self._copy.write("\n".join(self._buffer))
            self._buffer.clear()
        return self._context.__exit__(exc_type, *exc_info)


class _SqliteWriter:
    """Rows to a table in batches of executemany."""

    def __init__(self, cursor, table: str, columns: tuple[str, ...], batch_size: int):
        self._cursor = cursor
        self._batch_size = batch_size
        self._batch: list[tuple] = []
        self._statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"  # nosec B608 - identifiers are constants or checked column names; values are parameters
        self._adapt = connection.ops.adapt_datetimefield_value

    def __enter__(self):
        return self.write

    def write(self, line: int, run_head: int, number: str, order: tuple | None, line_values: tuple | None) -> None:
        if order is not None:
            ref, placed_at, *rest = order
            order = (ref, self._adapt(placed_at), *rest)  # as Django stores datetimes on SQLite
        self._batch.append((line, run_head, number, *(order or (None,) * 7), *(line_values or (None,) * 6)))
        if len(self._batch) >= self._batch_size:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            self._cursor.executemany(self._statement, self._batch)
            self._batch = []

    def __exit__(self, exc_type, *exc_info):
        if exc_type is None:
            self._flush()
        return False
