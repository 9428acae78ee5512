"""Schema building blocks that models declare and migrations refer to (like a library's field class).

Keep them small and stable: a migration imports them by path, so renaming or moving one rewrites
history. Migrations must not import anything else from the project (tests/test_migrations.py).
"""

from django.db import models


class PostgresOnlyIndex(models.Index):
    """An index that only PostgreSQL builds (an operator class, INCLUDE columns, NULLS LAST...).

    Declared in Meta.indexes so the model state and `makemigrations` know it; on SQLite, which
    serves development and the quick test run, the schema editor gets an empty statement and
    builds nothing, as the raw-SQL migrations that created these indexes always did.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return ""
        return super().create_sql(model, schema_editor, using=using, **kwargs)

    def remove_sql(self, model, schema_editor, **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return ""
        return super().remove_sql(model, schema_editor, **kwargs)
