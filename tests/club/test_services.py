"""The club end to end, through the services, as the issue's "Done means" describes it."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from club import services
from club.exceptions import Conflict, CouponAlreadyRedeemed, LimitReached
from club.models import EarningRule, Membership, MemberNotice, PointsTransaction, Referral, TierChange
from club.codes import luhn_check_digit
from crm import services as crm_services
from crm.models import Customer
from tests.club.helpers import ledger_sum
from tests.factories import CustomerFactory
from tests.helpers import member_since

pytestmark = pytest.mark.django_db


def test_it_walks_a_member_from_purchase_to_return(member, tiers, offer, order_with_lines):
    order = order_with_lines(member.customer, total="600.00")  # lines scaled: beans 400, mug 200
    member.refresh_from_db()
    assert member.points_balance == 600
    assert member.tier == tiers["silver"]  # climbed at once: 600 earned >= 500
    assert TierChange.objects.filter(member=member, to_tier=tiers["silver"], reason="qualified").exists()

    coupon = services.offer_redeem(member=member, offer=offer)
    member.refresh_from_db()
    assert member.points_balance == 500
    check = services.coupon_validate(code=coupon.code, customer=member.customer, order_value="80.00")
    assert check.valid and check.discount == Decimal("8.00")
    services.coupon_redeem(code=coupon.code, customer=member.customer, order_value="80.00")
    with pytest.raises(CouponAlreadyRedeemed):
        services.coupon_redeem(code=coupon.code, customer=member.customer, order_value="80.00")

    mug = order.lines.get(sku="MUG")
    [reverse] = services.points_reverse_for_order(order=order, lines={mug.pk: 1})
    assert reverse.points == -200 and reverse.kind == "reverse"
    assert reverse.original.order == order
    member.refresh_from_db()
    assert member.points_balance == 300 == ledger_sum(member)


def test_enrolment_gives_a_checked_member_number_the_entry_tier_and_the_signup_bonus(customer, tiers):
    EarningRule.objects.create(name="Welcome", kind="signup", points=50)
    member = services.member_enroll(customer=customer)
    number = member.member_number
    assert len(number) == 10 and luhn_check_digit(number[:-1]) == int(number[-1])
    assert member.tier == tiers["bronze"]
    assert member.points_balance == 50
    assert services.member_enroll(customer=customer) == member  # idempotent
    assert PointsTransaction.objects.filter(member=member, source="signup").count() == 1


def test_it_finds_a_customer_by_member_number(member):
    formatted = services.member_number_format(member.member_number)
    assert list(Customer.objects.search(formatted)) == [member.customer]
    assert list(Customer.objects.search(member.member_number)) == [member.customer]


def test_a_left_member_enrolling_again_becomes_active(member):
    services.member_set_status(member=member, status=Membership.Status.LEFT)
    again = services.member_enroll(customer=member.customer)
    assert again.pk == member.pk and again.status == "active"


def test_the_welcome_message_is_announced_once_after_commit(customer, tiers, django_capture_on_commit_callbacks):
    from club.signals import member_notification

    seen = []

    def receiver(sender, member, kind, context, **kwargs):
        seen.append((member.pk, kind))

    member_notification.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            member = services.member_enroll(customer=customer)
            services.member_enroll(customer=customer)
    finally:
        member_notification.disconnect(receiver)
    assert seen == [(member.pk, "welcome")]
    assert MemberNotice.objects.filter(member=member, kind="welcome").count() == 1


def test_a_complete_profile_earns_its_bonus_once(tiers):
    EarningRule.objects.create(name="Profile", kind="profile", points=30)
    customer = CustomerFactory(phone="+989121111111")
    member = services.member_enroll(customer=customer)
    assert member.points_balance == 0
    crm_services.customer_update(customer=customer, values={"birth_date": "1990-05-01"})
    crm_services.customer_update(customer=customer, values={"city": "Shiraz"})
    member.refresh_from_db()
    assert member.points_balance == 30


def test_a_referral_pays_both_on_the_first_counted_order_only(member, place_order, tiers):
    EarningRule.objects.create(name="Refer a friend", kind="referral", points=200, referee_points=100)
    friend = CustomerFactory()
    services.referral_create(referrer=member, referred=friend)
    friend_member = member_since(services.member_enroll(customer=friend))
    place_order(friend, total="10.00")
    place_order(friend, total="10.00")
    member.refresh_from_db()
    friend_member.refresh_from_db()
    assert member.points_balance == 200
    assert friend_member.points_balance == 100 + 20  # welcome through referral + purchases
    assert Referral.objects.get(referred=friend).rewarded_at is not None


def test_only_new_customers_can_be_referred(member, place_order):
    old = CustomerFactory()
    place_order(old)
    with pytest.raises(ValidationError):
        services.referral_create(referrer=member, referred=old)
    with pytest.raises(ValidationError):
        services.referral_create(referrer=member, referred=member.customer)


def test_a_custom_event_sent_twice_with_one_key_earns_once(member, make_member):
    EarningRule.objects.create(name="Shared on social media", kind="event", event_name="social_share", points=25)
    first = services.points_award_for_event(member=member, event="social_share", idempotency_key="abc")
    again = services.points_award_for_event(member=member, event="social_share", idempotency_key="abc")
    assert first == again
    member.refresh_from_db()
    assert member.points_balance == 25
    with pytest.raises(Conflict):
        services.points_award_for_event(member=make_member(), event="social_share", idempotency_key="abc")


def test_an_unknown_or_disabled_event_earns_nothing(member):
    EarningRule.objects.create(name="Review", kind="event", event_name="app_review", points=25, enabled=False)
    with pytest.raises(ValidationError):
        services.points_award_for_event(member=member, event="app_review", idempotency_key="k1")
    with pytest.raises(ValidationError):
        services.points_award_for_event(member=member, event="nope", idempotency_key="k2")


@pytest.mark.parametrize("limit, count, allowed", [("per_day", 2, 2), ("once", 1, 1), ("per_period", 3, 3)])
def test_event_limits_are_kept(member, limit, count, allowed):
    EarningRule.objects.create(name="Share", kind="event", event_name="social_share", points=10, limit=limit,
                               limit_count=count, limit_period_days=7)
    for index in range(allowed):
        services.points_award_for_event(member=member, event="social_share", idempotency_key=f"k{index}")
    with pytest.raises(LimitReached):
        services.points_award_for_event(member=member, event="social_share", idempotency_key="one-more")
    member.refresh_from_db()
    assert member.points_balance == 10 * allowed


def test_feedback_earns_once_per_response(member):
    EarningRule.objects.create(name="Thanks for your feedback", kind="feedback", points=40)
    services.points_award_for_feedback(member=member, response_ref="resp-1")
    services.points_award_for_feedback(member=member, response_ref="resp-1")
    services.points_award_for_feedback(member=member, response_ref="resp-2")
    member.refresh_from_db()
    assert member.points_balance == 80


def test_purchase_rules_apply_category_multipliers_the_tier_multiplier_and_a_minimum(member, tiers, order_with_lines, place_order,
                                                                                    purchase_rule):
    purchase_rule.category_multipliers = {"coffee": 2}
    purchase_rule.min_order_value = Decimal("50")
    purchase_rule.save()
    services.tier_set(member=member, tier=tiers["silver"], by=None, note="test")  # multiplier 1.25
    order_with_lines(member.customer)  # beans 200 x 2 x 1.25 = 500, mug 100 x 1.25 = 125
    place_order(member.customer, total="40.00")  # below the minimum
    member.refresh_from_db()
    assert member.points_balance == 625


def test_orders_of_non_members_and_cancelled_orders_earn_nothing(customer, tiers, purchase_rule, place_order):
    place_order(customer, total="100.00")
    member = services.member_enroll(customer=customer)
    place_order(customer, total="100.00", status="cancelled")
    member.refresh_from_db()
    assert member.points_balance == 0


def test_top_tier_members_are_in_the_loyal_lifecycle_stage(member, tiers, place_order):
    place_order(member.customer, days_ago=3, total="1000.00")
    place_order(member.customer, days_ago=1, total="1500.00")
    member.refresh_from_db()
    assert member.tier == tiers["gold"]
    stage = Customer.objects.with_lifecycle_stage().get(pk=member.customer_id).lifecycle_stage
    assert stage == "loyal"
