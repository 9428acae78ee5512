"""Offers, coupons and their use at checkout.

Redeeming an offer spends the points and issues a coupon in one transaction under the
membership lock; the offer's total limit is claimed with a conditional UPDATE; a coupon
is used with a conditional UPDATE plus a one-to-one `CouponRedemption` row. So two tills
racing for the same coupon or the same points: one wins, the other gets a `Conflict`.
"""

import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from club import signals
from club.codes import CODE_ALPHABET, CODE_LENGTH
from club.exceptions import Conflict, CouponAlreadyRedeemed, LimitReached
from club.models import Coupon, CouponRedemption, Membership, Offer, PointsTransaction
from club.selectors.offers import coupon_validate, offer_refusal
from club.services.common import after_commit, lock_member
from club.services.points import points_append
from core.audit import audited


def coupon_code_generate() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@audited
@transaction.atomic
def offer_redeem(*, member: Membership, offer: Offer, idempotency_key: str | None = None, by=None) -> Coupon:
    """Spend the offer's points cost and issue its coupon.

    Raises ValidationError when the member may not have the offer, InsufficientPoints or
    LimitReached (both Conflict, 409) when the points or the limits run out. With an
    idempotency key, a retry returns the coupon the first call issued."""
    if idempotency_key:
        existing = Coupon.objects.filter(idempotency_key=f"offer:{idempotency_key}").first()
        if existing is not None:
            if existing.member_id != member.pk or existing.offer_id != offer.pk:
                raise Conflict(_("This idempotency key was already used for another redemption."), code="idempotency_key_reused")
            return existing
    locked = lock_member(member)
    offer = Offer.objects.select_related("min_tier").get(pk=offer.pk)
    refusal = offer_refusal(member=locked, offer=offer)
    if refusal:
        raise ValidationError({"offer": refusal})
    if offer.per_member_limit is not None and Coupon.objects.filter(offer=offer, member=locked).count() >= offer.per_member_limit:
        raise LimitReached(_("You have already redeemed this offer the most times allowed."))
    payment = None
    if offer.points_cost:
        payment, _created = points_append(
            member=locked, points=-offer.points_cost, kind=PointsTransaction.Kind.REDEEM, source=PointsTransaction.Source.OFFER,
            source_ref=str(offer.pk),
            idempotency_key=f"offer:{idempotency_key}" if idempotency_key else f"offer:{offer.pk}:{secrets.token_hex(12)}",
            created_by=by,
        )
    # The conditional UPDATE is the total limit: the database counts, not the Python code.
    claimed = Offer.objects.filter(pk=offer.pk).filter(Q(total_limit__isnull=True) | Q(redeemed_count__lt=F("total_limit"))) \
        .update(redeemed_count=F("redeemed_count") + 1)
    if not claimed:
        raise LimitReached(_("This offer has run out."))
    expires_at = timezone.now() + timedelta(days=offer.coupon_valid_days or settings.CLUB_COUPON_VALID_DAYS)
    coupon = coupon_issue(
        member=locked, kind=Coupon.Kind.OFFER, discount_kind=offer.kind, value=offer.value, offer=offer,
        min_order_value=offer.min_order_value, expires_at=expires_at, points_transaction=payment, by=by,
        idempotency_key=f"offer:{idempotency_key}" if idempotency_key else None,
    )
    member.points_balance = locked.points_balance
    return coupon


@audited
@transaction.atomic
def coupon_issue(
    *,
    member: Membership,
    kind: str,
    discount_kind: str,
    value: Decimal,
    expires_at: datetime | None = None,
    valid_from: datetime | None = None,
    min_order_value: Decimal = Decimal("0"),
    offer: Offer | None = None,
    points_transaction: PointsTransaction | None = None,
    idempotency_key: str | None = None,
    by=None,
) -> Coupon:
    """Issue a coupon with a unique, unguessable code (campaigns, store credit, birthdays, offers).

    With an idempotency key, a second call returns the first coupon."""
    if idempotency_key:
        existing = Coupon.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if discount_kind not in Offer.Kind.values:
        raise ValidationError({"discount_kind": _("Unknown discount kind %(kind)s.") % {"kind": discount_kind}})
    value = Decimal(value)
    if value < 0 or (discount_kind == Offer.Kind.PERCENT and value > 100):
        raise ValidationError({"value": _("A discount is between 0 and 100 percent, or a positive amount.")})
    valid_from = valid_from or timezone.now()
    expires_at = expires_at or valid_from + timedelta(days=settings.CLUB_COUPON_VALID_DAYS)
    if expires_at <= valid_from:
        raise ValidationError({"expires_at": _("A coupon must expire after it becomes valid.")})
    for _attempt in range(5):
        code = coupon_code_generate()
        try:
            with transaction.atomic():
                coupon = Coupon.objects.create(
                    code=code, member=member, kind=kind, discount_kind=discount_kind, value=value,
                    min_order_value=min_order_value, valid_from=valid_from, expires_at=expires_at, offer=offer,
                    points_transaction=points_transaction, idempotency_key=idempotency_key, issued_by=by,
                )
            break
        except IntegrityError:
            if idempotency_key and Coupon.objects.filter(idempotency_key=idempotency_key).exists():
                return Coupon.objects.get(idempotency_key=idempotency_key)
            if not Coupon.objects.filter(code=code).exists():
                raise
    else:
        raise RuntimeError("Could not find a free coupon code.")
    after_commit(signals.coupon_issued.send, sender=Coupon, coupon=coupon)
    return coupon


@audited
@transaction.atomic
def coupon_redeem(
    *, code: str, order_value: Decimal | str, customer=None, order=None, reference: str = "", by=None
) -> CouponRedemption:
    """Use a coupon at checkout, once. A second use (or a till that lost the race) gets CouponAlreadyRedeemed (409)."""
    if order is not None and customer is not None and order.customer_id != customer.pk:
        raise ValidationError({"order": _("That order belongs to another customer.")})
    check = coupon_validate(code=code, order_value=order_value, customer=customer)
    if check.reason == "redeemed":
        raise CouponAlreadyRedeemed(check.message)
    if not check.valid:
        raise ValidationError({"code": check.message}, code=check.reason)
    now = timezone.now()
    # Two tills at once: the second UPDATE waits for the first to commit, then matches no row.
    if not Coupon.objects.filter(pk=check.coupon.pk, redeemed_at__isnull=True).update(redeemed_at=now):
        raise CouponAlreadyRedeemed(_("This coupon has already been used."))
    redemption = CouponRedemption.objects.create(
        coupon=check.coupon, order=order, order_value=Decimal(str(order_value)), discount=check.discount,
        reference=reference[:100], redeemed_at=now, redeemed_by=by,
    )
    check.coupon.redeemed_at = now
    after_commit(signals.coupon_redeemed.send, sender=Coupon, coupon=check.coupon, redemption=redemption)
    return redemption
