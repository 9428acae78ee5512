"""Factories for the club's models.

A membership, a coupon and a ledger row each carry an invariant (a unique member number, an
unguessable coupon code, a balance that is the sum of the ledger), so their factories go through
club.services; tiers, earning rules and offers are configuration rows and are made directly.
"""

from decimal import Decimal

import factory

from club import services
from club.models import Coupon, EarningRule, Membership, Offer, PointsTransaction, Tier
from tests.factories.crm import CustomerFactory


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Tier {n}")
    rank = factory.Sequence(lambda n: n + 1)
    threshold = Decimal("0")
    birthday_discount_value = Decimal("10")


class EarningRuleFactory(factory.django.DjangoModelFactory):
    """One point per unit spent; `kind=EarningRule.Kind.SIGNUP, points=50` and so on for the others."""

    class Meta:
        model = EarningRule

    name = "1 point per unit"
    kind = EarningRule.Kind.PURCHASE
    points_per_unit = Decimal("1")


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    title = "10% off"
    kind = Offer.Kind.PERCENT
    value = Decimal("10")
    points_cost = 100


class MembershipFactory(factory.django.DjangoModelFactory):
    """A member enrolled through club.services.member_enroll: a member number, the entry tier (when
    there are tiers), the signup bonus (when that rule is on)."""

    class Meta:
        model = Membership

    customer = factory.SubFactory(CustomerFactory)
    source = "admin"

    @classmethod
    def _create(cls, model_class, *args, customer, source, by=None, **kwargs):
        if kwargs:
            raise TypeError(f"MembershipFactory goes through member_enroll, which sets {', '.join(kwargs)} itself")
        return services.member_enroll(customer=customer, source=source, by=by)


class PointsTransactionFactory(factory.django.DjangoModelFactory):
    """A ledger row appended through club.services.points_adjust (positive or negative), so the
    member's cached balance follows."""

    class Meta:
        model = PointsTransaction

    member = factory.SubFactory(MembershipFactory)
    points = 100
    reason = "test credit"

    @classmethod
    def _create(cls, model_class, *args, by=None, **kwargs):
        return services.points_adjust(by=by, **kwargs)


class CouponFactory(factory.django.DjangoModelFactory):
    """A coupon issued through club.services.coupon_issue (a unique code, a valid expiry)."""

    class Meta:
        model = Coupon

    member = factory.SubFactory(MembershipFactory)
    kind = Coupon.Kind.CAMPAIGN
    discount_kind = Offer.Kind.PERCENT
    value = Decimal("15")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.coupon_issue(**kwargs)
