"""The purchase earning in SQL (club.services.purchase_sql, PostgreSQL) gives exactly what the Python
road (SQLite's) gives: the same ledger or pending rows, to the point and the per-line JSON, the same
balances and the same tier changes, on a varied batch (tiers, discounts, categories, orders without
priced lines, minimums, windows, limits, members who joined late or left)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from club.models import EarningRule, Membership, PendingPoints, PointsTransaction, TierChange
from club.services import order_points, purchases
from crm.services import LineInput
from tests.factories.club import EarningRuleFactory

pytestmark = pytest.mark.django_db

Rule = EarningRule


def test_a_line_earns_the_exact_floor_of_its_share(member):
    # 10 over one line of 3: floor(3 x 10 / 3) is 10, where a rounded scale (3.333...) would give 9.
    lines = [{"pk": 1, "order_id": 1, "quantity": 1, "unit_price": Decimal("3"), "category": ""}]
    assert order_points(total=Decimal("10"), lines=lines, rule=Rule(points_per_unit=Decimal("1"), apply_tier_multiplier=False),
                        member=member) == (10, {"1": {"quantity": 1, "points": 10}})


def _line(sku, category, quantity, price):
    return LineInput(sku=sku, product_name=sku, category=category, quantity=quantity, unit_price=Decimal(price))


@pytest.fixture
def batch(tiers, member, make_member, purchase_rule, place_order):
    """Orders of a dozen kinds for members in every tier, placed while every rule is off; then the rules on."""
    now = timezone.now()
    once = EarningRuleFactory(name="first order", points_per_unit=Decimal("0.37"), limit=Rule.Limit.ONCE,
                              category_multipliers={"tea": 3})
    # The member has used the once-rule already: an earlier order earned under it.
    place_order(member.customer, days_ago=3, total="10.00")
    rules = [
        purchase_rule, once,
        EarningRuleFactory(name="coffee", points_per_unit=Decimal("2.5"), apply_tier_multiplier=False,
                           category_multipliers={"coffee": 2, "tea": 1.5, "mugs": "0.25"}, min_order_value=Decimal("50")),
        EarningRuleFactory(name="twice a day", points_per_unit=Decimal("0.10"), limit=Rule.Limit.PER_DAY, limit_count=2),
        EarningRuleFactory(name="period", points_per_unit=Decimal("1.11"), limit=Rule.Limit.PER_PERIOD, limit_count=3,
                           limit_period_days=7),
        EarningRuleFactory(name="since yesterday", points_per_unit=Decimal("3"), starts_at=now - timedelta(days=1)),
        EarningRuleFactory(name="ended", points_per_unit=Decimal("7"), ends_at=now - timedelta(days=2),
                           starts_at=now - timedelta(days=400)),
    ]
    EarningRule.objects.update(enabled=False)
    silver, gold, plain = make_member(), make_member(), make_member()
    Membership.objects.filter(pk=silver.pk).update(tier=tiers["silver"])
    Membership.objects.filter(pk=gold.pk).update(tier=tiers["gold"], points_balance=1900)
    Membership.objects.filter(pk=plain.pk).update(tier=None)
    late, left = make_member(), make_member()
    Membership.objects.filter(pk=late.pk).update(joined_at=now - timedelta(hours=1))
    Membership.objects.filter(pk=left.pk).update(status=Membership.Status.LEFT)
    mixed = [_line("BEANS", "coffee", 3, "33.33"), _line("TEA", "tea", 1, "10.01"), _line("MUG", "mugs", 2, "7.77"),
             _line("BAG", "", 1, "0.99")]
    orders = []
    for customer in (member.customer, silver.customer, gold.customer, plain.customer):
        orders += [
            place_order(customer, days_ago=0, total="97.77", lines=mixed),  # a discount spread over the lines
            place_order(customer, days_ago=0.5, total="123.45"),  # no lines
            place_order(customer, days_ago=0, total="10.00", lines=[_line("FREE", "coffee", 2, "0")]),  # nothing priced
            place_order(customer, days_ago=3, total="49.99", lines=[_line("TEA", "tea", 7, "7.14")]),
            place_order(customer, days_ago=0, total="1000.01", lines=[_line("BEANS", "coffee", 1, "1000.01")]),
            place_order(customer, days_ago=5, total="0.09", lines=[_line("BAG", "", 3, "0.03")]),
            place_order(customer, days_ago=0, total="300", status="cancelled"),
        ]
    orders += [place_order(late.customer, days_ago=0.5, total="500"), place_order(late.customer, days_ago=0, total="500"),
               place_order(left.customer, days_ago=0, total="500")]
    EarningRule.objects.update(enabled=True)
    return [order.pk for order in orders], rules


def _award(ids, in_sql):
    """What the batch earns on one road, rolled back afterwards: rows, balances and tier changes."""
    rules = list(EarningRule.objects.filter(kind=Rule.Kind.PURCHASE, enabled=True).order_by("-created_at", "-pk"))
    with transaction.atomic():
        point = transaction.savepoint()
        before = set(TierChange.objects.values_list("pk", flat=True))
        returned = purchases._award_purchases(ids, rules, new=False, in_sql=in_sql)
        fields = ("member_id", "order_id", "rule_id", "points", "lines", "idempotency_key")
        ledger = sorted(PointsTransaction.objects.filter(order_id__in=ids).values_list(
            *fields, "kind", "source", "reason", "shortfall", "audit_source"), key=lambda row: row[5])
        pending = sorted(PendingPoints.objects.filter(order_id__in=ids).values_list(*fields, "status", "reason"),
                         key=lambda row: row[5])
        members = sorted(Membership.objects.values_list("pk", "points_balance", "pending_points", "tier_id"))
        changes = sorted(TierChange.objects.exclude(pk__in=before).values_list("member_id", "from_tier_id", "to_tier_id", "reason"))
        summary = sorted((row.member_id, row.order_id, row.rule_id, row.points, row.idempotency_key) for row in returned)
        transaction.savepoint_rollback(point)
    return {"ledger": ledger, "pending": pending, "members": members, "changes": changes, "returned": summary}


@pytest.mark.postgres
@pytest.mark.parametrize("pending_days", [0, 14])
def test_the_sql_earning_equals_the_python_one(batch, settings, pending_days):
    if connection.vendor != "postgresql":
        pytest.skip("the earning in SQL is PostgreSQL's")
    settings.CLUB_PENDING_DAYS = pending_days
    ids, _rules = batch
    in_python = _award(ids, in_sql=False)
    in_sql = _award(ids, in_sql=True)
    assert in_python["ledger" if not pending_days else "pending"], "the batch earns"
    assert in_python["changes"] or pending_days, "the batch moves tiers (pending points do not)"
    assert in_sql == in_python


@pytest.mark.postgres
def test_a_replayed_batch_earns_nothing_twice_in_sql(batch):
    if connection.vendor != "postgresql":
        pytest.skip("the earning in SQL is PostgreSQL's")
    ids, rules = batch
    rules = list(EarningRule.objects.filter(kind=Rule.Kind.PURCHASE, enabled=True).order_by("-created_at", "-pk"))
    first = purchases._award_purchases(ids, rules, new=False, in_sql=True)
    assert first
    # The first award moved tiers, so an order that earned nothing under a tier-multiplied rule may earn
    # now; what was paid is never paid again.
    second = purchases._award_purchases(ids, rules, new=False, in_sql=True)
    assert not {row.idempotency_key for row in first} & {row.idempotency_key for row in second}
    balances = dict(Membership.objects.values_list("pk", "points_balance"))
    assert purchases._award_purchases(ids, rules, new=False, in_sql=True) == []
    # Even told the orders are new (the key look-up skipped), the unique keys leave the ledger as it was.
    assert purchases._award_purchases(ids, rules, new=True, in_sql=True) == []
    assert dict(Membership.objects.values_list("pk", "points_balance")) == balances
    assert PointsTransaction.objects.filter(order_id__in=ids).count() == len(first) + len(second)
