"""The returns desk: requests, their state machine, and what a refund sets in motion.

A refund (or store credit) grows the order's refunded amount through crm, which keeps the
customer's counted figures right, and takes back the points the returned lines earned
through the club, all in the same transaction as the state change.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from club.models import Membership, Offer
from club.services import coupon_issue, member_enroll, points_award
from core.audit import audited
from crm import services as crm_services
from crm.models import Order
from feedback import signals
from feedback.models import ReturnEvent, ReturnLine, ReturnRequest
from feedback.selectors import returnable_quantities, return_window_closes

State = ReturnRequest.State

TRANSITIONS: dict[str, set[str]] = {
    State.REQUESTED: {State.APPROVED, State.REJECTED},
    State.APPROVED: {State.RECEIVED},
    State.RECEIVED: {State.REFUNDED, State.EXCHANGED, State.CREDITED},
    State.REFUNDED: {State.CLOSED},
    State.EXCHANGED: {State.CLOSED},
    State.CREDITED: {State.CLOSED},
    State.REJECTED: {State.CLOSED},
    State.CLOSED: set(),
}
LINK_SALT = "feedback.returns.order-link"


@dataclass(frozen=True)
class LineRequest:
    order_line_id: int
    quantity: int
    reason: str
    note: str = ""


@audited
@transaction.atomic
def return_request_create(
    *,
    order: Order,
    lines: list[LineRequest],
    resolution: str = ReturnRequest.Resolution.REFUND,
    channel: str = ReturnRequest.Channel.STAFF,
    note: str = "",
    by=None,
    now=None,
) -> ReturnRequest:
    now = now or timezone.now()
    # Lock the order: two requests at once must not both return the last item.
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status == Order.Status.CANCELLED:
        raise ValidationError(_("A cancelled order cannot be returned."))
    if order.status == Order.Status.REFUNDED:
        raise ValidationError(_("This order has already been refunded in full."))
    if now > return_window_closes(order):
        raise ValidationError(
            _("The return window of %(days)s days for this order has closed.") % {"days": settings.FEEDBACK_RETURN_WINDOW_DAYS}
        )
    if resolution not in ReturnRequest.Resolution.values:
        raise ValidationError({"resolution": _("Choose refund, exchange or store credit.")})
    lines = [line for line in lines if line.quantity]
    if not lines:
        raise ValidationError({"lines": _("Choose at least one item to return.")})
    available = returnable_quantities(order)
    errors = {}
    seen = set()
    for line in lines:
        key = f"lines.{line.order_line_id}"
        if line.order_line_id not in available:
            errors[key] = _("This item is not part of order %(number)s.") % {"number": order.order_number}
        elif line.order_line_id in seen:
            errors[key] = _("This item is listed twice.")
        elif line.quantity < 1:
            errors[key] = _("The quantity must be at least 1.")
        elif line.quantity > available[line.order_line_id]:
            errors[key] = _("At most %(count)s of this item can be returned.") % {"count": max(available[line.order_line_id], 0)}
        elif line.reason not in ReturnLine.Reason.values:
            errors[key] = _("Choose a reason for this item.")
        seen.add(line.order_line_id)
    if errors:
        raise ValidationError(errors)
    request = ReturnRequest.objects.create(
        order=order, customer_id=order.customer_id, resolution=resolution, channel=channel, note=note[:5000],
        created_by=by, created_at=now,
    )
    ReturnLine.objects.bulk_create([
        ReturnLine(return_request=request, order_line_id=line.order_line_id, quantity=line.quantity, reason=line.reason,
                   note=line.note[:500])
        for line in lines
    ])
    ReturnEvent.objects.create(return_request=request, from_state="", to_state=State.REQUESTED, by=by, at=now)
    _announce(request)
    return request


@audited
@transaction.atomic
def return_transition(*, return_request: ReturnRequest, to_state: str, by=None, note: str = "") -> ReturnRequest:
    """Move a return to its next state; refused, with a message, when the move is not allowed."""
    request = ReturnRequest.objects.select_for_update().select_related("order").get(pk=return_request.pk)
    if to_state not in TRANSITIONS.get(request.state, set()):
        allowed = ", ".join(str(State(state).label) for state in sorted(TRANSITIONS.get(request.state, set()))) or _("none")
        raise ValidationError(
            _("A return that is %(current)s cannot become %(new)s (allowed: %(allowed)s).")
            % {"current": State(request.state).label, "new": State(to_state).label if to_state in State.values else to_state,
               "allowed": allowed}
        )
    previous = request.state
    if to_state == State.REJECTED:
        request.rejected = True
    elif to_state in (State.REFUNDED, State.CREDITED):
        request.refund_amount = _refund(request, by=by)
        if to_state == State.CREDITED:
            request.credit_reference = _store_credit(request, request.refund_amount, by=by)
    request.state = to_state
    request.save()
    ReturnEvent.objects.create(return_request=request, from_state=previous, to_state=to_state, by=by, note=note[:500])
    _announce(request)
    return request


def return_approve(*, return_request, by=None, note=""):
    return return_transition(return_request=return_request, to_state=State.APPROVED, by=by, note=note)


def return_reject(*, return_request, by=None, note=""):
    return return_transition(return_request=return_request, to_state=State.REJECTED, by=by, note=note)


def return_receive(*, return_request, by=None, note=""):
    return return_transition(return_request=return_request, to_state=State.RECEIVED, by=by, note=note)


def return_refund(*, return_request, by=None, note=""):
    return return_transition(return_request=return_request, to_state=State.REFUNDED, by=by, note=note)


def return_exchange(*, return_request, by=None, note=""):
    return return_transition(return_request=return_request, to_state=State.EXCHANGED, by=by, note=note)


def return_credit(*, return_request, by=None, note=""):
    return return_transition(return_request=return_request, to_state=State.CREDITED, by=by, note=note)


def return_close(*, return_request, by=None, note=""):
    return return_transition(return_request=return_request, to_state=State.CLOSED, by=by, note=note)


def _refund_value(request: ReturnRequest) -> Decimal:
    """The value of the returned lines, with the order's discount shared out pro rata."""
    order = request.order
    lines = list(request.lines.select_related("order_line"))
    returned = sum((line.order_line.unit_price * line.quantity for line in lines), Decimal("0"))
    subtotal = order.lines.aggregate(v=Sum(F("unit_price") * F("quantity")))["v"] or Decimal("0")
    if subtotal > 0 and subtotal != order.total:
        returned = returned * order.total / subtotal
    remaining = order.total - order.refunded_amount
    return min(returned.quantize(Decimal("0.01"), ROUND_HALF_UP), remaining)


