"""The points ledger: append-only rows, cached balances, reversals, expiry (FIFO), pending points."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from club import services
from club.exceptions import Conflict, InsufficientPoints
from club.models import Membership, MemberNotice, PendingPoints, PointsTransaction
from crm import services as crm_services
from tests.club.helpers import give_points, ledger_sum
from tests.helpers import local

pytestmark = pytest.mark.django_db


def test_ledger_rows_cannot_be_edited_or_deleted(member):
    row = give_points(member, 10)
    row.reason = "changed"
    with pytest.raises(TypeError):
        row.save()
    with pytest.raises(TypeError):
        row.delete()


def test_the_database_refuses_a_negative_balance(member):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=member.pk).update(points_balance=-1)


def test_an_adjustment_needs_a_reason_and_cannot_go_below_zero(member, admin_user):
    with pytest.raises(ValidationError) as error:
        services.points_adjust(member=member, points=10, reason="  ", by=admin_user)
    assert "reason" in error.value.message_dict
    services.points_adjust(member=member, points=10, reason="Goodwill", by=admin_user)
    with pytest.raises(ValidationError) as error:
        services.points_adjust(member=member, points=-11, reason="Oops", by=admin_user)
    assert "below zero" in error.value.message_dict["points"][0]
    row = services.points_adjust(member=member, points=-10, reason="Oops", by=admin_user)
    assert row.created_by == admin_user and row.kind == "adjust"
    member.refresh_from_db()
    assert member.points_balance == 0 == ledger_sum(member)


def test_spending_more_than_the_balance_is_a_conflict_and_writes_nothing(member):
    give_points(member, 50)
    with pytest.raises(InsufficientPoints):
        services.points_spend(member=member, points=51, reason="till", idempotency_key="till-1")
    assert not PointsTransaction.objects.filter(idempotency_key="till-1").exists()


def test_a_repeated_idempotency_key_returns_the_first_row(member, make_member):
    give_points(member, 100)
    first = services.points_spend(member=member, points=30, reason="till", idempotency_key="till-2")
    again = services.points_spend(member=member, points=30, reason="till", idempotency_key="till-2")
    assert first == again
    member.refresh_from_db()
    assert member.points_balance == 70
    with pytest.raises(Conflict):
        services.points_spend(member=make_member(), points=1, reason="till", idempotency_key="till-2")


def test_a_cancelled_order_gives_back_its_points(member, order_with_lines):
    order = order_with_lines(member.customer, status="paid")
    crm_services.order_cancel(order=order)
    member.refresh_from_db()
    assert member.points_balance == 0 == ledger_sum(member)
    reverse = PointsTransaction.objects.get(kind="reverse")
    assert reverse.points == -300 and reverse.shortfall == 0
    crm_services.order_cancel(order=order)  # nothing more
    assert PointsTransaction.objects.filter(kind="reverse").count() == 1


def test_a_full_refund_reverses_what_partial_returns_left(member, order_with_lines):
    order = order_with_lines(member.customer)
    beans = order.lines.get(sku="BEANS")
    services.points_reverse_for_order(order=order, lines={beans.pk: 1})
    crm_services.order_refund(order=order, amount="300.00")
    member.refresh_from_db()
    assert member.points_balance == 0
    assert [row.points for row in PointsTransaction.objects.filter(kind="reverse").order_by("id")] == [-100, -200]


def test_returning_each_unit_reverses_each_share_and_never_more(member, order_with_lines):
    order = order_with_lines(member.customer)
    beans = order.lines.get(sku="BEANS")
    assert services.points_reverse_for_order(order=order, lines={beans.pk: 1})[0].points == -100
    assert services.points_reverse_for_order(order=order, lines={beans.pk: 5})[0].points == -100  # capped at what is left
    assert services.points_reverse_for_order(order=order, lines={beans.pk: 1}) == []
    member.refresh_from_db()
    assert member.points_balance == 100


def test_a_line_of_another_order_is_refused(member, order_with_lines):
    order = order_with_lines(member.customer)
    other = order_with_lines(member.customer)
    with pytest.raises(ValidationError):
        services.points_reverse_for_order(order=order, lines={other.lines.first().pk: 1})


def test_points_already_spent_are_recorded_as_a_shortfall(member, order_with_lines):
    order = order_with_lines(member.customer, status="paid")
    services.points_spend(member=member, points=250, reason="till", idempotency_key="spent")
    crm_services.order_cancel(order=order)
    member.refresh_from_db()
    assert member.points_balance == 0
    assert member.points_shortfall == 250
    reverse = PointsTransaction.objects.get(kind="reverse")
    assert (reverse.points, reverse.shortfall) == (-50, 250)
    assert list(services.points_verify_balances()) == []
    from club.selectors import members_with_shortfall

    assert list(members_with_shortfall()) == [member]


def test_expiry_takes_what_is_left_of_the_oldest_earnings_first(member, time_machine):
    time_machine.move_to(local(2024, 1, 10, 12), tick=False)
    give_points(member, 0 + 1)  # an adjustment: never expires
    first = services.points_award(member=member, points=100, source="event", reason="a", idempotency_key="e1")
    time_machine.move_to(local(2024, 4, 10, 12), tick=False)
    second = services.points_award(member=member, points=50, source="event", reason="b", idempotency_key="e2")
    services.points_spend(member=member, points=120, reason="till", idempotency_key="s1")  # all of the first, 20 of the second

    assert services.points_expire_due(run_date=date(2025, 1, 11))["rows"] == 0  # first: nothing left
    result = services.points_expire_due(run_date=date(2025, 4, 11))
    assert result == {"members": 1, "rows": 1, "points": 30}
    expired = PointsTransaction.objects.get(kind="expire")
    assert expired.original == second and expired.points == -30
    assert services.points_expire_due(run_date=date(2025, 4, 11))["rows"] == 0  # a rerun changes nothing
    member.refresh_from_db()
    assert member.points_balance == 1 == ledger_sum(member)
    assert first.followups.count() == 0


def test_expiry_of_an_untouched_earning_expires_all_of_it(member, time_machine):
    time_machine.move_to(local(2024, 1, 10, 12), tick=False)
    services.points_award(member=member, points=100, source="event", reason="a", idempotency_key="e1")
    time_machine.move_to(local(2024, 6, 1, 12), tick=False)
    services.points_award(member=member, points=40, source="event", reason="b", idempotency_key="e2")
    services.points_spend(member=member, points=30, reason="till", idempotency_key="s1")
    call_command("run_job", "club.points_expiry", "--date", "2025-01-11", stdout=StringIO())
    member.refresh_from_db()
    assert member.points_balance == 40


def test_members_are_warned_once_before_points_expire(member, time_machine, settings):
    settings.CLUB_EXPIRY_WARNING_DAYS = 14
    time_machine.move_to(local(2024, 1, 10, 12), tick=False)
    services.points_award(member=member, points=100, source="event", reason="a", idempotency_key="e1")
    assert services.points_warn_expiring(run_date=date(2024, 12, 20)) == {"members": 0}
    assert services.points_warn_expiring(run_date=date(2024, 12, 30)) == {"members": 1}
    assert services.points_warn_expiring(run_date=date(2024, 12, 31)) == {"members": 0}
    notice = MemberNotice.objects.get(kind="points_expiring")
    assert notice.context["points"] == 100 and notice.context["expires_on"] == "2025-01-09"


def test_pending_purchase_points_become_spendable_after_the_holding_period(make_member, place_order, settings, time_machine):
    settings.CLUB_PENDING_DAYS = 3
    time_machine.move_to(local(2025, 3, 1, 10), tick=False)
    member = make_member()
    place_order(member.customer, total="80.00", days_ago=0)
    member.refresh_from_db()
    assert (member.points_balance, member.pending_points) == (0, 80)
    assert services.points_release_pending(run_date=date(2025, 3, 3))["released"] == 0
    assert services.points_release_pending(run_date=date(2025, 3, 4))["released"] == 1
    assert services.points_release_pending(run_date=date(2025, 3, 4))["released"] == 0
    member.refresh_from_db()
    assert (member.points_balance, member.pending_points) == (80, 0)
    assert PendingPoints.objects.get().status == "released"


def test_a_return_while_points_are_pending_reduces_them(member, order_with_lines, settings):
    settings.CLUB_PENDING_DAYS = 3
    order = order_with_lines(member.customer, status="paid")
    mug = order.lines.get(sku="MUG")
    services.points_reverse_for_order(order=order, lines={mug.pk: 1})
    member.refresh_from_db()
    assert member.pending_points == 200
    crm_services.order_cancel(order=order)
    member.refresh_from_db()
    assert member.pending_points == 0
    assert PendingPoints.objects.get().status == "cancelled"
    assert member.points_balance == 0 and not PointsTransaction.objects.filter(order=order).exists()


def test_the_balances_command_verifies_and_rebuilds_from_the_ledger(member):
    give_points(member, 70)
    out = StringIO()
    call_command("club_balances", stdout=out)
    assert "All 1 balances agree" in out.getvalue()
    Membership.objects.filter(pk=member.pk).update(points_balance=5)
    with pytest.raises(CommandError):
        call_command("club_balances", stdout=StringIO())
    out = StringIO()
    call_command("club_balances", "--rebuild", stdout=out)
    assert "Rebuilt 1" in out.getvalue()
    member.refresh_from_db()
    assert member.points_balance == 70


def test_a_return_after_the_points_expired_takes_nothing_back(member, order_with_lines, time_machine):
    """Expired points are gone: a later return cannot take them again from newer points (found by the
    ledger state machine)."""
    order = order_with_lines(member.customer)
    earning = PointsTransaction.objects.get(kind="earn", order=order)
    assert earning.expires_at is not None
    later = earning.expires_at + timedelta(days=2)
    time_machine.move_to(later, tick=False)
    services.points_expire_due(run_date=later.date())
    assert PointsTransaction.objects.get(kind="expire", original=earning).points == -earning.points
    services.points_award(member=member, points=500, source="event", reason="later", idempotency_key="later")
    beans = order.lines.get(sku="BEANS")
    assert services.points_reverse_for_order(order=order, lines={beans.pk: 1}) == []
    assert services.points_reverse_for_order(order=order) == []  # a full refund: nothing either
    member.refresh_from_db()
    assert (member.points_balance, member.points_shortfall) == (500, 0)
    assert list(services.points_verify_balances()) == []


# --- 64-bit bounds ----------------------------------------------------------------------------


def test_an_adjustment_fills_a_balance_to_2_63_minus_1_and_refuses_one_more_point(member, admin_user):
    limit = 2**63 - 1
    services.points_adjust(member=member, points=limit, reason="migration from the old program", by=admin_user)
    member.refresh_from_db()
    assert member.points_balance == ledger_sum(member) == 9223372036854775807

    with pytest.raises(ValidationError) as refused:
        services.points_adjust(member=member, points=1, reason="one more", by=admin_user)
    error = refused.value.error_dict["points_balance"][0]
    assert (error.code, error.params["limit_value"]) == ("max_value", limit)
    assert PointsTransaction.objects.count() == 1 and Membership.objects.get().points_balance == limit


@pytest.mark.parametrize("points", [2**63, -(2**63)])
def test_an_adjustment_beyond_64_bits_is_refused_before_any_write(member, admin_user, points):
    with pytest.raises(ValidationError) as refused:
        services.points_adjust(member=member, points=points, reason="typo", by=admin_user)
    error = refused.value.error_dict["points"][0]
    assert (error.code, error.params["limit_value"]) == ("max_value", 2**63 - 1)
    assert not PointsTransaction.objects.exists()


def test_an_order_whose_pending_points_would_pass_the_limit_is_refused_whole(member, customer, admin_user, settings,
                                                                           place_order):
    settings.CLUB_PENDING_DAYS = 14
    services.points_adjust(member=member, points=2**63 - 1 - 50, reason="migration", by=admin_user)

    with pytest.raises(ValidationError) as refused:
        place_order(customer, days_ago=0, total="100.00")  # earns at least 100 points, held as pending

    assert refused.value.error_dict["points_balance"][0].code == "max_value"
    assert not PendingPoints.objects.exists() and not customer.orders.exists()
    services.points_award(member=member, points=50, source="system", reason="gift", idempotency_key="gift-1")
    member.refresh_from_db()
    assert member.points_balance == 2**63 - 1
