"""Query counts pinned on crm's main write paths, so an N+1 cannot creep in.

An order is placed with one line and with five, and must take exactly the same number of queries.
Work queued for after the commit (webhooks, messages, invitations) belongs to its receivers and is
not counted here, and which webhook events have subscribers is already remembered. The counts
include the SAVEPOINT/RELEASE pairs of each atomic block and are the same on SQLite and PostgreSQL, but for
the club's award, one statement fewer on PostgreSQL.
"""

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.utils import timezone

from club.models import PointsTransaction
from crm import services
from crm.importing import import_customers
from crm.models import Customer, Interaction
from crm.services import LineInput
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_subscribers_remembered")]

# A change here means a path now runs more (or fewer) statements: check it does not grow with the
# input before updating. The comments list the statements besides SAVEPOINT/RELEASE.
# A batch of orders (crm.services.orders_create), one order or many: the order numbers already stored, SAVEPOINT,
# the orders, products (insert, read back), lines, customer figures; the club's rules (no member earns)
ORDER_NON_MEMBER = 9
# the same, plus the club's award (club.services.purchases): the orders with their members (locked),
# the lines, the ledger rows, the balances, the tiers, the qualifying values. The bound: 15.
ORDER_MEMBER = 15
# On PostgreSQL the lines and the ledger rows are one INSERT ... SELECT (club.services.purchase_sql).
ORDER_MEMBER_IN_SQL = 14
# public id and email unique checks, two CHECK constraints, customer, its history row, tags (insert,
# read back, current, add), the consent (current value, update, change row)
CUSTOMER_CREATE = 21
IMPORT_CUSTOMERS = 5  # existing customers by key, one insert, one insert of the consent changes
INTERACTION_LOG = 7  # customer and staff exist, the public id is unique (full_clean), the row, the support survey to invite to


def lines(count: int) -> list[LineInput]:
    """`count` lines of 2 x 20: even five earn less than the next tier, so no upgrade adds its queries."""
    return [
        LineInput(sku=f"SKU-{index}", product_name=f"Product {index}", category="coffee", quantity=2, unit_price=Decimal("20"))
        for index in range(count)
    ]


def place(customer, line_count: int):
    return services.order_create(customer=customer, order_number=f"Q-{line_count}", placed_at=timezone.now() - timedelta(hours=1),
                                 total=str(40 * line_count), lines=lines(line_count))


@pytest.mark.parametrize("line_count", [1, 5])
def test_placing_a_non_member_s_order_takes_a_fixed_number_of_queries(django_assert_num_queries, line_count):
    customer = CustomerFactory()
    with django_assert_num_queries(ORDER_NON_MEMBER):
        order = place(customer, line_count)
    assert order.lines.count() == line_count


@pytest.mark.parametrize("line_count", [1, 5])
def test_placing_a_member_s_order_with_a_purchase_rule_takes_a_fixed_number_of_queries(
    member, purchase_rule, django_assert_num_queries, line_count
):
    customer = member.customer
    with django_assert_num_queries(ORDER_MEMBER_IN_SQL if connection.vendor == "postgresql" else ORDER_MEMBER):
        order = place(customer, line_count)
    assert PointsTransaction.objects.get(order=order).points == 40 * line_count


@pytest.mark.parametrize("order_count", [1, 8])
def test_a_batch_of_members_orders_takes_as_many_queries_as_one_order(
    make_member, purchase_rule, django_assert_num_queries, order_count
):
    customers = [make_member().customer for _index in range(order_count)]
    batch = [
        services.OrderInput(customer_id=customer.pk, order_number=f"B-{index}", placed_at=timezone.now() - timedelta(hours=1),
                            total=Decimal("80"), lines=tuple(lines(2)))
        for index, customer in enumerate(customers)
    ]
    with django_assert_num_queries(ORDER_MEMBER_IN_SQL if connection.vendor == "postgresql" else ORDER_MEMBER):
        orders = services.orders_create(orders=batch)
    assert [PointsTransaction.objects.get(order=order).points for order in orders] == [80] * order_count


def test_creating_a_customer_with_consent_and_tags_takes_a_fixed_number_of_queries(django_assert_num_queries):
    with django_assert_num_queries(CUSTOMER_CREATE):
        customer = services.customer_create(first_name="Sara", email="sara@example.com", email_opt_in=True,
                                            tags=["vip", "coffee"])
    assert customer.email_opt_in and customer.tags.count() == 2


@pytest.mark.parametrize("rows", [1, 3])
def test_importing_customers_takes_a_fixed_number_of_queries(django_assert_num_queries, rows):
    csv = "email,first_name,city,email_opt_in\n" + "".join(f"c{n}@example.com,Sara,Tehran,yes\n" for n in range(rows))
    with django_assert_num_queries(IMPORT_CUSTOMERS):
        import_customers(BytesIO(csv.encode()))
    assert Customer.objects.filter(email_opt_in=True).count() == rows


def test_logging_an_interaction_takes_a_fixed_number_of_queries(customer, support_user, django_assert_num_queries):
    with django_assert_num_queries(INTERACTION_LOG):
        interaction = services.interaction_log(customer=customer, subject="Where is my order?", staff=support_user)
    assert interaction.status == Interaction.Status.RESOLVED
