"""Rows written in bulk from plain tuples, for generators of many rows (the demo data).

`table_rows(model, columns)` gives a `write(rows)` function for one table: on PostgreSQL the rows
stream in with COPY (psycopg 3 `cursor.copy()`, formatted as COPY text here, which is several times
faster than an INSERT and than psycopg's per-value `write_row()`); elsewhere (SQLite) they become
batched INSERTs of the values as each field stores them. The caller gives every value, primary keys included:
`ids_reserve(model, n)` takes them from the table's sequence (PostgreSQL) or after the highest id,
so the sequences are right as soon as the rows are in. No defaults, `auto_now` values or signals
are applied: the rows are what the caller wrote.

Values may be None (NULL), str, bool, int, Decimal, float, date, datetime (aware), UUID, or
dict or list (JSON), or `Cents` (an int amount in hundredths, written as a decimal with two places).
"""

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

from django.db import connection, models, transaction

COPY_FLUSH_ROWS = 5000
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class Cents(int):
    """An amount of money in hundredths (int arithmetic while generating, a decimal when written)."""

    __slots__ = ()

    def as_decimal(self) -> Decimal:
        return Decimal(int(self)).scaleb(-2)


def _escaped(value: str) -> str:
    # Most text has nothing to escape: two C-speed checks instead of a per-character translate.
    if value.isprintable() and "\\" not in value:
        return value
    return value.translate(_ESCAPES)


def _text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, Cents):
        return _cents(value)
    if isinstance(value, str):
        return _escaped(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dict | list):
        return json.dumps(value).translate(_ESCAPES)
    return str(value)  # int, Decimal, float, date, UUID


def _cents(value: Cents) -> str:
    sign, number = ("-", -int(value)) if value < 0 else ("", int(value))
    return f"{sign}{number // 100}.{number % 100:02d}"


# The usual types by exact type (one dict lookup per value); anything else goes through _text.
_FORMATTERS = {
    type(None): lambda value: "\\N",
    bool: lambda value: "t" if value else "f",
    int: int.__repr__,
    Cents: _cents,
    str: _escaped,
    datetime: lambda value: value.isoformat(sep=" "),
}


def copy_line(row: Sequence) -> str:
    """One row as a line of COPY text (without its newline)."""
    formatters = _FORMATTERS
    return "\t".join([(formatters.get(type(value)) or _text)(value) for value in row])


def uses_copy() -> bool:
    return connection.vendor == "postgresql"


def ids_reserve(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys for `model`'s table, in increasing order."""
    if count <= 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence's name once, not once per id (pg_get_serial_sequence reads the catalogue).
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
            return sorted(row[0] for row in cursor.fetchall())
        highest = model._base_manager.aggregate(highest=models.Max("pk"))["highest"] or 0
        return list(range(highest + 1, highest + 1 + count))


class SequenceIds:
    """`ids_reserve` over a PostgreSQL connection of its own, for a process that must not use Django's (a
    producer forked by core.producer, whose parent holds the connection in a transaction): the same
    sequences, and `nextval` is outside transactions, so its ids never collide with anyone else's.
    `params` are the connection's (`connection.get_connection_params()`), read before the fork."""

    def __init__(self, params: dict):
        self.params = params
        self.own = None
        self.sequences: dict[str, str] = {}

    def __call__(self, model: type[models.Model], count: int) -> list[int]:
        if count <= 0:
            return []
        if self.own is None:
            import psycopg

            self.own = psycopg.connect(**self.params, autocommit=True)
        table = model._meta.db_table
        with self.own.cursor() as cursor:
            if table not in self.sequences:
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, model._meta.pk.column])
                self.sequences[table] = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [self.sequences[table], count])
            return sorted(row[0] for row in cursor.fetchall())

    def close(self) -> None:
        if self.own is not None:
            self.own.close()
            self.own = None


def copy_text(rows: Iterable[Sequence]) -> bytes:
    """Rows as COPY text, encoded, ready for `copy_write`: formatted where they are drawn (which may be
    another process than the one writing them)."""
    lines = [copy_line(row) for row in rows]
    if not lines:
        return b""
    lines.append("")
    return "\n".join(lines).encode()


def _copy_statement(model: type[models.Model], columns: Sequence[str]) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    return f"COPY {table} ({names}) FROM STDIN"


def copy_write(model: type[models.Model], columns: Sequence[str], text: bytes) -> None:
    """COPY text made by `copy_text` into `model`'s table (PostgreSQL)."""
    if text:
        with connection.cursor() as cursor, cursor.cursor.copy(_copy_statement(model, columns)) as copy:
            copy.write(text)


