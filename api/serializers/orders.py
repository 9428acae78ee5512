"""Orders and their lines, one at a time and in bulk."""

import re
from collections import defaultdict
import uuid

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from django.utils import timezone
from django.utils.functional import cached_property
from rest_framework import serializers

from api import services
from api.serializers.base import AmountField, StrictSerializer, datetime_text, money_text
from core.bounds import AMOUNT_MAX
from core.value_rows import Row
from crm.models import MONEY, Order, OrderLine
from crm.services import order_input
from crm.services.order_input import BadValue


class Checked:
    """A field whose value is checked by crm's one order validator (crm.services.order_input), so the
    API answers a bad value with the very message a file import gives for it (`line N: <message>`)."""

    def __init__(self, *args, check, **kwargs):
        self.check = check
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, (dict, list)):
            self.fail("invalid")
        try:
            return self.check(data)
        except BadValue as exc:
            raise serializers.ValidationError(str(exc)) from None


class CheckedText(Checked, serializers.CharField):
    pass


class CheckedChoice(Checked, serializers.ChoiceField):
    # A choice is a string: a list or an object gets CharField's message (ChoiceField has no `invalid`).
    default_error_messages = {"invalid": serializers.CharField.default_error_messages["invalid"]}


class CheckedAmount(Checked, serializers.DecimalField):
    def __init__(self, column: str, **kwargs):
        super().__init__(check=lambda value: order_input.clean_money(value, column), min_value=0,
                         max_value=AMOUNT_MAX, **MONEY, **kwargs)


class CheckedQuantity(Checked, serializers.IntegerField):
    pass


def _text(column: str):
    return lambda value: order_input.clean_text(value, column, order_input.TEXT_LIMITS[column])


def placed_at_plausible(value):
    try:
        order_input.clean_placed_at(value)
    except BadValue as exc:
        raise serializers.ValidationError(str(exc)) from None


