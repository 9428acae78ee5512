"""Orders and their lines, one at a time and in bulk."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api import services
from api.serializers.base import AmountField, StrictSerializer
from core.bounds import AMOUNT_MAX
from crm.models import MONEY, Order
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
