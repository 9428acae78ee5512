"""Reads behind offers and coupons: whether a member may have an offer, the offers they can
redeem now, their coupons, and whether a coupon can be used at a till (with its discount)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from club.codes import coupon_code_normalize
from club.models import Coupon, Membership, Offer


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


@dataclass(frozen=True)
class CouponCheck:
    valid: bool
    discount: Decimal = Decimal("0")
    reason: str = ""  # a machine code: unknown, not_yet_valid, expired, redeemed, below_minimum, member_inactive
    message: str = ""
    coupon: Coupon | None = None
    free_shipping: bool = False
    gift_product_id: int | None = None


def coupon_discount(coupon: Coupon, order_value: Decimal) -> Decimal:
    if coupon.discount_kind == Offer.Kind.PERCENT:
        return (order_value * coupon.value / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if coupon.discount_kind == Offer.Kind.FIXED:
        return min(coupon.value, order_value)
    return Decimal("0")


def coupon_validate(*, code: str, order_value: Decimal | str, customer=None, at: datetime | None = None) -> CouponCheck:
    """Can this coupon be used now, by this customer, on an order of this value? With the discount."""
    at = at or timezone.now()
    try:
        order_value = Decimal(str(order_value))
    except ArithmeticError:
        raise ValidationError({"order_value": _("Enter the order value as a number.")}) from None
    if not order_value.is_finite() or order_value < 0:
        raise ValidationError({"order_value": _("Enter the order value as a number.")})
    coupon = Coupon.objects.select_related("member").filter(code=coupon_code_normalize(code)).first()
    # Another customer's code reads exactly like a code that does not exist (reason and message),
    # so a till cannot probe which codes exist (issue 16).
    if coupon is None or (customer is not None and coupon.member.customer_id != customer.pk):
        return CouponCheck(False, reason="unknown", message=_("There is no coupon with this code."))
    refusals = (
        (coupon.redeemed_at is not None, "redeemed", _("This coupon has already been used.")),
        (coupon.member.status != Membership.Status.ACTIVE, "member_inactive", _("The membership is not active.")),
        (at < coupon.valid_from, "not_yet_valid", _("This coupon is not valid yet.")),
        (at >= coupon.expires_at, "expired", _("This coupon has expired.")),
        (order_value < coupon.min_order_value, "below_minimum",
         _("This coupon needs an order of at least %(minimum)s.") % {"minimum": coupon.min_order_value}),
    )
    for refused, reason, message in refusals:
        if refused:
            return CouponCheck(False, reason=reason, message=message, coupon=coupon)
    gift = coupon.offer.gift_product_id if coupon.offer_id and coupon.discount_kind == Offer.Kind.GIFT else None
    return CouponCheck(
        True, discount=coupon_discount(coupon, order_value), coupon=coupon,
        free_shipping=coupon.discount_kind == Offer.Kind.FREE_SHIPPING, gift_product_id=gift,
    )
