"""The earning rules and tiers every order reads, remembered for CLUB_CONFIG_CACHE_SECONDS (club.selectors.config_rows):
fewer queries per order, and a manager's edit counts from the next order."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from club.models import PointsTransaction, TierChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def remembered(settings):
    settings.CLUB_CONFIG_CACHE_SECONDS = 3600
    cache.clear()
    yield
    cache.clear()


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def test_an_order_reads_the_rules_and_tiers_once_for_all_later_orders(member, place_order, remembered, settings):
    place_order(member.customer)  # the first order reads them
    remembered_cost = _queries(lambda: place_order(member.customer))
    settings.CLUB_CONFIG_CACHE_SECONDS = 0
    read_each_time = _queries(lambda: place_order(member.customer))
    assert read_each_time - remembered_cost == 2  # the rules and the tiers
    assert PointsTransaction.objects.filter(member=member, kind="earn").count() == 3


def test_a_rule_changed_or_disabled_counts_from_the_next_order(member, purchase_rule, place_order, remembered):
    place_order(member.customer, total="100.00")
    purchase_rule.points_per_unit = Decimal("3")
    purchase_rule.save()
    place_order(member.customer, total="100.00")
    purchase_rule.enabled = False
    purchase_rule.save()
    place_order(member.customer, total="100.00")
    assert list(PointsTransaction.objects.filter(member=member).order_by("pk").values_list("points", flat=True)) == [100, 300]


def test_a_tier_changed_counts_from_the_next_order(member, tiers, place_order, remembered):
    place_order(member.customer, total="100.00")
    tiers["silver"].threshold = 150
    tiers["silver"].save()
    place_order(member.customer, total="100.00")  # 200 points earned in the window: Silver now
    assert TierChange.objects.filter(member=member, to_tier=tiers["silver"]).exists()
