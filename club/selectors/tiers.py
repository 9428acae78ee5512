"""Reads behind tiers: the qualifying window and value, the tier a value earns, the next tier."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from club.models import Membership, PointsTransaction, Tier
from crm.models import Order

Kind = PointsTransaction.Kind


def tier_window(at: datetime | None = None) -> tuple[datetime, datetime]:
    end = at or timezone.now()
    return end - timedelta(days=settings.CLUB_TIER_WINDOW_DAYS), end


def tier_qualifying_value(*, member: Membership, at: datetime | None = None) -> Decimal:
    """Points earned (earnings less their reversals, shortfalls included) or counted spend in the window.

    Never the spendable balance: spending points does not cost a member their tier."""
    start, end = tier_window(at)
    if settings.CLUB_TIER_BASIS == "spend":
        total = Order.objects.filter(customer_id=member.customer_id, is_counted=True, placed_at__gte=start, placed_at__lte=end) \
            .aggregate(total=Sum("net_total"))["total"]
        return total or Decimal("0")
    figures = PointsTransaction.objects.filter(
        member=member, kind__in=[Kind.EARN, Kind.REVERSE], created_at__gte=start, created_at__lte=end
    ).aggregate(points=Sum("points"), shortfall=Sum("shortfall"))
    return Decimal((figures["points"] or 0) - (figures["shortfall"] or 0))


def tier_qualifying_values(*, members: list[Membership], at: datetime | None = None) -> dict[int, Decimal]:
    """tier_qualifying_value for many members in one query: {member id: value} (absent: 0)."""
    start, end = tier_window(at)
    if settings.CLUB_TIER_BASIS == "spend":
        by_customer = {member.customer_id: member.pk for member in members}
        rows = Order.objects.filter(customer_id__in=by_customer, is_counted=True, placed_at__gte=start, placed_at__lte=end) \
            .values("customer_id").annotate(value=Sum("net_total")).values_list("customer_id", "value")
        return {by_customer[customer_id]: value or Decimal("0") for customer_id, value in rows}
    rows = PointsTransaction.objects.filter(
        member__in=[member.pk for member in members], kind__in=[Kind.EARN, Kind.REVERSE], created_at__gte=start,
        created_at__lte=end,
    ).values("member_id").annotate(points=Sum("points"), shortfall=Sum("shortfall")).values_list("member_id", "points", "shortfall")
    return {member_id: Decimal((points or 0) - (shortfall or 0)) for member_id, points, shortfall in rows}


def tier_for_value(value: Decimal) -> Tier | None:
    return Tier.objects.filter(threshold__lte=value).order_by("-rank").first()


def tier_next(tier: Tier | None) -> Tier | None:
    tiers = Tier.objects.order_by("rank")
    if tier is not None:
        tiers = tiers.filter(rank__gt=tier.rank)
    return tiers.first()
