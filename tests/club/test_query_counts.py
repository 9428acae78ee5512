"""Query counts pinned on the club's main write paths, so an N+1 cannot creep in.

Each path runs with a small and a larger input (order lines, earlier ledger rows) and
must take exactly the same number of queries. Work queued for after the commit (signals
to webhooks and messages) belongs to its receivers and is not counted here.
"""

from decimal import Decimal

import pytest
from django.db import connection

from club import services
from club.models import Coupon, EarningRule, Offer
from crm.services import LineInput
from tests.club.helpers import give_points

pytestmark = pytest.mark.django_db

# Measured on SQLite and PostgreSQL alike (savepoints included). A change here means a path
# now runs more (or fewer) statements: check it does not grow with the input before updating.
# The comments list the statements besides SAVEPOINT/RELEASE, which each atomic block adds in pairs.
# A batch of orders (club.services.purchases), whatever its size: the rules, the orders with their members
# (locked), the keys already paid, the lines, the ledger rows, the balances, the tiers, the qualifying values.
AWARD_FOR_ORDERS = 8
# On PostgreSQL the keys, the lines and the ledger rows are one INSERT ... SELECT (club.services.purchase_sql).
AWARD_FOR_ORDERS_IN_SQL = 6
SPEND = 8  # lock, key check, ledger row, balance
# key check, lock, offer, key check, payment row, balance, the offer's total limit, coupon key check,
# coupon, coupon history
OFFER_REDEEM = 18
COUPON_REDEEM = 5  # coupon and its member, the claim, the redemption row
# member, lines, lock, pending rows, earnings, what is left of the earning, key check, reverse row, balance
REVERSE_LINES = 13
REVERSE_ALL = 12  # the same without checking the named lines


def lines(count: int) -> list[LineInput]:
    """`count` lines of 2 x 20: even 5 lines earn less than the next tier, so no upgrade adds its queries."""
    return [
        LineInput(sku=f"SKU-{index}", product_name=f"Product {index}", category="coffee", quantity=2, unit_price=Decimal("20"))
        for index in range(count)
    ]


@pytest.fixture
def member_with_history(member):
    """A member with a few ledger rows already, so a query per earlier row would show."""
    for points in (100, 200, 300):
        give_points(member, points)
    return member


@pytest.mark.parametrize(("order_count", "line_count"), [(1, 1), (1, 5), (6, 5)])
def test_awarding_a_batch_of_orders_points_takes_a_fixed_number_of_queries(
    member_with_history, make_member, purchase_rule, place_order, django_assert_num_queries, order_count, line_count
):
    # The orders are placed while the rule is off, so the award under test is the first one.
    EarningRule.objects.filter(pk=purchase_rule.pk).update(enabled=False)
    customers = [member_with_history.customer] + [make_member().customer for _index in range(order_count - 1)]
    orders = [place_order(customer, days_ago=0, total=str(40 * line_count), lines=lines(line_count)) for customer in customers]
    EarningRule.objects.filter(pk=purchase_rule.pk).update(enabled=True)
    with django_assert_num_queries(AWARD_FOR_ORDERS_IN_SQL if connection.vendor == "postgresql" else AWARD_FOR_ORDERS):
        rows = services.points_award_for_orders(order_ids=[order.pk for order in orders])
    assert [row.points for row in rows] == [40 * line_count] * order_count


@pytest.mark.parametrize("earlier_spends", [0, 4])
def test_spending_points_takes_a_fixed_number_of_queries(member_with_history, django_assert_num_queries, earlier_spends):
    for index in range(earlier_spends):
        services.points_spend(member=member_with_history, points=1, reason="till", idempotency_key=f"earlier-{index}")
    with django_assert_num_queries(SPEND):
        services.points_spend(member=member_with_history, points=50, reason="till", idempotency_key="till-1")


@pytest.mark.parametrize("earlier_coupons", [0, 4])
def test_redeeming_an_offer_takes_a_fixed_number_of_queries(
    member_with_history, offer, django_assert_num_queries, earlier_coupons
):
    for _index in range(earlier_coupons):
        services.offer_redeem(member=member_with_history, offer=offer)
    with django_assert_num_queries(OFFER_REDEEM):
        coupon = services.offer_redeem(member=member_with_history, offer=offer, idempotency_key="till-1")
    assert coupon.points_transaction.points == -offer.points_cost


@pytest.mark.parametrize("other_coupons", [0, 4])
def test_redeeming_a_coupon_takes_a_fixed_number_of_queries(member_with_history, django_assert_num_queries, other_coupons):
    issue = dict(member=member_with_history, kind=Coupon.Kind.OFFER, discount_kind=Offer.Kind.PERCENT, value=Decimal("10"))
    for _index in range(other_coupons):
        services.coupon_issue(**issue)
    coupon = services.coupon_issue(**issue)
    customer = member_with_history.customer
    with django_assert_num_queries(COUPON_REDEEM):
        redemption = services.coupon_redeem(code=coupon.code, order_value="80.00", customer=customer)
    assert redemption.discount == Decimal("8.00")


@pytest.mark.parametrize("line_count", [1, 5])
def test_reversing_an_order_s_points_takes_a_fixed_number_of_queries(
    member_with_history, place_order, django_assert_num_queries, line_count
):
    order = place_order(member_with_history.customer, days_ago=0, total=str(40 * line_count), lines=lines(line_count))
    wanted = {line.pk: 1 for line in order.lines.all()}
    with django_assert_num_queries(REVERSE_LINES):
        rows = services.points_reverse_for_order(order=order, lines=wanted)
    assert [row.points for row in rows] == [-20 * line_count]
    with django_assert_num_queries(REVERSE_ALL):
        rows = services.points_reverse_for_order(order=order)
    assert [row.points for row in rows] == [-20 * line_count]