class OrderLineSerializer(StrictSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    sku = CheckedText(check=_text("sku"), max_length=64, required=False, allow_blank=True, default="")
    product_name = CheckedText(check=_text("product_name"), max_length=200, required=False, allow_blank=True, default="")
    category = CheckedText(check=_text("category"), max_length=100, required=False, allow_blank=True, default="")
    quantity = CheckedQuantity(check=order_input.clean_quantity, min_value=1, max_value=order_input.QUANTITY_MAX, default=1)
    unit_price = CheckedAmount("unit_price")

    def validate(self, attrs):
        if not (attrs.get("sku") or attrs.get("product_name")):
            raise serializers.ValidationError(_("a line needs a sku or a product_name"))
        return attrs


ORDER_ROW_FIELDS = (
    "id", "public_id", "customer__public_id", "order_number", "placed_at", "status", "channel", "currency", "total",
    "discount", "refunded_amount", "source", "created_at",
)
LINE_FIELDS = ("order_id", "public_id", "sku", "product_name", "category", "quantity", "unit_price")


def order_rows(queryset):
    """The orders as the rows `OrderSerializer.render_page` renders."""
    return queryset.prefetch_related(None).values(*ORDER_ROW_FIELDS)


class OrderSerializer(StrictSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    customer = serializers.UUIDField(source="customer.public_id")
    order_number = CheckedText(check=order_input.clean_order_number, max_length=order_input.ORDER_NUMBER_MAX)
    placed_at = serializers.DateTimeField(validators=[placed_at_plausible])
    status = CheckedChoice(check=order_input.clean_status, choices=Order.Status.choices, default=Order.Status.FULFILLED)
    channel = CheckedChoice(check=order_input.clean_channel, choices=Order.Channel.choices, default=Order.Channel.STORE)
    currency = CheckedText(check=order_input.clean_currency, max_length=3, default="USD")
    total = CheckedAmount("total")
    discount = CheckedAmount("discount", default="0")
    refunded_amount = serializers.DecimalField(read_only=True, **MONEY)
    source = serializers.CharField(read_only=True)
    lines = OrderLineSerializer(many=True, required=False, max_length=order_input.LINES_MAX)
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance):
        """The same output as the declared fields give (a test compares the two), built directly: a bulk
        call answers with 1,000 orders and their lines, and DRF's per-field machinery was most of that.

        The customer's public id comes from `customer.public_id` (Order.objects.with_customer_public_id, or the
        customer an order just written carries: crm.services.OrderInput.customer); the lines from `lines.all()`."""
        return self.render(instance, instance.customer.public_id, instance.lines.all(), self.time_zone)

    @staticmethod
    def render(order, customer, lines, tz) -> dict:
        return {
            "id": str(order.public_id),
            "customer": str(customer),
            "order_number": order.order_number,
            "placed_at": datetime_text(order.placed_at, tz),
            "status": order.status,
            "channel": order.channel,
            "currency": order.currency,
            "total": _money(order.total),
            "discount": _money(order.discount),
            "refunded_amount": _money(order.refunded_amount),
            "source": order.source,
            "lines": [
                {"id": str(line.public_id), "sku": line.sku, "product_name": line.product_name, "category": line.category,
                 "quantity": line.quantity, "unit_price": _money(line.unit_price)}
                for line in lines
            ],
            "created_at": datetime_text(order.created_at, tz),
        }

    @classmethod
    def render_page(cls, rows) -> list[dict]:
        """A list page rendered from `.values()` rows (`order_rows`, paginated): the same output as
        `to_representation` (a test compares them) without building an instance per order and line; the lines of
        the whole page in one query."""
        rows = [Row(row) for row in rows]
        lines = defaultdict(list)
        for line in OrderLine.objects.filter(order_id__in=[row.id for row in rows]).order_by("id").values(*LINE_FIELDS):
            lines[line["order_id"]].append(Row(line))
        tz = timezone.get_current_timezone()
        return [cls.render(row, row.customer__public_id, lines[row.id], tz) for row in rows]

    @cached_property
    def time_zone(self):
        """Looked up once per page or batch: a list's items share the child serializer."""
        return timezone.get_current_timezone()

    def to_representation_by_fields(self, instance):
        """DRF's own rendering of the declared fields: the reference the fast path is tested against."""
        return super().to_representation(instance)


_MONEY = serializers.DecimalField(**MONEY)


def _money(value):
    return money_text(value, _MONEY)


class RefundLineSerializer(StrictSerializer):
    """A line of the order (its `id`) and how many of it are refunded."""

    line = serializers.UUIDField(help_text=gettext_lazy("The `id` of a line of the order."))
    quantity = serializers.IntegerField(
        min_value=1, max_value=1_000_000,
        help_text=gettext_lazy("How many of the line are refunded, at most as many as were bought."),
    )


class RefundSerializer(StrictSerializer):
    """The amount refunded and, optionally, the lines it refunds."""

    amount = AmountField()
    lines = RefundLineSerializer(
        many=True, required=False, max_length=1000,
        help_text=gettext_lazy("The lines refunded, each once: the club takes back those lines' points. "
                               "Without lines it takes back the refunded share of the order's points."),
    )

    def validate_lines(self, lines):
        seen: set = set()
        errors = []
        for line in lines:
            errors.append({"line": [_("This item is listed twice.")]} if line["line"] in seen else {})
            seen.add(line["line"])
        if any(errors):
            raise serializers.ValidationError(errors)
        return lines


class BulkOrdersInputSerializer(StrictSerializer):
    """The envelope; each item is checked on its own (OrderSerializer), so every bad item is reported."""

    orders = serializers.ListField(child=serializers.JSONField(), allow_empty=False, max_length=services.BATCH_MAX_ORDERS)


class BulkOrdersSchemaSerializer(StrictSerializer):
    orders = OrderSerializer(many=True, allow_empty=False, max_length=services.BATCH_MAX_ORDERS,
                             help_text=gettext_lazy("1 to 1,000 orders, stored all or nothing."))


class BulkOrdersResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    orders = OrderSerializer(many=True, help_text=gettext_lazy("The orders stored, in the order they were sent."))


_FIELD_ERRORS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}


