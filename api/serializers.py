"""Explicit serializers: field names follow the CSV columns, `id` is the public id.

Serializers validate types and shapes only; every write goes through a service."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from crm.models import MONEY, Customer, Order

MAX_TEXT = 10_000


class StrictSerializer(serializers.Serializer):
    """Refuses unknown fields (a typo must not be silently ignored) and read-only ones sent as input."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown or read-only field.")] for name in unknown})
        return super().to_internal_value(data)


class TagNamesField(serializers.ListField):
    child = serializers.CharField(max_length=50)

    def to_representation(self, value):
        return [tag.name for tag in value.all()]  # prefetched by the views


class CustomerSerializer(StrictSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    external_ref = serializers.CharField(max_length=100, required=False, allow_null=True, allow_blank=True)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_null=True, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_null=True, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    gender = serializers.ChoiceField(choices=Customer.Gender.choices, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    source = serializers.CharField(max_length=50, required=False, allow_blank=True)
    acquired_at = serializers.DateTimeField(required=False, allow_null=True)
    notes = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    email_opt_in = serializers.BooleanField(required=False)
    sms_opt_in = serializers.BooleanField(required=False)
    tags = TagNamesField(required=False, max_length=100)
    orders_count = serializers.IntegerField(read_only=True)
    total_spent = serializers.DecimalField(read_only=True, **MONEY)
    first_order_at = serializers.DateTimeField(read_only=True)
    last_order_at = serializers.DateTimeField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["phone"] = str(instance.phone) if instance.phone else None
        return data


class OrderLineSerializer(StrictSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    sku = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    product_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    unit_price = serializers.DecimalField(min_value=0, **MONEY)


class OrderSerializer(StrictSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    customer = serializers.UUIDField(source="customer.public_id")
    order_number = serializers.CharField(max_length=64)
    placed_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=Order.Status.choices, default=Order.Status.FULFILLED)
    channel = serializers.ChoiceField(choices=Order.Channel.choices, default=Order.Channel.STORE)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", max_length=3, default="USD")
    total = serializers.DecimalField(min_value=0, **MONEY)
    discount = serializers.DecimalField(min_value=0, default="0", **MONEY)
    refunded_amount = serializers.DecimalField(read_only=True, **MONEY)
    source = serializers.CharField(read_only=True)
    lines = OrderLineSerializer(many=True, required=False, max_length=1000)
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["lines"] = OrderLineSerializer(instance.lines.all(), many=True).data
        return data


class MemberProgressSerializer(serializers.Serializer):
    basis = serializers.CharField()
    qualifying_value = serializers.DecimalField(**MONEY)
    next_tier = serializers.CharField(allow_null=True)
    to_next_tier = serializers.DecimalField(allow_null=True, **MONEY)
    percent = serializers.IntegerField()


class MemberExpiringSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    on = serializers.DateField(allow_null=True)


class MemberSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The customer's public id.")
    member_number = serializers.CharField()
    status = serializers.CharField()
    joined_at = serializers.DateTimeField()
    tier = serializers.CharField(allow_null=True)
    balance = serializers.IntegerField()
    pending = serializers.IntegerField()
    expiring = MemberExpiringSerializer()
    progress = MemberProgressSerializer()

    @staticmethod
    def from_card(card) -> dict:
        member = card.member
        return {
            "id": member.customer.public_id,
            "member_number": card.member_number,
            "status": member.status,
            "joined_at": member.joined_at,
            "tier": member.tier.name if member.tier_id else None,
            "balance": card.balance,
            "pending": card.pending,
            "expiring": {"points": card.expiring_points, "on": card.expiring_on},
            "progress": {
                "basis": card.basis,
                "qualifying_value": card.qualifying_value,
                "next_tier": card.next_tier.name if card.next_tier is not None else None,
                "to_next_tier": card.to_next_tier,
                "percent": card.progress_percent,
            },
        }


class EnrollSerializer(StrictSerializer):
    customer = serializers.UUIDField()


class RedeemOfferSerializer(StrictSerializer):
    offer = serializers.IntegerField(min_value=1, max_value=2**62)


class CouponSerializer(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.CharField()
    offer = serializers.IntegerField(source="offer_id", allow_null=True)
    discount_kind = serializers.CharField()
    value = serializers.DecimalField(**MONEY)
    min_order_value = serializers.DecimalField(**MONEY)
    valid_from = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    redeemed_at = serializers.DateTimeField(allow_null=True)


class CouponCheckInputSerializer(StrictSerializer):
    code = serializers.CharField(max_length=64)
    customer = serializers.UUIDField(required=False, allow_null=True)
    order_value = serializers.DecimalField(min_value=0, **MONEY)


class CouponRedeemInputSerializer(CouponCheckInputSerializer):
    order = serializers.UUIDField(required=False, allow_null=True)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class CouponCheckSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    discount = serializers.DecimalField(**MONEY)
    reason = serializers.CharField(allow_blank=True)
    message = serializers.CharField(allow_blank=True)
    free_shipping = serializers.BooleanField()
    gift_product = serializers.IntegerField(allow_null=True, help_text="Id of the gift product, if any.")


class CouponRedemptionSerializer(serializers.Serializer):
    code = serializers.CharField(source="coupon.code")
    order_value = serializers.DecimalField(**MONEY)
    discount = serializers.DecimalField(**MONEY)
    order = serializers.UUIDField(source="order.public_id", allow_null=True, default=None)
    reference = serializers.CharField(allow_blank=True)
    redeemed_at = serializers.DateTimeField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)
