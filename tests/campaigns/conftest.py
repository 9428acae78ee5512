from decimal import Decimal

import pytest

from campaigns import sms
from club.models import Offer
from tests.campaigns.helpers import make_customer
from tests.factories import EarningRuleFactory, OfferFactory, TierFactory


@pytest.fixture(autouse=True)
def campaign_settings(campaign_settings):
    """Every campaign test sends to memory (the project-wide fixture, on for each test here)."""
    return campaign_settings


@pytest.fixture
def sms_outbox():
    return sms.LocmemBackend.outbox


@pytest.fixture
def customers(db):
    return make_customer


@pytest.fixture
def club(db):
    """A tier ladder, a purchase rule and an offer, for personalisation and coupons."""
    tiers = {
        "bronze": TierFactory(name="Bronze", rank=1, threshold=0, birthday_discount_value=Decimal("10")),
        "gold": TierFactory(name="Gold", rank=3, threshold=2000, counts_as_loyal=True),
    }
    EarningRuleFactory()
    offer = OfferFactory(title="15% off everything", kind=Offer.Kind.PERCENT, value=Decimal("15"), points_cost=0)
    return {"tiers": tiers, "offer": offer}