@extend_schema_field({"oneOf": [
    {"type": "array", "description": "Each bad order: its position in `orders` (from 0) and its field errors.",
     "items": {"type": "object", "required": ["index", "errors"],
               "properties": {"index": {"type": "integer"}, "errors": _FIELD_ERRORS}}},
    {**_FIELD_ERRORS, "description": "Errors of the envelope itself (e.g. `orders` empty or too long)."},
]})
class BulkErrorsField(serializers.JSONField):
    pass


class BulkProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, with each bad order's field errors."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = BulkErrorsField(required=False)


# --- The bulk call's fast path -------------------------------------------------------------------

_ORDER_KEYS = frozenset({"customer", "order_number", "placed_at", "status", "channel", "currency", "total", "discount",
                         "lines"})
_LINE_KEYS = frozenset({"sku", "product_name", "category", "quantity", "unit_price"})
_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")  # what DRF's CharField refuses besides the cleaners' checks


def orders_validated_plainly(items: list) -> list[dict] | None:
    """The validated data OrderSerializer(data=items, many=True) gives, computed with crm's cleaners
    directly (crm.services.order_input): DRF's per-field machinery was a third of a 1,000-order call.

    Only for items that are plainly good: at the first value that is missing, null, of another type,
    or refused by a cleaner, it answers None and the caller runs the serializer, whose errors are the
    API's answer. A test holds the two to the same result."""
    placed_at = OrderSerializer().fields["placed_at"]
    # The time zone read once for the batch: DRF would look the current one up (through asgiref's context-local
    # storage) for every item, the better part of the check's time.
    placed_at.timezone = placed_at.default_timezone()
    validated = []
    try:
        for item in items:
            validated.append(_order_plainly(item, placed_at))
    except (_NotPlain, BadValue, serializers.ValidationError, KeyError, ValueError, TypeError, AttributeError):
        return None
    return validated


class _NotPlain(Exception):
    pass


def _text(value, cleaner) -> str:
    """A text DRF does not answer `blank` for (those go to the serializer), cleaned as its Checked field does."""
    if type(value) is not str or not value.strip() or (not value.isascii() and _UNSAFE_TEXT.search(value)) or "\x00" in value:
        raise _NotPlain
    return cleaner(value)


def _blankable(value, column: str) -> str:
    if type(value) is not str or (not value.isascii() and _UNSAFE_TEXT.search(value)) or "\x00" in value:
        raise _NotPlain
    if not value.strip():
        return ""
    return order_input.clean_text(value, column, order_input.TEXT_LIMITS[column])


def _number(value):
    if value is None or isinstance(value, (dict, list)):
        raise _NotPlain
    return value


def _order_plainly(item, placed_at_field) -> dict:
    if type(item) is not dict or not item.keys() <= _ORDER_KEYS:
        raise _NotPlain
    customer = item["customer"]
    if type(customer) is not str:
        raise _NotPlain
    data = {
        "customer": {"public_id": uuid.UUID(customer)},
        "order_number": _text(item["order_number"], order_input.clean_order_number),
        "placed_at": placed_at_field.run_validation(_number(item["placed_at"])),
        "status": _text(item["status"], order_input.clean_status) if "status" in item else Order.Status.FULFILLED,
        "channel": _text(item["channel"], order_input.clean_channel) if "channel" in item else Order.Channel.STORE,
        "currency": _text(item["currency"], order_input.clean_currency) if "currency" in item else "USD",
        "total": order_input.clean_money(_number(item["total"]), "total"),
        "discount": order_input.clean_money(_number(item["discount"]), "discount") if "discount" in item else "0",
    }
    if "lines" in item:
        lines = item["lines"]
        if type(lines) is not list or len(lines) > order_input.LINES_MAX:
            raise _NotPlain
        data["lines"] = [_line_plainly(line) for line in lines]
    return data


def _line_plainly(line) -> dict:
    if type(line) is not dict or not line.keys() <= _LINE_KEYS:
        raise _NotPlain
    data = {column: _blankable(line[column], column) if column in line else "" for column in ("sku", "product_name", "category")}
    if not (data["sku"] or data["product_name"]):
        raise _NotPlain
    data["quantity"] = order_input.clean_quantity(_number(line["quantity"])) if "quantity" in line else 1
    data["unit_price"] = order_input.clean_money(_number(line["unit_price"]), "unit_price")
    return data
