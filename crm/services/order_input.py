"""The one check of an order's input, whatever road it came by.

The API's serializer, the file importer and the batch service (crm.services.orders) call
these functions, so the same bad value gets the same message everywhere: a field error in
the API (`{"total": ["total \"1.234\" has more than 2 decimal places"]}`) and `line N:
reason` in a file. Each cleaner takes what the caller received (text from a file, text or a
number from JSON, or an already typed value from Python) and returns the typed value, or
raises BadValue with the message.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from core.bounds import AMOUNT_MAX, amount_limit_text
from crm.models import Customer, Order

ORDER_NUMBER_MAX = 64
TEXT_LIMITS = {"sku": 64, "product_name": 200, "category": 100}
QUANTITY_MAX = 1_000_000
LINES_MAX = 1000
# Date arithmetic on orders (return windows, conversion windows, tier windows) needs room on both sides.
YEAR_MIN, YEAR_MAX = 1900, 2999
STATUSES = tuple(Order.Status.values)
CHANNELS = tuple(Order.Channel.values)
_CENT = Decimal("0.01")


class BadValue(ValueError):
    """One value is wrong; str() is the message a user reads."""


@dataclass(frozen=True)
class LineInput:
    sku: str = ""
    product_name: str = ""
    category: str = ""
    quantity: int = 1
    unit_price: Decimal = Decimal("0")


@dataclass(frozen=True)
class OrderInput:
    """One order as every road hands it to crm.services.orders_create, its values typed."""

    customer_id: int
    order_number: str
    placed_at: datetime
    total: Decimal
    lines: tuple[LineInput, ...] = field(default_factory=tuple)
    status: str = Order.Status.FULFILLED
    channel: str = Order.Channel.STORE
    currency: str = "USD"
    discount: Decimal = Decimal("0")
    fulfilled_at: datetime | None = None
    # The customer's row, when the caller holds it (the API's roads, order_create): the written order carries it,
    # so what renders the order (the API's answer, the order.created webhook) need not read it again.
    customer: Customer | None = None


# --- Cleaners: raw value -> typed value, or BadValue --------------------------------------------


def clean_money(value, column: str) -> Decimal:
    """A non-negative amount with at most 2 decimal places, below core.bounds.AMOUNT_MAX."""
    text = str(value).strip()
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or isinstance(value, bool):
        raise BadValue(_('%(column)s "%(value)s" is not a number') % {"column": column, "value": text})
    if number < 0:
        raise BadValue(_('%(column)s "%(value)s" is negative') % {"column": column, "value": text})
    if number > AMOUNT_MAX:
        raise BadValue(_('%(column)s "%(value)s" is larger than the limit of %(limit)s') % {
            "column": column, "value": text, "limit": amount_limit_text()})
    if number != number.quantize(_CENT, rounding="ROUND_DOWN"):
        raise BadValue(_('%(column)s "%(value)s" has more than 2 decimal places') % {"column": column, "value": text})
    return number.quantize(_CENT)


def clean_quantity(value, column: str = "quantity") -> int:
    text = str(value).strip()
    if not isinstance(value, bool) and text.isascii() and text.isdigit():
        number = int(text)
        if number > QUANTITY_MAX:
            raise BadValue(_('%(column)s "%(value)s" is larger than the limit of %(limit)s') % {
                "column": column, "value": text, "limit": QUANTITY_MAX})
        if number >= 1:
            return number
    raise BadValue(_('%(column)s "%(value)s" is not a whole number of at least 1') % {"column": column, "value": text})


def clean_text(value, column: str, limit: int, *, required: bool = False) -> str:
    text = str(value if value is not None else "").strip()
    if required and not text:
        raise BadValue(_("%(column)s is required") % {"column": column})
    if len(text) > limit:
        raise BadValue(_("%(column)s is longer than %(limit)s characters") % {"column": column, "limit": limit})
    return text


def clean_order_number(value) -> str:
    return clean_text(value, "order_number", ORDER_NUMBER_MAX, required=True)


def clean_choice(value, column: str, choices: tuple[str, ...], default: str) -> str:
    text = str(value if value is not None else "").strip()
    cleaned = text.lower() or default
    if cleaned not in choices:
        raise BadValue(_('%(column)s "%(value)s" is not one of %(choices)s') % {
            "column": column, "value": text, "choices": ", ".join(choices)})
    return cleaned


def clean_status(value) -> str:
    return clean_choice(value, "status", STATUSES, Order.Status.FULFILLED.value)


def clean_channel(value) -> str:
    return clean_choice(value, "channel", CHANNELS, Order.Channel.STORE.value)


def clean_currency(value) -> str:
    text = str(value if value is not None else "").strip()
    currency = text.upper() or "USD"
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        raise BadValue(_('currency "%(value)s" is not a 3-letter code') % {"value": text})
    return currency


def clean_placed_at(value: datetime, column: str = "placed_at") -> datetime:
    """A moment the order tables can do date arithmetic around (the parsing is the caller's: ISO text)."""
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        raise BadValue(_('%(column)s "%(value)s" is out of range (years %(min)s to %(max)s)') % {
            "column": column, "value": value.isoformat(), "min": YEAR_MIN, "max": YEAR_MAX})
    return value


# --- The whole order -------------------------------------------------------------------------------


def order_input_clean(order: OrderInput) -> tuple[OrderInput, dict[str, list[str]]]:
    """The order with its values typed and normalised, and every problem by field (`lines[2].unit_price`
    for a line's); the errors are {} when it is good.

    The batch service runs it on every order, so a Python caller that built its OrderInput by
    hand (with text amounts, say) is held to what the API and the importer check."""
    errors: dict[str, list[str]] = {}

    def clean(name: str, cleaner, value, *args):
        try:
            return cleaner(value, *args)
        except BadValue as exc:
            errors.setdefault(name, []).append(str(exc))
            return value

    lines = []
    if len(order.lines) > LINES_MAX:
        errors["lines"] = [_("An order has at most %(limit)s lines.") % {"limit": LINES_MAX}]
    else:
        for index, line in enumerate(order.lines):
            prefix = f"lines[{index}]"
            texts = {column: clean(f"{prefix}.{column}", clean_text, getattr(line, column), column, limit)
                     for column, limit in TEXT_LIMITS.items()}
            if not (texts["sku"] or texts["product_name"]):
                errors.setdefault(prefix, []).append(_("a line needs a sku or a product_name"))
            lines.append(LineInput(**texts, quantity=clean(f"{prefix}.quantity", clean_quantity, line.quantity),
                                   unit_price=clean(f"{prefix}.unit_price", clean_money, line.unit_price, "unit_price")))
    cleaned = OrderInput(
        customer_id=order.customer_id,
        order_number=clean("order_number", clean_order_number, order.order_number),
        placed_at=clean("placed_at", clean_placed_at, order.placed_at),
        total=clean("total", clean_money, order.total, "total"),
        lines=tuple(lines),
        status=clean("status", clean_status, order.status),
        channel=clean("channel", clean_channel, order.channel),
        currency=clean("currency", clean_currency, order.currency),
        discount=clean("discount", clean_money, order.discount, "discount"),
        fulfilled_at=order.fulfilled_at,
        customer=order.customer,
    )
    if "total" not in errors and "discount" not in errors and cleaned.discount > cleaned.total:
        errors.setdefault("discount", []).append(
            _('discount "%(discount)s" is larger than the total %(total)s') % {"discount": cleaned.discount, "total": cleaned.total})
    return cleaned, errors
