"""Tiers: upgrades at once, downgrades only in the set-based review after a grace period, overrides."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from club import services
from club.models import PointsTransaction, TierChange
from tests.helpers import local

pytestmark = pytest.mark.django_db


def earn(member, points, key):
    return services.points_award(member=member, points=points, source="event", reason="test", idempotency_key=key)


def test_a_member_moves_up_the_moment_they_qualify(member, tiers):
    earn(member, 499, "a")
    assert member.tier == tiers["bronze"]
    earn(member, 1, "b")
    member.refresh_from_db()
    assert member.tier == tiers["silver"]
    change = TierChange.objects.get(member=member, reason="qualified")
    assert (change.from_tier, change.to_tier) == (tiers["bronze"], tiers["silver"])


def test_spending_points_never_costs_the_tier(member, tiers):
    earn(member, 2100, "a")
    services.points_spend(member=member, points=2100, reason="big reward", idempotency_key="spend")
    services.tiers_review(run_date=date.today() + timedelta(days=60))
    member.refresh_from_db()
    assert member.tier == tiers["gold"] and member.points_balance == 0


def test_the_review_downgrades_only_after_the_grace_period(member, tiers, time_machine, settings):
    settings.CLUB_TIER_GRACE_DAYS = 30
    time_machine.move_to(local(2024, 1, 10, 12), tick=False)
    earn(member, 600, "a")
    member.refresh_from_db()
    assert member.tier == tiers["silver"]

    # A year later the earning has left the window: the grace period starts.
    first_review = date(2025, 1, 15)
    assert services.tiers_review(run_date=first_review)["changed"] == 0
    member.refresh_from_db()
    assert member.tier == tiers["silver"] and member.below_tier_since == first_review
    assert member.qualified_tier == tiers["bronze"]

    services.tiers_review(run_date=first_review + timedelta(days=29))
    member.refresh_from_db()
    assert member.tier == tiers["silver"]

    assert services.tiers_review(run_date=first_review + timedelta(days=30))["changed"] == 1
    member.refresh_from_db()
    assert member.tier == tiers["bronze"] and member.below_tier_since is None
    change = TierChange.objects.get(member=member, reason="review_downgrade")
    assert (change.from_tier, change.to_tier) == (tiers["silver"], tiers["bronze"])
    assert services.tiers_review(run_date=first_review + timedelta(days=30))["changed"] == 0  # rerun: nothing


def test_qualifying_again_during_the_grace_period_cancels_the_downgrade(member, tiers, time_machine):
    time_machine.move_to(local(2024, 1, 10, 12), tick=False)
    earn(member, 600, "a")
    services.tiers_review(run_date=date(2025, 1, 15))
    time_machine.move_to(local(2025, 1, 20, 12), tick=False)
    earn(member, 600, "b")
    services.tiers_review(run_date=date(2025, 2, 20))
    member.refresh_from_db()
    assert member.tier == tiers["silver"] and member.below_tier_since is None


def test_the_review_upgrades_members_who_qualified_without_an_immediate_upgrade(member, tiers):
    # Ledger rows written in bulk (imports, demo data) bypass the immediate upgrade.
    PointsTransaction.objects.bulk_create([PointsTransaction(
        member=member, points=2500, kind="earn", source="order", idempotency_key="bulk-1",
    )])
    result = services.tiers_review(run_date=date.today())
    member.refresh_from_db()
    assert member.tier == tiers["gold"] and result["changed"] == 1
    assert TierChange.objects.filter(member=member, reason="review_upgrade").count() == 1


def test_a_manual_override_freezes_the_tier_until_its_date(member, tiers, admin_user, time_machine):
    time_machine.move_to(local(2025, 1, 1, 12), tick=False)
    services.tier_set(member=member, tier=tiers["gold"], by=admin_user, note="VIP guest", frozen_until=date(2025, 3, 1))
    member.refresh_from_db()
    assert member.tier == tiers["gold"]
    manual = TierChange.objects.get(reason="manual")
    assert manual.changed_by == admin_user and manual.note == "VIP guest"
    services.tiers_review(run_date=date(2025, 2, 28))
    member.refresh_from_db()
    assert member.tier == tiers["gold"] and member.below_tier_since is None
    services.tiers_review(run_date=date(2025, 3, 2))  # freeze over: the grace period starts
    services.tiers_review(run_date=date(2025, 4, 2))
    member.refresh_from_db()
    assert member.tier == tiers["bronze"]


def test_a_frozen_tier_is_not_upgraded_either(member, tiers, admin_user):
    services.tier_set(member=member, tier=tiers["bronze"], by=admin_user, note="paused",
                      frozen_until=date.today() + timedelta(days=10))
    earn(member, 600, "a")
    member.refresh_from_db()
    assert member.tier == tiers["bronze"]


def test_a_manual_change_needs_a_note(member, tiers, admin_user):
    with pytest.raises(ValidationError):
        services.tier_set(member=member, tier=tiers["gold"], by=admin_user, note="")


def test_qualification_on_spend_counts_counted_orders_in_the_window(member, tiers, settings, place_order):
    settings.CLUB_TIER_BASIS = "spend"
    place_order(member.customer, total="450.00", days_ago=400)  # outside the window
    place_order(member.customer, total="300.00", days_ago=10)
    member.refresh_from_db()
    assert member.tier == tiers["bronze"]
    place_order(member.customer, total="250.00", days_ago=1)
    member.refresh_from_db()
    assert member.tier == tiers["silver"]
    assert services.tier_qualifying_value(member=member) == 550


def test_reversed_points_do_not_count_towards_a_tier(member, tiers, order_with_lines):
    order = order_with_lines(member.customer, total="600.00", status="paid")
    from crm import services as crm_services

    crm_services.order_cancel(order=order)
    assert services.tier_qualifying_value(member=member) == 0
    services.tiers_review(run_date=date.today() + timedelta(days=40))
    services.tiers_review(run_date=date.today() + timedelta(days=80))
    member.refresh_from_db()
    assert member.tier == tiers["bronze"]


def test_the_review_is_a_fixed_number_of_statements_whatever_the_number_of_members(make_member, tiers):
    for _index in range(3):
        make_member()
    with CaptureQueriesContext(connection) as few:
        services.tiers_review(run_date=date.today())
    for _index in range(12):
        make_member()
    with CaptureQueriesContext(connection) as many:
        services.tiers_review(run_date=date.today())
    assert len(few) == len(many) <= 6


def test_tier_changes_record_where_they_came_from_the_reviews_sql_rows_too(member, tiers, time_machine, settings):
    from core.audit import history_source

    settings.CLUB_TIER_GRACE_DAYS = 0
    time_machine.move_to(local(2024, 1, 10, 12), tick=False)
    with history_source("api: Shop One"):
        earn(member, 600, "a")
    with history_source("job: club.tiers_review"):
        assert services.tiers_review(run_date=date(2025, 1, 15))["changed"] == 1

    sources = dict(TierChange.objects.filter(member=member).values_list("reason", "audit_source"))
    assert sources == {"enrolled": "system", "qualified": "api: Shop One", "review_downgrade": "job: club.tiers_review"}
