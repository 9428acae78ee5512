"""Offers, coupons, validation and use at checkout."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from club import services
from club.exceptions import Conflict, CouponAlreadyRedeemed, InsufficientPoints, LimitReached
from club.models import Coupon, CouponRedemption, Offer, PointsTransaction
from club.selectors import offers_for_member
from tests.club.helpers import give_points
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_redeeming_an_offer_spends_its_points_and_issues_an_unguessable_coupon(member, offer):
    give_points(member, 150)
    coupon = services.offer_redeem(member=member, offer=offer)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{12}", coupon.code)
    assert coupon.member == member and coupon.kind == "offer" and coupon.discount_kind == "percent"
    assert coupon.points_transaction.points == -100 and coupon.points_transaction.kind == "redeem"
    assert coupon.expires_at > timezone.now() + timedelta(days=29)
    member.refresh_from_db()
    assert member.points_balance == 50
    offer.refresh_from_db()
    assert offer.redeemed_count == 1


def test_codes_are_unique(member, offer):
    give_points(member, 10_000)
    offer.points_cost = 0
    offer.save()
    codes = {services.offer_redeem(member=member, offer=offer).code for _ in range(50)}
    assert len(codes) == 50


def test_not_enough_points_is_a_conflict_and_leaves_no_trace(member, offer):
    give_points(member, 99)
    with pytest.raises(InsufficientPoints):
        services.offer_redeem(member=member, offer=offer)
    offer.refresh_from_db()
    assert offer.redeemed_count == 0 and not Coupon.objects.exists()


def test_a_retried_redemption_with_the_same_key_returns_the_same_coupon(member, offer):
    give_points(member, 300)
    first = services.offer_redeem(member=member, offer=offer, idempotency_key="pos-42")
    again = services.offer_redeem(member=member, offer=offer, idempotency_key="pos-42")
    assert first == again
    member.refresh_from_db()
    assert member.points_balance == 200


def test_the_minimum_tier_and_exclusivity_are_enforced(member, tiers, offer, admin_user):
    give_points(member, 1000)
    offer.min_tier = tiers["silver"]
    offer.save()
    with pytest.raises(ValidationError):
        services.offer_redeem(member=member, offer=offer)
    offer.min_tier, offer.exclusive = None, True
    offer.save()
    with pytest.raises(ValidationError):
        services.offer_redeem(member=member, offer=offer)
    services.tier_set(member=member, tier=tiers["gold"], by=admin_user, note="test")
    assert services.offer_redeem(member=member, offer=offer)


def test_an_offer_outside_its_window_or_inactive_is_refused(member, offer):
    give_points(member, 1000)
    offer.ends_at = timezone.now() - timedelta(minutes=1)
    offer.save()
    with pytest.raises(ValidationError):
        services.offer_redeem(member=member, offer=offer)
    offer.ends_at, offer.is_active = None, False
    offer.save()
    with pytest.raises(ValidationError):
        services.offer_redeem(member=member, offer=offer)


def test_limits_per_member_and_in_total_are_kept(make_member, offer):
    offer.per_member_limit, offer.total_limit = 2, 3
    offer.save()
    first, second = make_member(), make_member()
    for member in (first, second):
        give_points(member, 1000)
    services.offer_redeem(member=first, offer=offer)
    services.offer_redeem(member=first, offer=offer)
    with pytest.raises(LimitReached):
        services.offer_redeem(member=first, offer=offer)
    services.offer_redeem(member=second, offer=offer)
    with pytest.raises(LimitReached):
        services.offer_redeem(member=second, offer=offer)
    offer.refresh_from_db()
    assert offer.redeemed_count == 3 == Coupon.objects.count()
    assert PointsTransaction.objects.filter(kind="redeem").count() == 3


def test_eligible_offers_are_listed_for_a_member(member, tiers, offer):
    gold_only = Offer.objects.create(title="Gold lounge", kind="free_shipping", min_tier=tiers["gold"])
    used_up = Offer.objects.create(title="Once", kind="fixed", value=5, per_member_limit=1)
    give_points(member, 100)
    services.offer_redeem(member=member, offer=used_up)
    assert offers_for_member(member) == [offer]
    assert gold_only not in offers_for_member(member)


@pytest.mark.parametrize("kind, value, order_value, discount", [
    ("percent", "10", "85.55", "8.56"),
    ("fixed", "20", "15.00", "15.00"),
    ("fixed", "20", "50.00", "20"),
    ("free_shipping", "0", "50.00", "0"),
])
def test_validation_computes_the_discount(member, kind, value, order_value, discount):
    coupon = services.coupon_issue(member=member, kind="campaign", discount_kind=kind, value=Decimal(value))
    check = services.coupon_validate(code=coupon.code.lower(), customer=member.customer, order_value=order_value)
    assert check.valid and check.discount == Decimal(discount)
    assert check.free_shipping == (kind == "free_shipping")


def test_validation_says_why_a_coupon_is_refused(member, time_machine):
    now = timezone.now()
    coupon = services.coupon_issue(member=member, kind="campaign", discount_kind="fixed", value=Decimal("5"),
                                   valid_from=now + timedelta(days=1), expires_at=now + timedelta(days=10),
                                   min_order_value=Decimal("30"))
    stranger = CustomerFactory()

    def reason(**kwargs):
        kwargs.setdefault("customer", member.customer)
        kwargs.setdefault("order_value", "50")
        return services.coupon_validate(code=coupon.code, **kwargs).reason

    assert reason() == "not_yet_valid"
    time_machine.move_to(now + timedelta(days=2))
    assert reason() == ""
    assert reason(order_value="29.99") == "below_minimum"
    assert reason(customer=stranger) == "unknown"  # reads like a code that does not exist (issue 16)
    assert services.coupon_validate(code="NOPE", order_value="1").reason == "unknown"
    time_machine.move_to(now + timedelta(days=11))
    assert reason() == "expired"
    with pytest.raises(ValidationError):
        services.coupon_redeem(code=coupon.code, customer=member.customer, order_value="50")


def test_a_coupon_is_used_once(member, place_order):
    coupon = services.coupon_issue(member=member, kind="store_credit", discount_kind="fixed", value=Decimal("25"))
    order = place_order(member.customer, total="100.00")
    redemption = services.coupon_redeem(code=services.coupon_code_format(coupon.code), customer=member.customer,
                                        order_value="100.00", order=order, reference="till 3")
    assert redemption.discount == Decimal("25") and redemption.order == order
    with pytest.raises(CouponAlreadyRedeemed) as error:
        services.coupon_redeem(code=coupon.code, customer=member.customer, order_value="100.00")
    assert isinstance(error.value, Conflict)
    assert CouponRedemption.objects.count() == 1
    assert services.coupon_validate(code=coupon.code, order_value="1").reason == "redeemed"


def test_a_bad_order_value_is_a_validation_error(member):
    coupon = services.coupon_issue(member=member, kind="campaign", discount_kind="fixed", value=Decimal("5"))
    for value in ("abc", "-1", "NaN"):
        with pytest.raises(ValidationError):
            services.coupon_validate(code=coupon.code, order_value=value)