def _refund(request: ReturnRequest, *, by) -> Decimal:
    amount = _refund_value(request)
    if amount > 0:
        # Naming the lines lets the club take back their points, on the one road every refund takes
        # (crm's order_changed): the returns desk never reverses points itself, so nothing is taken twice.
        crm_services.order_refund(order=request.order, amount=amount, by=by,
                                  lines={line.order_line_id: line.quantity for line in request.lines.all()})
    return amount


def _store_credit(request: ReturnRequest, amount: Decimal, *, by) -> str:
    member = Membership.objects.filter(customer_id=request.customer_id).first()
    if member is None:
        member = member_enroll(customer=request.customer, by=by, source="returns")
    key = f"return-credit:{request.public_id}"
    if settings.FEEDBACK_STORE_CREDIT_AS == "points":
        points = int((amount * settings.FEEDBACK_STORE_CREDIT_POINTS_PER_UNIT).to_integral_value(ROUND_HALF_UP))
        row = points_award(member=member, points=points, source="system", idempotency_key=key,
                           source_ref=f"return:{request.order.order_number}")
        return f"points:{row.pk}"
    coupon = coupon_issue(member=member, kind="store_credit", discount_kind=Offer.Kind.FIXED, value=amount,
                          idempotency_key=key, by=by)
    return coupon.code


def _announce(request: ReturnRequest) -> None:
    transaction.on_commit(lambda: signals.return_updated.send(sender=ReturnRequest, return_request=request))


def order_return_link(order: Order) -> str:
    """The path of the customer's return page for an order: signed, valid for the return window."""
    token = signing.dumps({"o": str(order.public_id)}, salt=LINK_SALT, compress=True)
    return reverse("returns:request", args=[token])


def order_for_return_link(token: str) -> Order:
    """The order of a return link; Order.DoesNotExist for a bad, forged or stale link."""
    max_age = timedelta(days=settings.FEEDBACK_RETURN_WINDOW_DAYS + 1)
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        raise Order.DoesNotExist from None
    if not isinstance(data, dict) or not isinstance(data.get("o"), str):
        raise Order.DoesNotExist
    try:
        return Order.objects.select_related("customer").get(public_id=data["o"])
    except (Order.DoesNotExist, ValidationError, ValueError):
        raise Order.DoesNotExist from None