@contextmanager
def table_rows(model: type[models.Model], columns: Sequence[str]) -> Iterator:
    """`write(rows)` for `model`'s table: each row a tuple of values for `columns` (database column names)."""
    if uses_copy():
        with connection.cursor() as cursor:
            with cursor.cursor.copy(_copy_statement(model, columns)) as copy:
                def write(rows: Iterable[tuple]) -> None:
                    buffer = []
                    for row in rows:
                        buffer.append(copy_line(row))
                        if len(buffer) >= COPY_FLUSH_ROWS:
                            buffer.append("")
                            copy.write("\n".join(buffer))
                            buffer = []
                    if buffer:
                        buffer.append("")
                        copy.write("\n".join(buffer))

                yield write
        return

    statement, fields = insert_statement(model, columns)

    def write(rows: Iterable[tuple]) -> None:
        batch = [db_values(fields, row) for row in rows]
        if batch:
            with connection.cursor() as cursor:
                cursor.executemany(statement, batch)

    yield write


def insert_statement(model: type[models.Model], columns: Sequence[str]) -> tuple[str, list[models.Field]]:
    """`INSERT INTO <table> (<columns>) VALUES (%s, ...)` for `model`, and the fields of `columns` (database
    column names) in their order, for `db_values`."""
    by_column = {field.column: field for field in model._meta.concrete_fields}
    fields = [by_column[column] for column in columns]
    quote = connection.ops.quote_name
    # The table and column names come from the model's meta, quoted; the values are parameters.
    names = ", ".join(quote(column) for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({placeholders})", fields  # nosec B608


def db_values(fields: Sequence[models.Field], row: Sequence) -> list:
    """A row's values prepared as each field stores them (no pre_save: auto_now values are the caller's)."""
    return [field.get_db_prep_save(value.as_decimal() if isinstance(value, Cents) else value, connection)
            for field, value in zip(fields, row)]


def analyze_tables(*models_: type[models.Model]) -> None:
    """Refresh the planner statistics of tables that just took many rows (PostgreSQL), so that the
    set-based steps that follow plan for their real size; a no-op elsewhere."""
    if uses_copy():
        with connection.cursor() as cursor:
            for model in models_:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


class IndexesDeferred:
    """While many rows go into empty tables (PostgreSQL): their secondary indexes, unique and foreign-key
    constraints are dropped, then put back exactly as they were (definitions read from the catalogue)
    on a clean exit, each built or checked in one set-based pass instead of row by row. Use it inside
    one transaction: an error rolls the drop back with the rows. `cursor` is a DB-API cursor (Django's
    or psycopg's); `log` gets a line when the indexes are back."""

    def __init__(self, cursor, tables: Sequence[str], log=None):
        self.cursor, self.tables, self.log = cursor, list(tables), log
        self.indexes: list[str] = []
        self.constraints: list[tuple[str, str, str]] = []

    def _rows(self, statement: str, params=None) -> list[tuple]:
        self.cursor.execute(statement, params)
        return list(self.cursor.fetchall())

    def _settle(self, mode: str) -> None:
        # A table cannot be altered while deferred checks on it are pending (rows written earlier in the
        # transaction, as in a test): run them now, then defer again (Django's constraints are
        # INITIALLY DEFERRED).
        self.cursor.execute(f"SET CONSTRAINTS ALL {mode}")

    def __enter__(self):
        self._settle("IMMEDIATE")
        for table in self.tables:
            self.constraints += self._rows(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC",
                [table],
            )
            self.indexes += [row[0] for row in self._rows(
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s::regclass"
                " AND NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [table],
            )]
        # Foreign keys first (they may rely on a unique index), then the rest.
        for table, name, _definition in sorted(self.constraints, key=lambda c: not c[2].startswith("FOREIGN KEY")):
            self.cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for definition in self.indexes:
            name = definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
            self.cursor.execute(f"DROP INDEX {name}")
        self._settle("DEFERRED")
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return False  # the transaction rolls back, indexes included
        started = time.monotonic()
        self._settle("IMMEDIATE")
        for definition in self.indexes:
            self.cursor.execute(definition)
        for table, name, definition in sorted(self.constraints, key=lambda c: c[2].startswith("FOREIGN KEY")):
            self.cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        self._settle("DEFERRED")
        if self.log:
            self.log(f"Indexes and constraints rebuilt in {time.monotonic() - started:.0f} s.")
        return False


@contextmanager
def bulk_load(*models_: type[models.Model], log=None) -> Iterator[None]:
    """One transaction for a big load into these (empty) tables: on PostgreSQL with their indexes and
    constraints deferred (IndexesDeferred) and without waiting for the WAL flush at each commit
    (synchronous_commit off: a crash loses the load, which is then simply run again). Elsewhere just
    a transaction."""
    with transaction.atomic():
        if not uses_copy():
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            with IndexesDeferred(cursor, [model._meta.db_table for model in models_], log):
                yield


def write_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """Write `rows` to `model`'s table at once (see `table_rows`)."""
    with table_rows(model, columns) as write:
        write(rows)


__all__ = ["Cents", "IndexesDeferred", "SequenceIds", "analyze_tables", "bulk_load", "copy_text", "copy_write", "db_values",
           "ids_reserve", "insert_statement", "table_rows", "uses_copy", "write_rows"]
