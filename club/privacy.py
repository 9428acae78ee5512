"""The club's part of a customer's data export and erasure (contributed to core.privacy in club.contributions)."""

from club.models import Coupon, Membership, MemberNotice, PointsTransaction, Referral, TierChange
from core.privacy import ERASED_TEXT

def export_club(customer) -> dict:
    membership = Membership.objects.select_related("tier").filter(customer=customer).first()
    if membership is None:
        return {"membership": None, "ledger": [], "coupons": [], "referrals": []}
    return {
        "membership": {
            "member_number": membership.member_number, "status": membership.status, "joined_at": membership.joined_at,
            "source": membership.source, "tier": membership.tier.name if membership.tier else None,
            "points_balance": membership.points_balance, "pending_points": membership.pending_points,
        },
        "ledger": [
            {"created_at": row.created_at, "points": row.points, "kind": row.kind, "source": row.source,
             "reason": row.description, "order_number": row.order.order_number if row.order else None,
             "expires_at": row.expires_at}
            for row in membership.transactions.with_facts().order_by("created_at", "id")
        ],
        "coupons": [
            {"code": coupon.code, "kind": coupon.kind, "offer": coupon.offer.title if coupon.offer else None,
             "discount_kind": coupon.discount_kind, "value": coupon.value, "min_order_value": coupon.min_order_value,
             "valid_from": coupon.valid_from, "expires_at": coupon.expires_at, "redeemed_at": coupon.redeemed_at}
            for coupon in Coupon.objects.filter(member=membership).select_related("offer").order_by("issued_at", "id")
        ],
        "referrals": [
            {"created_at": referral.created_at, "rewarded_at": referral.rewarded_at}
            for referral in membership.referrals.order_by("created_at", "id")
        ],
    }


def erase_club(customer, *, by=None) -> None:
    """Points, coupons and the ledger stay (they are money-like); free text about the person goes.

    The ledger is append-only for amounts; its reasons are descriptions, and two kinds can
    name or describe the person: staff adjustments (free text) and the referrer's
    "Referral of <name>" row."""
    referral_ids = [str(pk) for pk in Referral.objects.filter(referred=customer).values_list("pk", flat=True)]
    if referral_ids:
        PointsTransaction.objects.filter(source=PointsTransaction.Source.REFERRAL, source_ref__in=referral_ids).exclude(
            member__customer=customer).update(reason=ERASED_TEXT)
    membership = Membership.objects.filter(customer=customer).first()
    if membership is None:
        return
    PointsTransaction.objects.filter(member=membership, source=PointsTransaction.Source.STAFF).update(reason=ERASED_TEXT)
    TierChange.objects.filter(member=membership).exclude(note="").update(note=ERASED_TEXT)
    MemberNotice.objects.filter(member=membership).update(context={})
