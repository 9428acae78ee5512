"""Every write to customers, orders and interactions goes through these functions.

Admin actions, API views, imports, tasks and commands all call them, so the derived
order figures, consent history and the events other apps listen to stay correct
whatever the entry point.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audited
from core.bounds import check_amount
from crm import signals
from crm.selectors import counted_order_stats_expressions
from crm.models import ConsentChange, Customer, Interaction, Order, OrderLine, Product, Tag

CUSTOMER_FIELDS = (
    "first_name", "last_name", "email", "phone", "external_ref", "birth_date", "gender", "language",
    "city", "country", "source", "acquired_at", "notes",
)
CONSENT_FIELDS = {"email_opt_in": ConsentChange.Channel.EMAIL, "sms_opt_in": ConsentChange.Channel.SMS}


def normalize_email(email: str | None) -> str | None:
    email = (email or "").strip()
    return email.lower() or None


def _clean_customer_values(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(values)
    if "email" in cleaned:
        cleaned["email"] = normalize_email(cleaned["email"])
    for name in ("phone", "external_ref"):
        if name in cleaned and not cleaned[name]:
            cleaned[name] = None
    if cleaned.get("external_ref"):
        cleaned["external_ref"] = cleaned["external_ref"].strip()
    if cleaned.get("country"):
        cleaned["country"] = cleaned["country"].strip().upper()
    return cleaned


@audited
@transaction.atomic
def customer_create(
    *,
    tags: Iterable[str] = (),
    email_opt_in: bool = False,
    sms_opt_in: bool = False,
    consent_source: str = "admin",
    by=None,
    **values: Any,
) -> Customer:
    unknown = set(values) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown customer fields: {', '.join(sorted(unknown))}")
    customer = Customer(**_clean_customer_values(values))
    customer.full_clean()
    customer.save()
    if tags:
        customer.tags.set(tags_ensure(tags))
    for channel, granted in ((ConsentChange.Channel.EMAIL, email_opt_in), (ConsentChange.Channel.SMS, sms_opt_in)):
        if granted:
            consent_set(customer=customer, channel=channel, granted=True, source=consent_source, by=by)
    signals.customer_created.send(sender=Customer, customer=customer)
    return customer


@audited
@transaction.atomic
def customer_update(*, customer: Customer, values: dict[str, Any], tags: Iterable[str] | None = None,
                    consent_source: str = "admin", by=None) -> Customer:
    consent = {field: values.pop(field) for field in list(values) if field in CONSENT_FIELDS}
    unknown = set(values) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown customer fields: {', '.join(sorted(unknown))}")
    for field, value in _clean_customer_values(values).items():
        setattr(customer, field, value)
    customer.full_clean(exclude=["tags"])
    customer.save()
    if tags is not None:
        customer.tags.set(tags_ensure(tags))
    for field, granted in consent.items():
        consent_set(customer=customer, channel=CONSENT_FIELDS[field], granted=bool(granted), source=consent_source, by=by)
    return customer


def tags_ensure(names: Iterable[str]) -> list[Tag]:
    wanted = {name.strip() for name in names if name and name.strip()}
    if not wanted:
        return []
    Tag.objects.bulk_create([Tag(name=name) for name in wanted], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=wanted))


@audited
@transaction.atomic
def consent_set(*, customer: Customer, channel: str, granted: bool, source: str, by=None,
                at: datetime | None = None) -> ConsentChange | None:
    """Record a consent change; does nothing when the consent already has that value."""
    field = f"{channel}_opt_in"
    if field not in CONSENT_FIELDS:
        raise ValidationError({"channel": _("Unknown consent channel %(channel)s.") % {"channel": channel}})
    if not source:
        raise ValidationError({"source": _("Say where the consent change came from.")})
    # Lock the row: two changes at once must leave the history and the flag in agreement.
    current = Customer.objects.select_for_update().values_list(field, flat=True).get(pk=customer.pk)
    if current == granted and customer.consent_changes.filter(channel=channel).exists():
        return None
    Customer.objects.filter(pk=customer.pk).update(**{field: granted, "updated_at": timezone.now()})
    setattr(customer, field, granted)
    return ConsentChange.objects.create(
        customer=customer, channel=channel, granted=granted, source=source, changed_by=by, changed_at=at or timezone.now()
    )


def customers_refresh_order_stats(*, customer_ids: Iterable[int] | None = None) -> int:
    """Recompute the derived order figures from counted orders, as one UPDATE.

    With no ids, every customer is recomputed (the repair command)."""
    queryset = Customer.objects.all()
    if customer_ids is not None:
        ids = list(customer_ids)
        if not ids:
            return 0
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(**counted_order_stats_expressions())


@dataclass(frozen=True)
class LineInput:
    sku: str = ""
    product_name: str = ""
    category: str = ""
    quantity: int = 1
    unit_price: Decimal = Decimal("0")


def _decimal(value: Any, field: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("%(value)s is not a number.") % {"value": value}}) from None
    if not result.is_finite():
        raise ValidationError({field: _("%(value)s is not a number.") % {"value": value}})
    return result


def products_ensure(lines: Iterable[LineInput]) -> dict[str, Product]:
    """The catalogue builds itself from what is sold: unknown SKUs become products."""
    by_sku = {line.sku: line for line in lines if line.sku}
    if not by_sku:
        return {}
    Product.objects.bulk_create(
        [Product(sku=sku, name=line.product_name or sku, category=line.category) for sku, line in by_sku.items()],
        ignore_conflicts=True,
    )
    return {product.sku: product for product in Product.objects.filter(sku__in=by_sku)}


@audited
@transaction.atomic
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
    lines = list(lines)
    if status == Order.Status.FULFILLED and fulfilled_at is None:
        fulfilled_at = placed_at
    order = Order(
        customer=customer, order_number=(order_number or "").strip(), placed_at=placed_at, status=status, channel=channel,
        currency=(currency or "").upper(), total=_decimal(total, "total"), discount=_decimal(discount, "discount"),
        source=source, fulfilled_at=fulfilled_at,
    )
    order.full_clean(exclude=["customer"])
    errors = {}
    for index, line in enumerate(lines):
        if line.quantity < 1:
            errors[f"lines[{index}].quantity"] = _("Quantity must be at least 1.")
        unit_price = _decimal(line.unit_price, f"lines[{index}].unit_price")
        if unit_price < 0:
            errors[f"lines[{index}].unit_price"] = _("Unit price cannot be negative.")
        try:
            check_amount(unit_price, field=f"lines[{index}].unit_price")
        except ValidationError as error:
            errors.update(error.error_dict)
        if not (line.sku or line.product_name):
            errors[f"lines[{index}]"] = _("A line needs a SKU or a product name.")
    if errors:
        raise ValidationError(errors)
    order.save()
    products = products_ensure(lines)
    OrderLine.objects.bulk_create([
        OrderLine(
            order=order, product=products.get(line.sku), sku=line.sku, product_name=line.product_name,
            category=line.category or (products[line.sku].category if line.sku in products else ""),
            quantity=line.quantity, unit_price=_decimal(line.unit_price, "unit_price"),
        )
        for line in lines
    ])
    customers_refresh_order_stats(customer_ids=[customer.pk])
    signals.order_created.send(sender=Order, order=order)
    return order


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


@transaction.atomic
def interaction_log(
    *,
    customer: Customer,
    subject: str,
    channel: str = Interaction.Channel.PHONE,
    direction: str = Interaction.Direction.INBOUND,
    body: str = "",
    status: str = Interaction.Status.RESOLVED,
    staff=None,
    occurred_at: datetime | None = None,
    follow_up_on: date | None = None,
    order: Order | None = None,
) -> Interaction:
    if order is not None and order.customer_id != customer.pk:
        raise ValidationError({"order": _("That order belongs to another customer.")})
    interaction = Interaction(
        customer=customer, subject=subject, channel=channel, direction=direction, body=body, status=status,
        staff=staff, occurred_at=occurred_at or timezone.now(), follow_up_on=follow_up_on, order=order,
    )
    if status == Interaction.Status.RESOLVED:
        interaction.resolved_at = timezone.now()
    interaction.full_clean()
    interaction.save()
    if status == Interaction.Status.RESOLVED:
        signals.interaction_resolved.send(sender=Interaction, interaction=interaction, by=staff)
    return interaction


@audited
@transaction.atomic
def interaction_resolve(*, interaction: Interaction, by=None) -> Interaction:
    # The conditional UPDATE makes a double click (or two staff at once) resolve it once.
    changed = Interaction.objects.filter(pk=interaction.pk).exclude(status=Interaction.Status.RESOLVED).update(
        status=Interaction.Status.RESOLVED, resolved_at=timezone.now()
    )
    interaction.refresh_from_db()
    if changed:
        signals.interaction_resolved.send(sender=Interaction, interaction=interaction, by=by)
    return interaction
