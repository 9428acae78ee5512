"""PostgreSQL indexes that keep the admin's list pages fast at millions of rows
(measured with bench/bench_admin.py; see bench/README.md).

- Customers sorted by last order, newest first and prospects last: the admin orders by
  `last_order_at DESC NULLS LAST, id DESC`; the other direction is this index read
  backwards. Without it the 200,000 customers who never ordered form one group that is
  sorted on every page.
- Orders filtered by status (support looks for placed or paid orders), newest first.
- Interactions, newest first (the list's ordering had no index at all).
- The name prefix indexes of 0002, again, now covering: a search for "sar" among a
  million customers matches ~20,000 of them, and fetching each row from the table to
  read its id took ~300 ms; with the id (and the names the search tests) in the index,
  PostgreSQL answers from the index alone (index-only scan, ~10 ms). They replace the
  indexes of 0002, which are dropped.

Plain `CREATE INDEX` (not CONCURRENTLY, which cannot run in a migration's transaction):
on a live database with millions of orders, create them beforehand with CONCURRENTLY
and the same names; IF NOT EXISTS then makes this migration a no-op. SQLite (development)
is skipped.
"""

from django.db import migrations

INDEXES = {
    "crm_customer_last_order_sort": "crm_customer (last_order_at DESC NULLS LAST, id)",
    "crm_order_status_placed": "crm_order (status, placed_at, id)",
    "crm_interaction_occurred": "crm_interaction (occurred_at, id)",
    "crm_customer_first_name_cover": "crm_customer (UPPER(first_name::text) text_pattern_ops) INCLUDE (first_name, last_name, id)",
    "crm_customer_last_name_cover": "crm_customer (UPPER(last_name::text) text_pattern_ops) INCLUDE (last_name, id)",
}
# 0002's, replaced by the covering ones above.
REPLACED = {
    "crm_customer_first_name_prefix": "crm_customer (UPPER(first_name::text) text_pattern_ops)",
    "crm_customer_last_name_prefix": "crm_customer (UPPER(last_name::text) text_pattern_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
    for name in REPLACED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in REPLACED.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("crm", "0003_customer_scores")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
