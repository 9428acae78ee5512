"""Refunds and cancellations take points back, whichever road they come by (club.services.points.refunds).

The house rule, checked by hand in each test: after refunds totalling R of an order of T, an
earning of P points has given back floor(P x R / T); a full refund or a cancellation takes the
rest; never more than is left of the earning.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from club import services
from club.models import EarningRule, PointsTransaction
from crm import services as crm_services
from crm.services import LineInput
from feedback.models import ReturnRequest
from feedback.services import returns
from feedback.services.returns import LineRequest
from tests.club.helpers import ledger_sum
from tests.factories import CustomerFactory, EarningRuleFactory
from tests.helpers import local, member_since

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_and_a_half(db):
    """1.5 points per unit: an order of 100 earns 150."""
    return EarningRuleFactory(name="1.5 per unit", points_per_unit=Decimal("1.5"))


@pytest.fixture
def member(customer, one_and_a_half):
    return member_since(services.member_enroll(customer=customer))


def balance(member) -> int:
    member.refresh_from_db()
    assert member.points_balance == ledger_sum(member)  # the cached balance never leaves the ledger
    return member.points_balance


def take_backs(order) -> list[tuple[int, str]]:
    rows = PointsTransaction.objects.filter(order=order, kind=PointsTransaction.Kind.REVERSE).order_by("id")
    return [(row.points, row.source_ref) for row in rows]


def test_it_takes_back_the_floor_of_the_refunded_share(member, place_order):
    order = place_order(member.customer, total="100.00")
    assert balance(member) == 150

    crm_services.order_refund(order=order, amount="99.99")

    # 150 x 99.99 / 100 = 149.985, rounded down: never more than the refunded share.
    assert take_backs(order) == [(-149, "refund:0.00-99.99")]
    assert balance(member) == 1


def test_it_takes_back_the_proportional_rest_on_a_second_partial_refund(member, place_order):
    order = place_order(member.customer, total="100.00")
    crm_services.order_refund(order=order, amount="40.00")
    crm_services.order_refund(order=order, amount="30.00")

    # floor(150 x 0.40) = 60, then floor(150 x 0.70) - 60 = 105 - 60 = 45.
    assert take_backs(order) == [(-60, "refund:0.00-40.00"), (-45, "refund:40.00-70.00")]
    assert balance(member) == 45


def test_it_counts_shares_on_the_cumulative_refund_so_small_refunds_lose_nothing_to_rounding(member, place_order):
    order = place_order(member.customer, total="100.00")
    for _ in range(3):
        crm_services.order_refund(order=order, amount="33.33")

    # floor(49.995) = 49, floor(99.99) - 49 = 50, floor(149.985) - 99 = 50: 149 in all, as one refund of 99.99 takes.
    assert [points for points, _ref in take_backs(order)] == [-49, -50, -50]
    crm_services.order_refund(order=order, amount="0.01")  # the last cent is a full refund: the rest
    assert [points for points, _ref in take_backs(order)] == [-49, -50, -50, -1]
    assert balance(member) == 0


def test_a_full_refund_takes_back_the_rest(member, place_order):
    order = place_order(member.customer, total="100.00")
    crm_services.order_refund(order=order, amount="40.00")
    crm_services.order_refund(order=order, amount="60.00")

    assert take_backs(order) == [(-60, "refund:0.00-40.00"), (-90, "refund:40.00-100.00")]
    assert balance(member) == 0


def test_a_full_refund_after_the_points_expired_takes_back_only_what_is_left(customer, one_and_a_half, place_order, time_machine):
    time_machine.move_to(local(2024, 1, 10, 12), tick=False)
    member = member_since(services.member_enroll(customer=customer))
    order = place_order(member.customer, total="100.00", at=local(2024, 1, 10, 12))
    crm_services.order_refund(order=order, amount="40.00")  # -60, 90 left
    services.points_adjust(member=member, points=25, reason="goodwill", by=None)  # never expires
    time_machine.move_to(local(2025, 1, 12, 12), tick=False)
    assert services.points_expire_due(run_date=date(2025, 1, 11))["points"] == 90

    crm_services.order_refund(order=order, amount="60.00")

    # 150 earned - 60 taken back - 90 expired = 0 left: the goodwill points stay.
    assert take_backs(order) == [(-60, "refund:0.00-40.00")]
    assert balance(member) == 25


def test_a_partial_refund_after_part_expired_never_takes_more_than_is_left(customer, one_and_a_half, place_order, time_machine):
    time_machine.move_to(local(2024, 1, 10, 12), tick=False)
    member = member_since(services.member_enroll(customer=customer))
    order = place_order(member.customer, total="100.00", at=local(2024, 1, 10, 12))
    services.points_spend(member=member, points=100, reason="till", idempotency_key="till-1")  # 50 of the 150 unspent
    time_machine.move_to(local(2025, 1, 12, 12), tick=False)
    assert services.points_expire_due(run_date=date(2025, 1, 11))["points"] == 50
    services.points_adjust(member=member, points=500, reason="goodwill", by=None)

    crm_services.order_refund(order=order, amount="80.00")

    # The share is floor(150 x 0.8) = 120, but only 150 - 50 expired = 100 are left of the earning.
    assert take_backs(order) == [(-100, "refund:0.00-80.00")]
    assert balance(member) == 400


def test_a_cancellation_takes_back_the_rest(member, place_order):
    order = place_order(member.customer, total="100.00", status="paid")
    crm_services.order_refund(order=order, amount="10.00")
    crm_services.order_cancel(order=order)

    assert take_backs(order) == [(-15, "refund:0.00-10.00"), (-135, "cancel")]
    assert balance(member) == 0


def test_a_refund_that_names_lines_takes_back_those_lines_points(member, order_with_lines):
    order = order_with_lines(member.customer)  # 2 x beans at 100 (300 points), 1 x mug at 100 (150 points)
    beans, _mug = order.lines.order_by("id")
    assert balance(member) == 450

    crm_services.order_refund(order=order, amount="80.00", lines={beans.pk: 1})

    # One bean of two: 300 / 2 = 150, whatever the amount (the refunded share would be floor(450 x 80 / 300) = 120).
    reverse = PointsTransaction.objects.get(kind="reverse")
    assert (reverse.points, reverse.lines, reverse.source_ref) == (-150, {str(beans.pk): {"quantity": 1, "points": 150}},
                                                                     "refund:0.00-80.00")
    assert balance(member) == 300


def test_a_refund_naming_a_line_of_another_order_is_refused_and_changes_nothing(member, order_with_lines):
    order = order_with_lines(member.customer)
    other = order_with_lines(member.customer)
    with pytest.raises(ValidationError, match="not a line of order"):
        crm_services.order_refund(order=order, amount="10.00", lines={other.lines.first().pk: 1})
    order.refresh_from_db()
    assert order.refunded_amount == 0 and balance(member) == 900


def test_the_same_refund_arriving_twice_takes_back_once(member, place_order):
    order = place_order(member.customer, total="100.00")
    crm_services.order_refund(order=order, amount="40.00")
    order.refresh_from_db()

    again = services.points_take_back_for_order_change(order=order, previous_status=order.status,
                                                       previous_refunded=Decimal("0.00"))

    assert [row.points for row in again] == [-60]  # the row of the first time, not a new one
    assert take_backs(order) == [(-60, "refund:0.00-40.00")]
    assert balance(member) == 90


class TestReturnsDesk:
    def test_a_refund_through_the_returns_desk_takes_back_once(self, member, order_with_lines):
        order = order_with_lines(member.customer)
        beans, _mug = order.lines.order_by("id")
        request = returns.return_request_create(order=order, lines=[LineRequest(beans.pk, 1, "damaged")])
        for state in (ReturnRequest.State.APPROVED, ReturnRequest.State.RECEIVED, ReturnRequest.State.REFUNDED):
            request = returns.return_transition(return_request=request, to_state=state)

        assert take_backs(order) == [(-150, "refund:0.00-100.00")]
        assert balance(member) == 300

    def test_a_later_refund_through_the_api_road_takes_only_its_own_share(self, member, order_with_lines):
        order = order_with_lines(member.customer)
        beans, _mug = order.lines.order_by("id")
        request = returns.return_request_create(order=order, lines=[LineRequest(beans.pk, 1, "damaged")])
        for state in (ReturnRequest.State.APPROVED, ReturnRequest.State.RECEIVED, ReturnRequest.State.REFUNDED):
            request = returns.return_transition(return_request=request, to_state=state)
        crm_services.order_refund(order=order, amount="50.00")

        # floor(450 x 150 / 300) - floor(450 x 100 / 300) = 225 - 150 = 75.
        assert take_backs(order) == [(-150, "refund:0.00-100.00"), (-75, "refund:100.00-150.00")]
        assert balance(member) == 225


class TestReferrals:
    @pytest.fixture
    def referral(self, member):
        EarningRuleFactory(name="Referral", kind=EarningRule.Kind.REFERRAL, points=200, referee_points=50)
        friend = CustomerFactory(email="friend@example.com")
        member_since(services.member_enroll(customer=friend))
        return services.referral_create(referrer=member, referred=friend)

    def first_order(self, referral, place_order, **kwargs):
        order = place_order(referral.referred, total="100.00", **kwargs)
        assert balance(referral.referrer) == 200
        return order

    def test_a_cancelled_first_order_takes_back_the_referral_rewards(self, referral, place_order):
        order = self.first_order(referral, place_order, status="paid")
        crm_services.order_cancel(order=order)

        referrer_rows = referral.referrer.transactions.filter(kind="reverse")
        assert [(row.points, row.source, row.source_ref) for row in referrer_rows] == [(-200, "referral", "cancel")]
        assert balance(referral.referrer) == 0
        assert balance(referral.referred.membership) == 0  # the welcome 50 and the order's 150 are gone too

    def test_a_fully_refunded_first_order_takes_back_the_referral_rewards(self, referral, place_order):
        order = self.first_order(referral, place_order)
        crm_services.order_refund(order=order, amount="100.00")
        assert balance(referral.referrer) == 0

    def test_a_partial_refund_of_the_first_order_leaves_the_referral_reward(self, referral, place_order):
        order = self.first_order(referral, place_order)
        crm_services.order_refund(order=order, amount="99.99")
        assert balance(referral.referrer) == 200
        assert balance(referral.referred.membership) == 50 + 1  # the welcome, and 150 - 149 of the order


def test_it_takes_points_back_for_a_partial_refund_through_the_api(member, place_order, make_client):
    order = place_order(member.customer, total="100.00")
    api = make_client("orders:write")

    reply = api.post(f"/api/v1/orders/{order.public_id}/refund/", {"amount": "99.99"}, format="json")

    assert reply.status_code == 200, reply.content
    assert balance(member) == 150 - 149
    assert take_backs(order) == [(-149, "refund:0.00-99.99")]


def test_a_line_refund_of_a_customer_who_is_not_a_member_refunds_and_takes_nothing(customer, one_and_a_half, place_order):
    order = place_order(customer, total="100.00", lines=[LineInput(sku="X", product_name="X", quantity=2, unit_price="50")])
    crm_services.order_refund(order=order, amount="50.00", lines={order.lines.get().pk: 1})
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("50.00")
    assert not PointsTransaction.objects.exists()


def test_a_take_back_reads_in_the_reader_s_language_from_the_facts_it_stores(member, place_order):
    from django.utils import translation

    order = place_order(member.customer, total="100.00", status="paid")
    crm_services.order_refund(order=order, amount="40.00")
    crm_services.order_cancel(order=order)
    refund, cancel = PointsTransaction.objects.filter(kind="reverse").order_by("id")

    assert (refund.reason, cancel.reason) == ("", "")  # no sentence saved in the writer's language
    assert (refund.description, cancel.description) == ("Refund of 40.00", "Order cancelled")
    with translation.override("fa"):
        assert (refund.description, cancel.description) == ("بازپرداخت 40.00", "سفارش لغو شد")


def test_a_partial_refund_takes_its_share_of_points_still_pending(member, place_order, settings):
    from club.models import PendingPoints

    settings.CLUB_PENDING_DAYS = 14
    order = place_order(member.customer, total="100.00")
    crm_services.order_refund(order=order, amount="40.00")
    crm_services.order_refund(order=order, amount="30.00")

    # 150 pending; 40 of 100 takes floor(150 x 0.4) = 60; then 30 of the 60 left takes floor(90 x 0.5) = 45.
    member.refresh_from_db()
    assert PendingPoints.objects.get(order=order).points == 45 == member.pending_points
    assert balance(member) == 0 and not take_backs(order)
    crm_services.order_refund(order=order, amount="30.00")
    assert PendingPoints.objects.get(order=order).status == PendingPoints.Status.CANCELLED
