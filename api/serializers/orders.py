"""Orders and their lines, one at a time and in bulk."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api import services
from api.serializers.base import AmountField, StrictSerializer
from crm.models import MONEY, Order


class OrderLineSerializer(StrictSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    sku = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    product_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    unit_price = AmountField()


def placed_at_plausible(value):
    """Date arithmetic on orders (return windows, conversion windows) needs room on both sides."""
    if not 1900 <= value.year <= 9000:
        raise serializers.ValidationError(_("Give a date between the years 1900 and 9000."))


class OrderSerializer(StrictSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    customer = serializers.UUIDField(source="customer.public_id")
    order_number = serializers.CharField(max_length=64)
    placed_at = serializers.DateTimeField(validators=[placed_at_plausible])
    status = serializers.ChoiceField(choices=Order.Status.choices, default=Order.Status.FULFILLED)
    channel = serializers.ChoiceField(choices=Order.Channel.choices, default=Order.Channel.STORE)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", max_length=3, default="USD")
    total = AmountField()
    discount = AmountField(default="0")
    refunded_amount = serializers.DecimalField(read_only=True, **MONEY)
    source = serializers.CharField(read_only=True)
    lines = OrderLineSerializer(many=True, required=False, max_length=1000)
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["lines"] = OrderLineSerializer(instance.lines.all(), many=True).data
        return data


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
