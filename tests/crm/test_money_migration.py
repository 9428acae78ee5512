"""crm 0013 widens the money columns under the order's generated columns: from the previous state,
existing orders keep their amounts and their generated net total and counted flag, and the wider
columns then hold what the old ones could not."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("crm", "0012_interaction_public_id"), ("club", "0005_audit_source")]
AFTER = [("crm", "0013_money_bounds"), ("club", "0006_money_and_points_bounds")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_it_keeps_existing_orders_and_their_generated_figures_and_then_holds_rial_totals():
    old = migrate(BEFORE)
    try:
        Customer, Order = old.get_model("crm", "Customer"), old.get_model("crm", "Order")
        customer = Customer.objects.create(first_name="Sara", email="sara@example.com")
        placed = timezone.now()
        Order.objects.create(customer=customer, order_number="OLD-1", placed_at=placed, total=Decimal("120.50"),
                             refunded_amount=Decimal("20.25"))
        Order.objects.create(customer=customer, order_number="OLD-2", placed_at=placed, total=Decimal("10.00"),
                             status="cancelled")

        new = migrate(AFTER)

        Order = new.get_model("crm", "Order")
        assert sorted(Order.objects.values_list("order_number", "total", "net_total", "is_counted")) == [
            ("OLD-1", Decimal("120.50"), Decimal("100.25"), True),  # 120.50 - 20.25
            ("OLD-2", Decimal("10.00"), Decimal("10.00"), False),
        ]
        # 10^13 did not fit in 14 digits with 2 decimals (< 10^12); it does now.
        Order.objects.filter(order_number="OLD-1").update(total=Decimal("10000000000000.00"))
        assert Order.objects.get(order_number="OLD-1").net_total == Decimal("9999999999979.75")  # 10^13 - 20.25
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # the rest of the suite needs the latest schema
