"""Migration operations for changes Django would make the slow way on a large PostgreSQL table.

Turning `db_index` off on a foreign key, or `unique=True` into a named UniqueConstraint, makes Django's
schema editor drop and re-add the foreign key (which checks every row again, the table locked meanwhile)
or drop and rebuild the unique index. On PostgreSQL the same end state is a `DROP INDEX` or a
`RENAME CONSTRAINT`: `OnPostgres` runs such a function there and the operations' own database steps
elsewhere (SQLite rebuilds its small tables anyway). Used inside SeparateDatabaseAndState, whose state
operations are the same operations, so the model state is exactly what `makemigrations` expects.

Migrations are history and run these: change this module by adding, never by editing what is here
(tests/test_migrations.py lets migrations import it, as core.indexes).
"""

from collections.abc import Callable, Sequence

from django.db.migrations.operations.base import Operation


class OnPostgres(Operation):
    """`forwards(schema_editor)` on PostgreSQL; elsewhere, and backwards everywhere, `operations` as Django runs them."""

    reduces_to_sql = False
    reversible = True

    def __init__(self, forwards: Callable, operations: Sequence[Operation]):
        self.forwards = forwards
        self.operations = list(operations)

    def state_forwards(self, app_label, state):
        pass  # the state is the SeparateDatabaseAndState's state operations

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            self.forwards(schema_editor)
            return
        state = from_state.clone()
        for operation in self.operations:
            after = state.clone()
            operation.state_forwards(app_label, after)
            operation.database_forwards(app_label, schema_editor, state, after)
            state = after

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        states = [to_state.clone()]
        for operation in self.operations:
            after = states[-1].clone()
            operation.state_forwards(app_label, after)
            states.append(after)
        for operation, before, after in reversed(list(zip(self.operations, states, states[1:]))):
            operation.database_backwards(app_label, schema_editor, after, before)

    def describe(self):
        return "A PostgreSQL shortcut, or: " + "; ".join(operation.describe() for operation in self.operations)


def single_column_indexes_drop(schema_editor, table: str, column: str) -> None:
    """Drop the plain indexes on `column` alone (a foreign key's own index, a CharField's LIKE index): the
    composite indexes that lead with it, and a unique constraint, serve the look-ups."""
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    for name, details in constraints.items():
        if details["index"] and not details["unique"] and not details["primary_key"] and details["columns"] == [column]:
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def unique_constraint_rename(schema_editor, table: str, column: str, name: str) -> None:
    """Give the unique constraint on `column` alone (as `unique=True` made it) the name a UniqueConstraint declares."""
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    for current, details in constraints.items():
        if details["unique"] and not details["primary_key"] and details["columns"] == [column] and current != name:
            quote = schema_editor.quote_name
            schema_editor.execute(f"ALTER TABLE {quote(table)} RENAME CONSTRAINT {quote(current)} TO {quote(name)}")
            return
