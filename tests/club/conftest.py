from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from club import services
from club.models import EarningRule, Offer, Tier
from crm.services import LineInput
from tests.factories import CustomerFactory


@pytest.fixture
def tiers(db):
    """Bronze (entry) < Silver (500) < Gold (2000, exclusive, loyal) < Platinum (5000)."""
    return {
        "bronze": Tier.objects.create(name="Bronze", rank=1, threshold=0, birthday_discount_value=Decimal("10")),
        "silver": Tier.objects.create(name="Silver", rank=2, threshold=500, points_multiplier=Decimal("1.25"),
                                      birthday_discount_value=Decimal("15")),
        "gold": Tier.objects.create(name="Gold", rank=3, threshold=2000, points_multiplier=Decimal("1.5"),
                                    birthday_discount_value=Decimal("20"), exclusive_offers=True, counts_as_loyal=True),
        "platinum": Tier.objects.create(name="Platinum", rank=4, threshold=5000, points_multiplier=Decimal("2"),
                                        birthday_discount_kind="fixed", birthday_discount_value=Decimal("50"),
                                        exclusive_offers=True, counts_as_loyal=True),
    }


@pytest.fixture
def purchase_rule(db):
    return EarningRule.objects.create(name="1 point per unit", kind=EarningRule.Kind.PURCHASE, points_per_unit=Decimal("1"))


@pytest.fixture
def member(customer, tiers, purchase_rule):
    return services.member_enroll(customer=customer)


@pytest.fixture
def make_member(tiers, purchase_rule):
    def make(**customer_fields):
        return services.member_enroll(customer=CustomerFactory(**customer_fields))

    return make


@pytest.fixture
def offer(tiers):
    return Offer.objects.create(title="10% off", kind=Offer.Kind.PERCENT, value=Decimal("10"), points_cost=100)


@pytest.fixture
def order_with_lines(place_order):
    """Two lines: 2 x beans at 100 and 1 x mug at 100 (total 300)."""

    def place(customer, **kwargs):
        kwargs.setdefault("total", "300.00")
        kwargs.setdefault("days_ago", 0)
        lines = [
            LineInput(sku="BEANS", product_name="Beans", category="coffee", quantity=2, unit_price=Decimal("100")),
            LineInput(sku="MUG", product_name="Mug", category="kitchen", quantity=1, unit_price=Decimal("100")),
        ]
        return place_order(customer, lines=lines, **kwargs)

    return place


def give_points(member, points: int):
    return services.points_adjust(member=member, points=points, reason="test credit", by=None)


def ledger_sum(member) -> int:
    return sum(member.transactions.values_list("points", flat=True))


def local(*args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(timezone.get_current_timezone_name()))


def days(n: int) -> timedelta:
    return timedelta(days=n)
