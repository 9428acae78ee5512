"""Model instances inserted in one statement, without Django's per-value preparation: the batch roads
(orders and their lines, the points ledger, the webhook outbox) write thousands of rows per call.

On PostgreSQL the rows go in as one `INSERT ... SELECT * FROM unnest(<one array per column>)`,
the values handed to psycopg as they are (it adapts UUIDs, datetimes, decimals and text itself);
JSON columns are dumped with their field's encoder. Elsewhere (SQLite) `bulk_create` does it.
Either way each instance gets what `bulk_create` gives it: its primary key (and the other columns
the database computes, such as generated ones), defaults and `pre_save` values (an AuditSourceField's
source, an `auto_now_add` time), and the state of a saved row. Signals are not sent, as with `bulk_create`.
"""

import enum
import json
from collections.abc import Sequence

from django.db import connection, models


def instances_insert(instances: Sequence[models.Model], *, ignore_conflicts: bool = False) -> None:
    """Insert these instances of one model (none saved yet). With `ignore_conflicts`, a row that breaks a
    unique constraint is skipped and no primary keys are set, as with `bulk_create`."""
    if not instances:
        return
    model = type(instances[0])
    if connection.vendor != "postgresql":
        model._base_manager.bulk_create(instances, ignore_conflicts=ignore_conflicts)
        return
    for instance in instances:
        instance._prepare_related_fields_for_save(operation_name="instances_insert")
    opts = model._meta
    fields = [field for field in opts.concrete_fields
              if not getattr(field, "generated", False) and not (field.primary_key and getattr(instances[0], field.attname) is None)]
    columns = []
    for field in fields:
        values = [field.pre_save(instance, True) for instance in instances]
        if isinstance(field, models.JSONField):
            encoder = field.encoder
            values = [None if value is None else json.dumps(value, cls=encoder) for value in values]
            cast = "text[]::jsonb[]"
        else:
            values = [value.value if isinstance(value, enum.Enum) else value for value in values]
            cast = field.db_type(connection).split("(")[0] + "[]"
        columns.append((field.column, cast, values))
    quote = connection.ops.quote_name
    returning = [] if ignore_conflicts else list(opts.db_returning_fields)
    sql = (f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(column) for column, _cast, _values in columns)}) "  # nosec B608 - identifiers are the model's own; values are parameters
           f"SELECT * FROM unnest({', '.join(f'(%s)::{cast}' for _column, cast, _values in columns)})")
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(quote(field.column) for field in returning)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [values for _column, _cast, values in columns])
        found = cursor.fetchall() if returning else []
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias
    for instance, values in zip(instances, found, strict=True) if returning else ():
        for field, value in zip(returning, values):
            setattr(instance, field.attname, value)
