"""Shared set-up of the integrity tests: a club with one tier, a purchase rule and two offers."""

import os
from decimal import Decimal

import pytest

from club.models import EarningRule, Offer, Tier

# The same examples on every run, so a red build is reproducible and a green one stays green;
# HYPOTHESIS_EXPLORE=1 draws new ones (how the ledger machine found expired points being reversed).
DERANDOMIZE = not os.environ.get("HYPOTHESIS_EXPLORE")


@pytest.fixture
def club(db):
    return {
        "tier": Tier.objects.create(name="Bronze", rank=1, threshold=0, birthday_discount_value=Decimal("10")),
        "rule": EarningRule.objects.create(name="1 point per unit", kind=EarningRule.Kind.PURCHASE, points_per_unit=Decimal("1")),
        "cheap": Offer.objects.create(title="Free coffee", kind=Offer.Kind.GIFT, points_cost=50),
        "dear": Offer.objects.create(title="20% off", kind=Offer.Kind.PERCENT, value=Decimal("20"), points_cost=300),
    }
