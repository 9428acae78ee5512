"""Indexes that only PostgreSQL has: name prefix search for the admin's search box.

Django's `istartswith` on PostgreSQL compiles to UPPER(col::text) LIKE UPPER('x%'),
which can use an expression index with text_pattern_ops. SQLite (development) has no
such index type and is skipped.
"""

from django.db import migrations

INDEXES = {
    "crm_customer_first_name_prefix": "crm_customer (UPPER(first_name::text) text_pattern_ops)",
    "crm_customer_last_name_prefix": "crm_customer (UPPER(last_name::text) text_pattern_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
