"""Every write to orders: a batch of new orders (one order is a batch of one), status changes,
cancellations and refunds.

Every road an order arrives by - the API (one order and `orders/bulk/`), the `import_orders`
command and the admin's import (crm.importing.orders, which stages a file set-based and
ends in `orders_announce` too) - leads to the same place: the rows are written in bulk, the
customers' derived figures are refreshed once, and one `orders_created` event names the
whole batch, so the club earns points, the partners get their webhooks and campaigns record
their conversions for every order, whichever road it took.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audited
from core.rows import instances_insert
from crm import signals
from crm.models import Customer, Order, OrderLine, Product
from crm.services.customers import customers_add_new_orders, customers_refresh_order_stats
from crm.services.order_input import LineInput, OrderInput, order_input_clean


class OrdersInvalid(Exception):
    """Orders of an all-or-nothing batch are invalid; nothing was written.

    `errors` maps each bad order's index in the batch to its field errors ({"field": ["message"]})."""

    def __init__(self, errors: dict[int, dict[str, list[str]]]):
        super().__init__(f"{len(errors)} invalid order(s)")
        self.errors = dict(sorted(errors.items()))


def _decimal(value: Any, field: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("%(value)s is not a number.") % {"value": value}}) from None
    if not result.is_finite():
        raise ValidationError({field: _("%(value)s is not a number.") % {"value": value}})
    return result


PRODUCTS_READ_FIRST_FROM = 20  # SKUs in a batch


def products_ensure(lines: Iterable[LineInput]) -> dict[str, Product]:
    """The catalogue builds itself from what is sold: unknown SKUs become products."""
    by_sku = {line.sku: line for line in lines if line.sku}
    if not by_sku:
        return {}
    # A few SKUs (one order): insert-or-skip, then read, two statements whatever is known. Many (a batch): read
    # first and insert only the unknown ones; a till's batch names mostly known products, and sending hundreds
    # of rows only to have them skipped costs more than the read.
    products = {} if len(by_sku) <= PRODUCTS_READ_FIRST_FROM else \
        {product.sku: product for product in Product.objects.filter(sku__in=by_sku)}
    missing = [sku for sku in by_sku if sku not in products]
    if missing:
        # Another batch may add the same SKU meanwhile: its row is kept, and read with ours.
        Product.objects.bulk_create([Product(sku=sku, name=by_sku[sku].product_name or sku, category=by_sku[sku].category)
                                     for sku in missing], ignore_conflicts=True)
        products.update((product.sku, product) for product in Product.objects.filter(sku__in=missing))
    return products


def orders_check(orders: Sequence[OrderInput], *, source: str) -> list[OrderInput]:
    """Every order of the batch checked (crm.services.order_input) and typed, before anything is written.

    Order numbers must be new for `source` and unique within the batch. Raises OrdersInvalid
    with every bad order's errors."""
    errors: dict[int, dict[str, list[str]]] = {}
    cleaned = []
    for index, order in enumerate(orders):
        typed, found = order_input_clean(order)
        cleaned.append(typed)
        if found:
            errors[index] = found
    numbers = {order.order_number for order in cleaned if isinstance(order.order_number, str)}
    stored = set(Order.objects.filter(source=source, order_number__in=numbers).order_by().values_list("order_number", flat=True))
    first_at: dict[str, int] = {}
    for index, order in enumerate(cleaned):
        number = order.order_number
        if number in stored:
            message = _("An order with this number is already stored.")
        elif number in first_at:
            message = _("This order number is already used by the order at index %(index)s of this batch.") % {
                "index": first_at[number]}
        else:
            first_at[number] = index
            continue
        errors.setdefault(index, {}).setdefault("order_number", []).append(message)
    if errors:
        raise OrdersInvalid(errors)
    return cleaned


