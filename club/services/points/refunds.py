"""Refunds and cancellations take points back.

Every road that refunds or cancels an order (the API's `orders/{id}/refund/` and `cancel/`, the
admin's actions, the returns desk) goes through crm's `order_refund` / `order_cancel`, whose
`order_changed` signal reaches `points_take_back_for_order_change` (club.receivers). Nothing else
takes an order's points back, so a refund is never taken twice by two roads.

- A refund that names lines takes back those lines' points, in proportion to the quantities.
- A partial refund that names no lines takes back the refunded share of each earning, counted
  on the cumulative refunded amount: after refunds totalling R of an order of T, an earning of P
  has given back floor(P x R / T). Rounding down means a refund never takes more than its share,
  and the cumulative count means two refunds of 40 take back exactly what one of 80 would.
- A full refund or a cancellation takes back all that is left.
- Never more than is left of an earning: what expired or was taken back before is gone.
- When the referred customer's qualifying first order is cancelled or fully refunded, the
  referral's rewards are taken back.

One take-back per refund: the idempotency key holds the order's cumulative refunded amount after
the refund, which only grows, so it names the refund; each row's `source_ref` holds the facts
(`refund:<refunded before>-<refunded after>` of the order, or `cancel`), never a sentence.
"""

from decimal import ROUND_FLOOR, Decimal

from django.db import transaction

from club.models import Membership, PointsTransaction, Referral
from club.services.common import lock_member
from club.services.points.ledger import member_copy_locked
from club.services.points.pending import pending_holds_locked, pending_reduce
from club.services.points.reversals import left_to_reverse, points_reverse_for_order, points_take_back

Kind = PointsTransaction.Kind
Source = PointsTransaction.Source
CANCEL_REF = "cancel"


def refund_reference(*, before: Decimal, after: Decimal) -> str:
    """The facts a take-back row keeps about its refund: the order's refunded amount before and after it."""
    return f"refund:{_cents(before)}-{_cents(after)}"


@transaction.atomic
def points_take_back_for_order_change(
    *, order, previous_status: str, previous_refunded: Decimal, refund_lines: dict[int, int] | None = None, by=None
) -> list[PointsTransaction]:
    """Take back what a cancellation or a refund of `order` removes from the points it earned."""
    ended = order.status in (order.Status.CANCELLED, order.Status.REFUNDED) and previous_status != order.status
    refunded = order.refunded_amount > previous_refunded
    if not (ended or refunded):
        return []
    source_ref = refund_reference(before=previous_refunded, after=order.refunded_amount) if refunded else CANCEL_REF
    if ended:
        rows = points_reverse_for_order(order=order, by=by, source_ref=source_ref)
        return rows + referral_take_back(order=order, source_ref=source_ref, by=by)
    key = f"refund:{_cents(order.refunded_amount)}"
    if refund_lines:
        return points_reverse_for_order(order=order, lines=refund_lines, by=by, idempotency_key=key, source_ref=source_ref)
    return _take_back_share(order, before=previous_refunded, key=key, source_ref=source_ref, by=by)


def referral_take_back(*, order, source_ref: str, by=None) -> list[PointsTransaction]:
    """Take back the rewards of the referral `order` qualified (the referrer's and the new customer's)."""
    referral = Referral.objects.filter(order=order).first()
    if referral is None:
        return []
    rows = []
    earnings = PointsTransaction.objects.filter(kind=Kind.EARN, source=Source.REFERRAL, source_ref=str(referral.pk))
    for earning in earnings.order_by("member_id", "id"):  # one lock order, whoever runs this
        member = lock_member(earning.member_id)
        _lines, remaining = left_to_reverse(earning)
        if remaining > 0:
            rows.append(points_take_back(member=member, earning=earning, points=remaining,
                                         idempotency_key=f"reverse:{earning.pk}:all", source_ref=source_ref, by=by))
    return rows


def _take_back_share(order, *, before: Decimal, key: str, source_ref: str, by) -> list[PointsTransaction]:
    membership = Membership.objects.filter(customer_id=order.customer_id).first()
    if membership is None or order.total <= 0:
        return []
    member = lock_member(membership)
    after = order.refunded_amount
    _reduce_pending(member, order, share=(after - before) / (order.total - before))
    rows = []
    earnings = PointsTransaction.objects.filter(member=member, order=order, kind=Kind.EARN, source=Source.ORDER)
    for earning in earnings.order_by("id"):
        share = _floor(earning.points * after / order.total) - _floor(earning.points * before / order.total)
        _lines, remaining = left_to_reverse(earning)
        points = min(share, remaining)  # never more than is left: expired or taken back before is gone
        if points > 0:
            rows.append(points_take_back(member=member, earning=earning, points=points,
                                         idempotency_key=f"reverse:{earning.pk}:{key}", source_ref=source_ref, by=by))
    member_copy_locked(membership, member)
    return rows


def _reduce_pending(member: Membership, order, *, share: Decimal) -> None:
    """Points still pending have no history to count on, so each refund takes its share of what is left of them."""
    for pending in pending_holds_locked(member=member, order=order):
        points = min(_floor(pending.points * share), pending.points)
        if points > 0:
            pending_reduce(pending=pending, member=member, points=points)


def _cents(amount: Decimal) -> Decimal:
    # The database hands back 0 or 0.00 depending on the engine; a key must read the same on both.
    return Decimal(amount).quantize(Decimal("0.01"))


def _floor(value) -> int:
    return int(Decimal(value).to_integral_value(ROUND_FLOOR))
