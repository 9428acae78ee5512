"""The staging of an order import: the temporary tables, private to the connection and
dropped at the end of the import, and the writers that stream checked rows into them
(COPY on PostgreSQL, batched inserts on SQLite)."""

from datetime import datetime

from django.db import connection

# Temporary tables.
STAGE = "crm_import_order_rows"
ORDERS = "crm_import_orders"
REFS = "crm_import_order_refs"
REF_PHONES = "crm_import_order_ref_phones"

# Hash joins and aggregates over a million staged rows stay in memory with this much;
# it is set for the import's transaction only.
POSTGRES_WORK_MEM = "256MB"

STAGE_COLUMNS = (
        "line", "run_head", "order_number", "customer_ref", "placed_at", "status", "channel", "currency", "total",
        "order_uuid", "sku", "product_name", "category", "quantity", "unit_price", "line_uuid",
    )


class CopyWriter:
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


class SqliteWriter:
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