@audited
def orders_create(*, orders: Sequence[OrderInput], source: str = "", by=None) -> list[Order]:
    """Create a batch of orders, all or nothing, in a constant number of statements.

    Returns the orders in batch order. Raises OrdersInvalid (nothing written) when any is bad;
    the customers must exist (the caller resolved them, scoped to who asks)."""
    cleaned = orders_check(orders, source=source)
    if not cleaned:
        return []
    try:
        rows = _orders_write(cleaned, source)
    except IntegrityError:
        # Every number was checked above, so a writer that committed some of these orders since
        # (the same batch sent twice at once) is the likely cause: the loser is told which orders,
        # as it would be a moment later, rather than a bare conflict. Anything else stays a conflict.
        orders_check(orders, source=source)
        raise
    return rows


def _orders_write(cleaned: list[OrderInput], source: str) -> list[Order]:
    with transaction.atomic():
        rows = [_order_row(order, source) for order in cleaned]
        instances_insert(rows)
        products = products_ensure(line for order in cleaned for line in order.lines)
        lines = [
            [OrderLine(order=row, product=products.get(line.sku), sku=line.sku, product_name=line.product_name,
                       category=line.category or (products[line.sku].category if line.sku in products else ""),
                       quantity=line.quantity, unit_price=line.unit_price) for line in order.lines]
            for row, order in zip(rows, cleaned)
        ]
        instances_insert([line for order_lines in lines for line in order_lines])
        for row, order_lines in zip(rows, lines):
            _lines_known(row, order_lines)
        customers_add_new_orders(orders=rows)
        orders_announce(order_ids=[row.pk for row in rows], source=source, orders=rows)
    return rows


def _lines_known(order: Order, lines: list[OrderLine]) -> None:
    """`order.lines.all()` answers the lines just written without reading them back (as a prefetch
    leaves them): the API renders a batch's orders from what it wrote."""
    queryset = order.lines.all()  # filtered by the order, so a further .filter() on it stays this order's
    queryset._result_cache = lines
    queryset._prefetch_done = True
    order._prefetched_objects_cache = {"lines": queryset}


def _order_row(order: OrderInput, source: str) -> Order:
    # As the status services leave them: a fulfilled order was fulfilled when it was placed
    # (unless told otherwise), a refunded one was refunded in full.
    fulfilled_at = order.fulfilled_at
    if order.status == Order.Status.FULFILLED and fulfilled_at is None:
        fulfilled_at = order.placed_at
    row = Order(
        customer_id=order.customer_id, source=source, order_number=order.order_number, placed_at=order.placed_at,
        status=order.status, channel=order.channel, currency=order.currency, total=order.total, discount=order.discount,
        refunded_amount=order.total if order.status == Order.Status.REFUNDED else Decimal("0"), fulfilled_at=fulfilled_at,
    )
    if order.customer is not None and order.customer.pk == order.customer_id:
        row.customer = order.customer
    return row


def orders_announce(*, order_ids: Sequence[int], source: str, orders: Sequence[Order] | None = None) -> None:
    """The one event of new orders, sent inside the transaction that wrote them, by every road.

    The club earns in the same transaction (the orders and their points commit together);
    the webhooks' outbox rows are written in it too; campaigns record conversions after the commit.
    `orders`: the rows just written, when the caller holds them."""
    if order_ids:
        signals.orders_created.send(sender=Order, order_ids=list(order_ids), source=source,
                                    orders=list(orders) if orders is not None else None)


def order_create(
    *,
    customer: Customer,
    order_number: str,
    placed_at: datetime,
    total: Decimal | str,
    lines: Iterable[LineInput] = (),
    status: str = Order.Status.FULFILLED,
    channel: str = Order.Channel.STORE,
    currency: str = "USD",
    discount: Decimal | str = Decimal("0"),
    source: str = "",
    fulfilled_at: datetime | None = None,
    by=None,
) -> Order:
    """One order: a batch of one (orders_create). Raises ValidationError with its field errors."""
    order = OrderInput(
        customer_id=customer.pk, customer=customer, order_number=order_number, placed_at=placed_at, total=total,
        lines=tuple(lines), status=status, channel=channel, currency=currency, discount=discount, fulfilled_at=fulfilled_at,
    )
    try:
        return orders_create(orders=[order], source=source, by=by)[0]
    except OrdersInvalid as invalid:
        raise ValidationError(invalid.errors[0]) from None


