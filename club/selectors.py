"""Read side of the club: the member card, eligible offers, timeline entries, search and loyalty hooks."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from club.models import Coupon, Membership, Offer, PointsTransaction
from club.services.common import day_end
from club.services.membership import member_number_format, member_number_normalize
from club.services.offers import coupon_code_format, offer_refusal
from club.services.points import credit_remaining, credits_with_remaining
from club.services.tiers import tier_next, tier_qualifying_value
from core.timeline import TimelineEntry


def membership_for(customer) -> Membership | None:
    return Membership.objects.select_related("tier", "customer").filter(customer=customer).first()


@dataclass
class MemberCard:
    member: Membership
    member_number: str
    qualifying_value: Decimal
    basis: str
    next_tier: object | None
    to_next_tier: Decimal | None
    progress_percent: int
    expiring_points: int
    expiring_on: date | None
    transactions: list = field(default_factory=list)
    coupons: list = field(default_factory=list)
    tier_changes: list = field(default_factory=list)

    @property
    def tier(self):
        return self.member.tier

    @property
    def balance(self) -> int:
        return self.member.points_balance

    @property
    def pending(self) -> int:
        return self.member.pending_points

    @property
    def shortfall(self) -> int:
        return self.member.points_shortfall


def member_card(customer_or_member, *, at: datetime | None = None, rows: int = 20) -> MemberCard | None:
    """Everything the member card shows (admin, customer page, public card), in a fixed number of queries.
    None when the customer is not a member."""
    if isinstance(customer_or_member, Membership):
        member = customer_or_member
    else:
        member = membership_for(customer_or_member)
        if member is None:
            return None
    at = at or timezone.now()
    value = tier_qualifying_value(member=member, at=at)
    following = tier_next(member.tier)
    to_next = progress = None
    if following is not None:
        to_next = max(following.threshold - value, Decimal("0"))
        floor = member.tier.threshold if member.tier_id else Decimal("0")
        span = following.threshold - floor
        progress = 100 if span <= 0 else int(max(Decimal("0"), min(Decimal("100"), (value - floor) * 100 / span)))
    expiring, expiring_on = points_expiring(member, within_days=settings.CLUB_EXPIRY_WARNING_DAYS, at=at)
    return MemberCard(
        member=member,
        member_number=member_number_format(member.member_number),
        qualifying_value=value,
        basis=settings.CLUB_TIER_BASIS,
        next_tier=following,
        to_next_tier=to_next,
        progress_percent=100 if following is None else progress,
        expiring_points=expiring,
        expiring_on=expiring_on,
        transactions=list(member.transactions.select_related("created_by", "order").order_by("-created_at", "-id")[:rows]),
        coupons=list(member.coupons.select_related("offer", "redemption").order_by("-issued_at", "-id")[:rows]),
        tier_changes=list(member.tier_changes.select_related("from_tier", "to_tier", "changed_by")[:rows]),
    )


def points_expiring(member: Membership, *, within_days: int, at: datetime | None = None) -> tuple[int, date | None]:
    """Points that will expire in the next `within_days` days, and the first date they do."""
    at = at or timezone.now()
    end = day_end(timezone.localdate(at) + timedelta(days=within_days))
    total, first = 0, None
    for credit in credits_with_remaining([member.pk]).order_by():
        if credit.expires_at is None or credit.expires_at >= end:
            continue
        left = credit_remaining(credit)
        if left > 0:
            total += left
            first = min(first, credit.expires_at) if first else credit.expires_at
    return total, (timezone.localdate(first) if first else None)


def offers_for_member(member: Membership, *, at: datetime | None = None) -> list[Offer]:
    """Offers this member can redeem now (tier, exclusivity, window, limits), cheapest first."""
    at = at or timezone.now()
    offers = (
        Offer.objects.filter(is_active=True).filter(Q(starts_at__isnull=True) | Q(starts_at__lte=at), Q(ends_at__isnull=True) | Q(ends_at__gt=at))
        .filter(Q(total_limit__isnull=True) | Q(redeemed_count__lt=F("total_limit")))
        .annotate(mine=Count("coupons", filter=Q(coupons__member=member)))
        .select_related("min_tier").order_by("points_cost", "pk")
    )
    return [
        offer for offer in offers
        if offer_refusal(member=member, offer=offer, at=at) is None
        and (offer.per_member_limit is None or offer.mine < offer.per_member_limit)
    ]


def members_with_shortfall() -> QuerySet:
    return Membership.objects.filter(points_shortfall__gt=0).select_related("customer", "tier").order_by("-points_shortfall")


def member_ledger(member: Membership) -> QuerySet:
    return member.transactions.select_related("order", "created_by", "rule").order_by("-created_at", "-id")


def member_coupons(member: Membership, *, usable_only: bool = False, at: datetime | None = None) -> QuerySet:
    coupons = member.coupons.select_related("offer").order_by("-issued_at", "-id")
    if usable_only:
        at = at or timezone.now()
        coupons = coupons.filter(redeemed_at__isnull=True, valid_from__lte=at, expires_at__gt=at)
    return coupons


# --- Hooks for crm ---------------------------------------------------------------------------


def customer_search_by_member_number(term: str) -> Q | None:
    """crm's customer search finds a member by their number ("1234 5678 90" too)."""
    number = member_number_normalize(term)
    if number is None:
        return None
    return Q(Exists(Membership.objects.filter(customer=OuterRef("pk"), member_number=number)))


def loyal_members_condition() -> Q:
    """Active members of a tier marked 'counts as loyal' are in the loyal lifecycle stage."""
    return Q(membership__status=Membership.Status.ACTIVE, membership__tier__counts_as_loyal=True)


def _admin_url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def timeline_points(customer, *, limit: int) -> list[TimelineEntry]:
    rows = (
        PointsTransaction.objects.filter(member__customer=customer).select_related("order", "created_by")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        TimelineEntry(
            when=row.created_at,
            kind="points",
            title=_("%(points)+d points: %(reason)s") % {"points": row.points, "reason": row.reason or row.get_source_display()},
            detail=_("Shortfall: %(points)s points could not be taken back") % {"points": row.shortfall} if row.shortfall else "",
            url=_admin_url("admin:club_pointstransaction_change", row.pk),
            badge=row.get_kind_display(),
            extra={"staff": row.created_by.get_username() if row.created_by else "",
                   "order": row.order.order_number if row.order else ""},
        )
        for row in rows
    ]


def timeline_coupons(customer, *, limit: int) -> list[TimelineEntry]:
    coupons = Coupon.objects.filter(member__customer=customer).select_related("offer").order_by("-issued_at", "-id")[:limit]
    entries = []
    for coupon in coupons:
        label = coupon.offer.title if coupon.offer_id else coupon.get_kind_display()
        entries.append(TimelineEntry(
            when=coupon.issued_at,
            kind="coupon",
            title=_("Coupon %(code)s issued: %(label)s") % {"code": coupon_code_format(coupon.code), "label": label},
            detail=_("Used on %(when)s") % {"when": timezone.localtime(coupon.redeemed_at).strftime("%Y-%m-%d %H:%M")}
            if coupon.redeemed_at else _("Expires on %(when)s") % {"when": timezone.localdate(coupon.expires_at)},
            url=_admin_url("admin:club_coupon_change", coupon.pk),
            badge=_("Used") if coupon.redeemed_at else coupon.get_kind_display(),
        ))
    return entries

