"""Shared set-up of the integrity tests: a club with one tier, a purchase rule and two offers."""

from decimal import Decimal

import pytest

from club.models import Offer
from tests.factories import EarningRuleFactory, OfferFactory, TierFactory


@pytest.fixture
def club(db):
    return {
        "tier": TierFactory(name="Bronze", rank=1, threshold=0, birthday_discount_value=Decimal("10")),
        "rule": EarningRuleFactory(),
        "cheap": OfferFactory(title="Free coffee", kind=Offer.Kind.GIFT, value=Decimal("0"), points_cost=50),
        "dear": OfferFactory(title="20% off", kind=Offer.Kind.PERCENT, value=Decimal("20"), points_cost=300),
    }
