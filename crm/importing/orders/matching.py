"""The checks of an order import that need the whole file or the database: matching each
customer_ref to a customer, grouping the rows of each order, finding orders that exist,
and rows of an order that disagree with its first row. Set-based statements over the
staged rows (crm.importing.orders.staging)."""

from django.db import connection
from django.utils.translation import gettext as _

from crm.importing.common import ref_as_phone
from crm.importing.orders.rows import differs_message
from crm.importing.orders.staging import ORDERS, REF_PHONES, REFS, STAGE
from crm.models import Customer, Order


class MatchingSteps:
    """Part of crm.importing.orders.importer.OrderImport (its cursor, errors and result)."""

    def resolve_customers(self) -> None:
        """customer_ref -> customer: external_ref, then email, then phone (E.164)."""
        cursor, customers = self.cursor, Customer._meta.db_table
        cursor.execute(
            f"CREATE TEMPORARY TABLE {REFS} AS "  # nosec B608 - identifiers are constants or checked column names; values are parameters
            f"SELECT d.ref, COALESCE("
            f"  (SELECT c.id FROM {customers} c WHERE c.external_ref = d.ref),"
            f"  CASE WHEN d.ref LIKE %s THEN (SELECT c.id FROM {customers} c WHERE LOWER(c.email) = LOWER(d.ref)) END"
            f") AS customer_id, 0 AS phone_matches "
            f"FROM (SELECT DISTINCT customer_ref AS ref FROM {STAGE} WHERE customer_ref IS NOT NULL) d",
            ["%@%"],
        )
        if not self.postgres:  # SQLite joins through indexes; PostgreSQL hashes
            cursor.execute(f"CREATE UNIQUE INDEX {REFS}_ref ON {REFS} (ref)")
        # Phone numbers are written in many ways; Python turns the refs that look like
        # one into E.164, as stored, and SQL matches those.
        cursor.execute(f"CREATE TEMPORARY TABLE {REF_PHONES} (ref text PRIMARY KEY, phone text NOT NULL)")
        cursor.execute(f"SELECT ref FROM {REFS} WHERE customer_id IS NULL")  # nosec B608 - identifiers are constants or checked column names; values are parameters
        while batch := cursor.fetchmany(10000):
            phones = [(ref, phone) for (ref,) in batch if (phone := ref_as_phone(ref))]
            if phones:
                with connection.cursor() as writer:
                    writer.executemany(f"INSERT INTO {REF_PHONES} (ref, phone) VALUES (%s, %s)", phones)  # nosec B608 - identifiers are constants or checked column names; values are parameters
        cursor.execute(
            f"UPDATE {REFS} SET "  # nosec B608 - identifiers are constants or checked column names; values are parameters
            f"customer_id = (SELECT MIN(c.id) FROM {customers} c JOIN {REF_PHONES} p ON c.phone = p.phone"
            f"               WHERE p.ref = {REFS}.ref), "
            f"phone_matches = (SELECT COUNT(*) FROM {customers} c JOIN {REF_PHONES} p ON c.phone = p.phone"
            f"                 WHERE p.ref = {REFS}.ref) "
            f"WHERE customer_id IS NULL AND ref IN (SELECT ref FROM {REF_PHONES})"
        )
        cursor.execute(f"UPDATE {REFS} SET customer_id = NULL WHERE phone_matches > 1")  # nosec B608 - identifiers are constants or checked column names; values are parameters
        cursor.execute(f"SELECT COUNT(*) FROM {REFS} WHERE customer_id IS NULL")  # nosec B608 - identifiers are constants or checked column names; values are parameters
        if cursor.fetchone()[0]:
            cursor.execute(
                f"SELECT r.line, f.ref, f.phone_matches FROM {STAGE} r JOIN {STAGE} h ON h.line = r.run_head "  # nosec B608 - identifiers are constants or checked column names; values are parameters
                f"JOIN {REFS} f ON f.ref = h.customer_ref WHERE f.customer_id IS NULL"
            )
            while batch := cursor.fetchmany(10000):
                for line, ref, matches in batch:
                    if matches > 1:
                        reason = _('customer_ref "%(ref)s" matches several customers') % {"ref": ref}
                    else:
                        reason = _('customer_ref "%(ref)s" matches no customer') % {"ref": ref}
                    self.errors.add(line, reason)

    def collect_orders(self) -> None:
        """One row per order number (from its first row), with its customer and whether it exists."""
        cursor = self.cursor
        exists = (
            f"EXISTS (SELECT 1 FROM {Order._meta.db_table} o WHERE o.source = '' AND o.order_number = h.order_number)"  # nosec B608 - identifiers are constants or checked column names; values are parameters
        )
        select = (
            f"SELECT h.line, h.order_number, h.customer_ref, f.customer_id, h.placed_at, h.status, h.channel, "  # nosec B608 - identifiers are constants or checked column names; values are parameters
            f"h.currency, h.total, {exists} AS existing, h.order_uuid "
            f"FROM {STAGE} h LEFT JOIN {REFS} f ON f.ref = h.customer_ref "
            f"WHERE h.placed_at IS NOT NULL "
            f"AND h.line IN (SELECT MIN(line) FROM {STAGE} WHERE placed_at IS NOT NULL GROUP BY order_number) "
            f"ORDER BY h.line"
        )
        if self.postgres:
            # The ids are drawn now, in file order, so that the lines can join on this
            # small table; OFFSET 0 keeps the EXISTS from being evaluated twice.
            cursor.execute(
                f"CREATE TEMPORARY TABLE {ORDERS} AS SELECT x.*, "  # nosec B608 - identifiers are constants or checked column names; values are parameters
                f"CASE WHEN NOT x.existing THEN nextval(pg_get_serial_sequence(%s, 'id')) END AS id "
                f"FROM ({select} OFFSET 0) x",
                [Order._meta.db_table],
            )
            orders = cursor.rowcount
            cursor.execute(f"ANALYZE {ORDERS} (order_number, customer_id, existing)")
        else:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {ORDERS} AS SELECT x.*, CAST(NULL AS integer) AS id FROM ({select}) x"  # nosec B608 - identifiers are constants or checked column names; values are parameters
            )
            cursor.execute(f"CREATE UNIQUE INDEX {ORDERS}_number ON {ORDERS} (order_number)")
            cursor.execute(f"SELECT COUNT(*) FROM {ORDERS}")  # sqlite3 does not count CREATE TABLE AS  # nosec B608 - identifiers are constants or checked column names; values are parameters
            orders = cursor.fetchone()[0]
        if self.heads > orders:
            self.report_disagreeing_runs()
        cursor.execute(f"SELECT COUNT(*) FROM {ORDERS} WHERE existing")  # nosec B608 - identifiers are constants or checked column names; values are parameters
        self.result.skipped = cursor.fetchone()[0]
        self.result.created = orders - self.result.skipped

    def report_disagreeing_runs(self) -> None:
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
            f"FROM {STAGE} h JOIN {ORDERS} o ON o.order_number = h.order_number "
            f"JOIN {STAGE} r ON r.run_head = h.line "
            f"WHERE h.placed_at IS NOT NULL AND h.line <> o.line AND ({' OR '.join(differs.values())})"
        )
        while batch := self.cursor.fetchmany(10000):
            for line, number, first_line, *flags in batch:
                names = [name for name, flag in zip(differs, flags) if flag]
                self.errors.add(line, differs_message(number, first_line, names))
