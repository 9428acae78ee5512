"""Reversals: taking back the points of a cancelled, returned or refunded order.

Whole orders or named lines, in proportion to the quantities returned; never more than
is left of an earning (what was reversed or expired before is gone); what the member has
already spent becomes a shortfall instead of a negative balance. Pending points of the
order are reduced first.
"""

from uuid import uuid4

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from club.models import Membership, PointsTransaction
from club.services.common import lock_member
from club.services.points.ledger import member_copy_locked, points_append
from club.services.points.pending import pending_holds_locked, pending_reduce
from core.audit import audited

Kind = PointsTransaction.Kind
Source = PointsTransaction.Source


@audited
@transaction.atomic
def points_reverse_for_order(
    *, order, lines: dict[int, int] | None = None, by=None, idempotency_key: str | None = None, source_ref: str = ""
) -> list[PointsTransaction]:
    """Take back the points an order earned: all that is left of them (lines=None, a
    cancellation or full refund), or those of the given {order_line_id: quantity}.

    Quantities beyond what is left to reverse are capped, so calling this after the order
    was already fully reversed does nothing. Points the member has already spent cannot
    be taken (the balance never goes negative): the rest is recorded as a shortfall on the
    reverse row and on the membership, where club managers see it. Pending points of the
    order are reduced first. `source_ref` names what caused it (a refund, a cancellation:
    club.services.points.refunds) on each row."""
    membership = Membership.objects.filter(customer_id=order.customer_id).first()
    if membership is None:
        return []
    wanted = _validated_lines(order, lines)
    member = lock_member(membership)
    _reverse_pending(member, order, wanted)
    rows = []
    earnings = PointsTransaction.objects.filter(member=member, order=order, kind=Kind.EARN, source=Source.ORDER).order_by("id")
    for earning in earnings:
        remaining_lines, remaining_points = left_to_reverse(earning)
        taken_lines, to_reverse = _take(remaining_lines, remaining_points, wanted)
        to_reverse = min(to_reverse, max(remaining_points, 0))  # never more than is left of the earning
        if to_reverse <= 0:
            continue
        if wanted is None:
            key = f"reverse:{earning.pk}:all"
        elif idempotency_key:
            key = f"reverse:{earning.pk}:{idempotency_key}"
        else:
            key = f"reverse:{earning.pk}:{uuid4().hex}"
        row = points_take_back(member=member, earning=earning, points=to_reverse, idempotency_key=key,
                               lines=taken_lines, source_ref=source_ref, by=by)
        rows.append(row)
    member_copy_locked(membership, member)
    return rows


def points_take_back(
    *, member: Membership, earning: PointsTransaction, points: int, idempotency_key: str, lines: dict | None = None,
    source_ref: str = "", by=None,
) -> PointsTransaction:
    """Append one reverse row taking `points` of `earning` back from a member the caller has locked.

    The row stores facts (the order, the earning, the lines, what caused it in `source_ref`), never
    a sentence, so each reader sees it in their own language. What the member already spent cannot
    be taken: it is recorded as the row's shortfall and added to the membership's."""
    take = min(points, member.points_balance)
    shortfall = points - take
    row, created = points_append(
        member=member, points=-take, kind=Kind.REVERSE, source=earning.source, idempotency_key=idempotency_key,
        order_id=earning.order_id, original=earning, lines=lines or {}, shortfall=shortfall, source_ref=source_ref[:100],
        created_by=by,
    )
    if created and shortfall:
        Membership.objects.filter(pk=member.pk).update(points_shortfall=F("points_shortfall") + shortfall)
        member.points_shortfall += shortfall
    return row


def _validated_lines(order, lines: dict[int, int] | None) -> dict[str, int] | None:
    if lines is None:
        return None
    known = set(order.lines.values_list("pk", flat=True))
    errors = {}
    wanted = {}
    for line_id, quantity in lines.items():
        if int(line_id) not in known:
            errors[f"lines.{line_id}"] = _("Order line %(id)s is not a line of order %(number)s.") % {
                "id": line_id, "number": order.order_number}
        elif int(quantity) < 1:
            errors[f"lines.{line_id}"] = _("Quantity must be at least 1.")
        else:
            wanted[str(int(line_id))] = int(quantity)
    if errors:
        raise ValidationError(errors)
    return wanted


def left_to_reverse(earning: PointsTransaction) -> tuple[dict, int]:
    """What of an earning is still there to reverse: per line, and in total."""
    lines = {key: dict(value) for key, value in earning.lines.items()}
    points = earning.points
    for followup in earning.followups.filter(kind__in=[Kind.REVERSE, Kind.EXPIRE]):
        if followup.kind == Kind.EXPIRE:  # expired points are gone: there is nothing of them to take back
            points += followup.points
            continue
        reverse = followup
        points -= -reverse.points + reverse.shortfall
        for key, value in reverse.lines.items():
            if key in lines:
                lines[key]["quantity"] -= value["quantity"]
                lines[key]["points"] -= value["points"]
    return lines, points


def _take(remaining_lines: dict, remaining_points: int, wanted: dict[str, int] | None) -> tuple[dict, int]:
    """The lines and points to reverse now, proportional to the quantities returned."""
    if wanted is None:
        taken = {key: value for key, value in remaining_lines.items() if value["quantity"] > 0}
        return taken, max(remaining_points, 0)
    taken = {}
    for key, quantity in wanted.items():
        line = remaining_lines.get(key)
        if not line or line["quantity"] <= 0:
            continue
        quantity = min(quantity, line["quantity"])
        # The last unit takes what is left, so rounding never leaves points behind.
        points = line["points"] if quantity == line["quantity"] else line["points"] * quantity // line["quantity"]
        taken[key] = {"quantity": quantity, "points": points}
    return taken, sum(value["points"] for value in taken.values())


def _reverse_pending(member: Membership, order, wanted: dict[str, int] | None) -> None:
    for pending in pending_holds_locked(member=member, order=order):
        taken, points = _take(pending.lines, pending.points, wanted)
        if points:
            pending_reduce(pending=pending, member=member, points=points, lines_taken=taken)
