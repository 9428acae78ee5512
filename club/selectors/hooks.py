"""What the club lends crm: finding a customer by member number, the loyal stage, timeline entries."""

from django.db.models import Exists, OuterRef, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from club.codes import coupon_code_format, member_number_normalize
from club.models import Coupon, Membership, PointsTransaction
from core.timeline import TimelineEntry


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
        PointsTransaction.objects.filter(member__customer=customer).with_facts().select_related("created_by")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        TimelineEntry(
            when=row.created_at,
            kind="points",
            title=_("%(points)+d points: %(reason)s") % {"points": row.points, "reason": row.description},
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