def _change_order(order: Order, *, by, refund_lines: dict[int, int] | None = None, **changes) -> Order:
    locked = Order.objects.select_for_update().get(pk=order.pk)
    previous_status, previous_refunded = locked.status, locked.refunded_amount
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.save(update_fields=[*changes, "updated_at"])
    locked.refresh_from_db(fields=["is_counted", "net_total"])
    customers_refresh_order_stats(customer_ids=[locked.customer_id])
    signals.order_changed.send(
        sender=Order, order=locked, previous_status=previous_status, previous_refunded=previous_refunded, by=by,
        refund_lines=refund_lines,
    )
    return locked


_TRANSITIONS = {
    Order.Status.PLACED: {Order.Status.PAID, Order.Status.FULFILLED, Order.Status.CANCELLED},
    Order.Status.PAID: {Order.Status.FULFILLED, Order.Status.CANCELLED, Order.Status.REFUNDED},
    Order.Status.FULFILLED: {Order.Status.REFUNDED},
    Order.Status.CANCELLED: set(),
    Order.Status.REFUNDED: set(),
}


@audited
@transaction.atomic
def order_set_status(*, order: Order, status: str, by=None, at: datetime | None = None) -> Order:
    current = Order.objects.select_for_update().values_list("status", flat=True).get(pk=order.pk)
    if status == current:
        return order
    if status not in _TRANSITIONS.get(current, set()):
        raise ValidationError(
            {"status": _("An order that is %(current)s cannot become %(new)s.") % {"current": current, "new": status}}
        )
    changes: dict[str, Any] = {"status": status}
    if status == Order.Status.FULFILLED:
        changes["fulfilled_at"] = at or timezone.now()
    if status == Order.Status.REFUNDED:
        changes["refunded_amount"] = Order.objects.values_list("total", flat=True).get(pk=order.pk)
    return _change_order(order, by=by, **changes)


@audited
def order_cancel(*, order: Order, by=None) -> Order:
    return order_set_status(order=order, status=Order.Status.CANCELLED, by=by)


@audited
@transaction.atomic
def order_refund(*, order: Order, amount: Decimal | str, lines: dict[int, int] | None = None, by=None) -> Order:
    """Refund part or all of an order; a full refund sets the status to refunded.

    `lines` ({order_line_id: quantity}) names what is refunded (the returns desk does), so the club
    takes back those lines' points rather than the refunded share of the whole order."""
    amount = _decimal(amount, "amount")
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if amount <= 0:
        raise ValidationError({"amount": _("The refund must be more than zero.")})
    if locked.status in (Order.Status.CANCELLED, Order.Status.REFUNDED):
        raise ValidationError({"amount": _("A %(status)s order cannot be refunded.") % {"status": locked.get_status_display()}})
    remaining = locked.total - locked.refunded_amount
    if amount > remaining:
        raise ValidationError(
            {"amount": _("At most %(remaining)s can still be refunded on this order.") % {"remaining": remaining}}
        )
    if lines:
        _check_refund_lines(locked, lines)
    changes: dict[str, Any] = {"refunded_amount": locked.refunded_amount + amount}
    if amount == remaining:
        changes["status"] = Order.Status.REFUNDED
    return _change_order(locked, by=by, refund_lines=lines or None, **changes)


def _check_refund_lines(order: Order, lines: dict[int, int]) -> None:
    bought = dict(order.lines.values_list("pk", "quantity"))
    errors = {}
    for line_id, quantity in lines.items():
        if int(line_id) not in bought:
            errors[f"lines.{line_id}"] = _("Order line %(id)s is not a line of order %(number)s.") % {
                "id": line_id, "number": order.order_number}
        elif not 1 <= int(quantity) <= bought[int(line_id)]:
            errors[f"lines.{line_id}"] = _("Refund between 1 and %(count)s of this line.") % {"count": bought[int(line_id)]}
    if errors:
        raise ValidationError(errors)

