"""Reads behind offers and coupons: whether a member may have an offer, the offers they can
redeem now, their coupons."""

from datetime import datetime

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from club.models import Membership, Offer


def offer_is_open(offer: Offer, at: datetime) -> bool:
    return offer.is_active and (offer.starts_at is None or offer.starts_at <= at) and (offer.ends_at is None or offer.ends_at > at)


def offer_refusal(*, member: Membership, offer: Offer, at: datetime | None = None) -> str | None:
    """Why this member cannot have this offer now (None when they can), not counting limits or points."""
    at = at or timezone.now()
    if not member.is_active:
        return _("Only active members can redeem offers.")
    if not offer_is_open(offer, at):
        return _("This offer is not available now.")
    rank = member.tier.rank if member.tier_id else -1
    if offer.min_tier_id and rank < offer.min_tier.rank:
        return _("This offer is for %(tier)s members and above.") % {"tier": offer.min_tier.name}
    if offer.exclusive and not (member.tier_id and member.tier.exclusive_offers):
        return _("This offer is exclusive to tiers with access to exclusive offers.")
    return None


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


def member_coupons(member: Membership, *, usable_only: bool = False, at: datetime | None = None) -> QuerySet:
    coupons = member.coupons.select_related("offer").order_by("-issued_at", "-id")
    if usable_only:
        at = at or timezone.now()
        coupons = coupons.filter(redeemed_at__isnull=True, valid_from__lte=at, expires_at__gt=at)
    return coupons
