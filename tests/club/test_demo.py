"""The club's step of seed_demo: members with a ledger consistent with their orders."""

import pytest

from club import services
from club.models import Coupon, EarningRule, Membership, Offer, PointsTransaction, Tier
from core.demo import seed_demo
from crm.models import Customer

pytestmark = pytest.mark.django_db


def test_the_demo_gives_most_customers_a_consistent_membership():
    counts = seed_demo(customers=150, seed=7)
    members = Membership.objects.count()
    assert counts["club_members"] == members
    assert 0.45 * Customer.objects.count() <= members <= 0.75 * Customer.objects.count()
    assert list(Tier.objects.values_list("name", flat=True)) == ["Bronze", "Silver", "Gold", "Platinum"]
    assert EarningRule.objects.filter(kind="event", event_name="social_share").exists()
    assert Offer.objects.exists()
    assert list(services.points_verify_balances()) == []
    assert not Membership.objects.filter(points_balance__lt=0).exists()
    earned_orders = PointsTransaction.objects.filter(kind="earn", source="order")
    assert earned_orders.exists()
    assert not earned_orders.filter(order__status="cancelled").exists()
    for coupon in Coupon.objects.filter(points_transaction__isnull=False)[:5]:
        assert coupon.points_transaction.points == -coupon.offer.points_cost
