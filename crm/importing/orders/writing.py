"""The writes of an order import, once every row is known to be good: products, orders,
lines and the customers' derived figures, each one set-based statement over the staged
rows (crm.importing.orders.staging)."""

from collections.abc import Iterator

from django.conf import settings

from core.batches import whole_groups
from crm.importing.orders.staging import ORDERS, STAGE
from crm.models import Order, OrderLine, Product
from crm.services import customers_recount_grouped, orders_announce


class WritingSteps:
    """Part of crm.importing.orders.importer.OrderImport (its cursor, result and clock)."""

    def create_products(self) -> None:
        """The catalogue builds itself from what is sold: unknown SKUs become products."""
        skip_existing = f"AND s.order_number NOT IN (SELECT order_number FROM {ORDERS} WHERE existing)"  # nosec B608 - identifiers are constants or checked column names; values are parameters
        self.cursor.execute(
            f"INSERT INTO {Product._meta.db_table} (sku, name, category, created_at) "  # nosec B608 - identifiers are constants or checked column names; values are parameters
            f"SELECT r.sku, COALESCE(r.product_name, r.sku), COALESCE(r.category, ''), %s FROM {STAGE} r "
            f"WHERE r.line IN (SELECT MIN(s.line) FROM {STAGE} s WHERE s.sku IS NOT NULL "
            f"{skip_existing if self.result.skipped else ''} GROUP BY s.sku) "
            f"ON CONFLICT (sku) DO NOTHING",
            [self.db_datetime(self.now)],
        )
        self.result.details["products_created"] = max(self.cursor.rowcount, 0)

    def insert_orders(self) -> None:
        if not self.result.created:
            return
        now = self.db_datetime(self.now)
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
                f"SELECT id, order_uuid, {values} FROM {ORDERS} WHERE NOT existing",  # in id order already
                [now, now],
            )
        else:
            self.cursor.execute(
                f"INSERT INTO {Order._meta.db_table} (public_id, {columns}) "  # nosec B608 - identifiers are constants or checked column names; values are parameters
                f"SELECT order_uuid, {values} FROM {ORDERS} WHERE NOT existing ORDER BY line",
                [now, now],
            )
            self.cursor.execute(
                f"UPDATE {ORDERS} SET id = (SELECT o.id FROM {Order._meta.db_table} o "  # nosec B608 - identifiers are constants or checked column names; values are parameters
                f"WHERE o.source = '' AND o.order_number = {ORDERS}.order_number) WHERE NOT existing"
            )

    def insert_lines(self) -> None:
        if not self.result.created:
            self.result.details["lines_created"] = 0
            return
        self.cursor.execute(
            f"INSERT INTO {OrderLine._meta.db_table} "  # nosec B608 - identifiers are constants or checked column names; values are parameters
            f"(public_id, order_id, product_id, sku, product_name, category, quantity, unit_price) "
            f"SELECT r.line_uuid, o.id, p.id, COALESCE(r.sku, ''), COALESCE(r.product_name, ''), "
            f"COALESCE(r.category, p.category, ''), r.quantity, r.unit_price "
            f"FROM {STAGE} r JOIN {ORDERS} o ON o.order_number = r.order_number "
            f"LEFT JOIN {Product._meta.db_table} p ON p.sku = r.sku "
            f"WHERE r.unit_price IS NOT NULL AND NOT o.existing ORDER BY r.line"
        )
        self.result.details["lines_created"] = max(self.cursor.rowcount, 0)

    def refresh_customer_stats(self) -> None:
        """The derived figures of the customers who got orders, as one statement over their counted orders
        (crm.services.customers_recount_grouped). A customer whose new orders are not counted keeps figures the
        import did not change."""
        if not self.result.created:
            return
        customers_recount_grouped(customer_ids_sql=f"SELECT customer_id FROM {ORDERS} WHERE NOT existing")  # nosec B608 - a constant table name

    def announce_orders(self) -> None:
        """The event every road for orders ends with (crm.services.orders_announce), so imported orders
        earn points, move tiers and reach the partners' webhooks as the API's do. A chunk of whole customers at a
        time (core.batches.whole_groups: at most CRM_IMPORT_BATCH_SIZE orders, a customer with more being a chunk of
        its own), so that neither this nor the club's set-based handling grows with the file, and each member is
        locked, credited and reviewed once per import, all its orders earning in id order together (chunks of ids
        would touch every member of a shop in every chunk)."""
        if not self.result.created:
            return
        self.cursor.execute(f"CREATE INDEX {ORDERS}_customer ON {ORDERS} (customer_id, id)")
        for ids in whole_groups(self._new_orders_by_customer(), settings.CRM_IMPORT_BATCH_SIZE):
            orders_announce(order_ids=sorted(ids), source="")

    def _new_orders_by_customer(self) -> Iterator[tuple[int, int]]:
        """(customer id, order id) of the new orders, by customer then id, read a page at a time (keyset)."""
        after = (0, 0)
        while True:
            self.cursor.execute(
                f"SELECT customer_id, id FROM {ORDERS} WHERE id IS NOT NULL "  # nosec B608 - identifiers are constants; values are parameters
                "AND (customer_id > %s OR (customer_id = %s AND id > %s)) ORDER BY customer_id, id LIMIT %s",
                [after[0], after[0], after[1], settings.CRM_IMPORT_BATCH_SIZE],
            )
            page = self.cursor.fetchall()
            if not page:
                return
            yield from page
            after = page[-1]
