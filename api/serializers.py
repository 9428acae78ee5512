"""Explicit serializers: field names follow the CSV columns, `id` is the public id.

Serializers validate types and shapes only; every write goes through a service."""

import phonenumbers
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from campaigns.models import Segment
from crm.models import MONEY, ConsentChange, Customer, Interaction, Order
from feedback.models import ReturnLine, ReturnRequest

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
    first_order_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_order_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance):
        """The same output as the declared fields give (a test compares the two), built directly:
        list pages serialize thousands of customers, and DRF's per-field machinery was most of their time."""
        c = instance
        return {
            "id": str(c.public_id),
            "external_ref": c.external_ref,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "email": c.email,
            "phone": phonenumbers.format_number(c.phone, phonenumbers.PhoneNumberFormat.E164) if c.phone else None,
            "birth_date": c.birth_date.isoformat() if c.birth_date else None,
            "gender": c.gender,
            "language": c.language,
            "city": c.city,
            "country": c.country,
            "source": c.source,
            "acquired_at": _datetime(c.acquired_at),
            "notes": c.notes,
            "email_opt_in": c.email_opt_in,
            "sms_opt_in": c.sms_opt_in,
            "tags": [tag.name for tag in c.tags.all()],  # prefetched by the views
            "orders_count": c.orders_count,
            "total_spent": _money(c.total_spent),
            "first_order_at": _datetime(c.first_order_at),
            "last_order_at": _datetime(c.last_order_at),
            "created_at": _datetime(c.created_at),
            "updated_at": _datetime(c.updated_at),
        }

    def to_representation_by_fields(self, instance):
        """DRF's own rendering of the declared fields: the reference the fast path is tested against."""
        data = super().to_representation(instance)
        data["phone"] = str(instance.phone) if instance.phone else None
        return data


_MONEY = serializers.DecimalField(**MONEY)


def _datetime(value):
    """As DRF's DateTimeField renders an aware datetime: ISO 8601 in the current time zone, UTC as `Z`."""
    if value is None:
        return None
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _money(value):
    return None if value is None else _MONEY.to_representation(value)


class OrderLineSerializer(StrictSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    sku = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    product_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    unit_price = serializers.DecimalField(min_value=0, **MONEY)


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
    offer = serializers.UUIDField(help_text="The offer's `id` (as listed by the member's offers).")


class CouponSerializer(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.CharField()
    offer = serializers.UUIDField(source="offer.public_id", allow_null=True, default=None)
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
    gift_product = serializers.CharField(allow_null=True, help_text="The SKU of the gift product, if any.")


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


# --- customers: lookup, timeline, interactions, consent -----------------------------------------


class CustomerLookupSerializer(StrictSerializer):
    """Exactly one identifier; the phone is read as customers' phones are stored (E.164)."""

    email = serializers.EmailField(max_length=254, required=False)
    phone = serializers.CharField(max_length=32, required=False)
    external_ref = serializers.CharField(max_length=100, required=False)

    def validate_phone(self, value):
        from api.filters import phone_number

        number = phone_number(value)
        if number is None:
            raise serializers.ValidationError(_("Enter a valid phone number."))
        return number

    def validate(self, attrs):
        if len(attrs) != 1:
            raise serializers.ValidationError(_("Give exactly one of email, phone or external_ref."))
        return attrs


class TimelineQuerySerializer(StrictSerializer):
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)
    kinds = serializers.CharField(max_length=500, required=False,
                                  help_text="Comma-separated kinds (interaction, order, consent, points, ...); all when absent.")

    def validate_kinds(self, value):
        from core import timeline

        kinds = [kind.strip() for kind in value.split(",") if kind.strip()]
        unknown = sorted(set(kinds) - set(timeline.registered_kinds()))
        if unknown:
            raise serializers.ValidationError(
                _("Unknown kinds: %(unknown)s. Known kinds: %(known)s.")
                % {"unknown": ", ".join(unknown), "known": ", ".join(timeline.registered_kinds())}
            )
        return kinds


class TimelineEntrySerializer(serializers.Serializer):
    when = serializers.DateTimeField()
    kind = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)
    badge = serializers.CharField(allow_blank=True)
    extra = serializers.DictField(help_text="Details that depend on the kind (order number, channel, ...).")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # Staff user names are internal; partners see what happened, not who in the back office did it.
        data["extra"] = {name: value for name, value in data["extra"].items() if name != "staff"}
        return data


class TimelineSerializer(serializers.Serializer):
    results = TimelineEntrySerializer(many=True)


class InteractionSerializer(StrictSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    channel = serializers.ChoiceField(choices=Interaction.Channel.choices, default=Interaction.Channel.PHONE)
    direction = serializers.ChoiceField(choices=Interaction.Direction.choices, default=Interaction.Direction.INBOUND)
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(choices=Interaction.Status.choices, default=Interaction.Status.RESOLVED)
    occurred_at = serializers.DateTimeField(required=False)
    follow_up_on = serializers.DateField(required=False, allow_null=True)
    order = serializers.UUIDField(source="order.public_id", required=False, allow_null=True, default=None,
                                  help_text="The public id of one of this customer's orders.")
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)


class ConsentChangeSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ConsentChange.Channel.choices)
    granted = serializers.BooleanField()
    source = serializers.CharField()
    changed_at = serializers.DateTimeField()


CONSENT_SOURCE_PREFIX = "api:"


class ConsentInputSerializer(StrictSerializer):
    channel = serializers.ChoiceField(choices=ConsentChange.Channel.choices)
    granted = serializers.BooleanField()
    source = serializers.CharField(
        max_length=ConsentChange._meta.get_field("source").max_length - len(CONSENT_SOURCE_PREFIX),
        help_text="Where the customer gave or withdrew consent (e.g. 'checkout-form'); stored as 'api:<source>'.",
    )


# --- feedback: surveys, invitations, returns ----------------------------------------------------


class SurveySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    title = serializers.CharField()
    kind = serializers.CharField()
    trigger = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField(), source="language_codes")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    is_active = serializers.BooleanField()
    is_open = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_is_open(self, survey) -> bool:
        return survey.is_open()


class SurveyChoiceSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    label = serializers.CharField()


class SurveyQuestionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    position = serializers.IntegerField()
    type = serializers.CharField()
    text = serializers.CharField()
    required = serializers.BooleanField()
    scores = serializers.CharField(allow_blank=True, help_text="'nps' or 'csat' for the question the score is read from.")
    choices = SurveyChoiceSerializer(many=True, source="choices.all")


class SurveyDetailSerializer(SurveySerializer):
    intro = serializers.CharField(allow_blank=True)
    questions = SurveyQuestionSerializer(many=True, source="questions.all")


class PeriodQuerySerializer(StrictSerializer):
    """An optional period [start, end) in whole days."""

    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        for name, day in (("start", start), ("end", end)):
            if day is not None and not 1900 <= day.year <= 2200:
                raise serializers.ValidationError({name: [_("Give a date between the years 1900 and 2200.")]})
        if start and end and end <= start:
            raise serializers.ValidationError({"end": [_("The end must be after the start.")]})
        return attrs


class SurveyResultsSerializer(serializers.Serializer):
    survey = serializers.UUIDField()
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True, help_text="Exclusive.")
    responses = serializers.IntegerField()
    invitations = serializers.IntegerField()
    response_rate = serializers.FloatField(allow_null=True, help_text="Answered invitations / invitations, 0..1.")
    nps = serializers.IntegerField(allow_null=True, help_text="% promoters - % detractors, -100..100.")
    nps_answers = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    csat = serializers.FloatField(allow_null=True, help_text="% of answers 4 or 5 on the 1-5 scale.")
    csat_answers = serializers.IntegerField()


class InvitationInputSerializer(StrictSerializer):
    customer = serializers.UUIDField()
    order = serializers.UUIDField(required=False, allow_null=True, help_text="The order the survey asks about, if any.")


class InvitationSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    survey = serializers.UUIDField(source="survey.public_id")
    customer = serializers.UUIDField(source="customer.public_id")
    order = serializers.UUIDField(source="order.public_id", allow_null=True, default=None)
    link = serializers.URLField(help_text="The customer's personal survey link; shown only in this response.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class SurveyResponseSerializer(serializers.Serializer):
    """A survey answered (the `survey.answered` webhook)."""

    id = serializers.UUIDField(source="public_id")
    survey = serializers.UUIDField(source="survey.public_id")
    invitation = serializers.UUIDField(source="invitation.public_id", allow_null=True, default=None)
    customer = serializers.UUIDField(source="customer.public_id", allow_null=True, default=None)
    language = serializers.CharField(allow_blank=True)
    submitted_at = serializers.DateTimeField()


class ReturnLineInputSerializer(StrictSerializer):
    order_line = serializers.UUIDField(help_text="The `id` of a line of the order.")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    reason = serializers.ChoiceField(choices=ReturnLine.Reason.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReturnCreateSerializer(StrictSerializer):
    order = serializers.UUIDField()
    lines = ReturnLineInputSerializer(many=True, allow_empty=False, max_length=1000)
    resolution = serializers.ChoiceField(choices=ReturnRequest.Resolution.choices, default=ReturnRequest.Resolution.REFUND)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ReturnLineSerializer(serializers.Serializer):
    order_line = serializers.UUIDField(source="order_line.public_id")
    sku = serializers.CharField(source="order_line.sku", allow_blank=True)
    product_name = serializers.CharField(source="order_line.product_name", allow_blank=True)
    quantity = serializers.IntegerField()
    reason = serializers.CharField()
    note = serializers.CharField(allow_blank=True)


class ReturnEventSerializer(serializers.Serializer):
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField()
    at = serializers.DateTimeField()
    note = serializers.CharField(allow_blank=True)


class ReturnRequestSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    order = serializers.UUIDField(source="order.public_id")
    customer = serializers.UUIDField(source="customer.public_id")
    state = serializers.ChoiceField(choices=ReturnRequest.State.choices)
    resolution = serializers.ChoiceField(choices=ReturnRequest.Resolution.choices)
    channel = serializers.CharField()
    note = serializers.CharField(allow_blank=True)
    refund_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    credit_reference = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    lines = ReturnLineSerializer(many=True, source="lines.all")
    events = ReturnEventSerializer(many=True, source="events.all")


# --- segments and their metrics -----------------------------------------------------------------


class SegmentSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    kind = serializers.ChoiceField(choices=Segment.Kind.choices)
    size = serializers.IntegerField(
        allow_null=True,
        help_text="Customers in the segment when it was last counted (size_counted_at); for an own-data-only key, "
                  "its own customers in the segment now. Null when never counted.",
    )
    size_counted_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RetentionQuerySerializer(StrictSerializer):
    """The parameters a metrics query may carry (an unknown one is refused); their values are
    checked by analytics.periods.Period, as the admin and the commands check them."""

    start = serializers.CharField(required=False, allow_blank=True)
    end = serializers.CharField(required=False, allow_blank=True, help_text="The day after the period (exclusive).")
    window = serializers.CharField(required=False, allow_blank=True,
                                   help_text="Activity window W in days, 1-3650 (default CRM_ACTIVITY_WINDOW_DAYS).")


class RetentionSerializer(serializers.Serializer):
    """The JSON of `manage.py retention --segment SLUG --start .. --end .. [--window ..] --json`."""

    segment = serializers.CharField()
    start = serializers.CharField()
    end = serializers.CharField()
    window_days = serializers.IntegerField()
    customers_at_start = serializers.IntegerField()
    retained = serializers.IntegerField()
    churned = serializers.IntegerField()
    new_customers = serializers.IntegerField()
    customers_at_end = serializers.IntegerField()
    retention_rate = serializers.FloatField(allow_null=True)
    churn_rate = serializers.FloatField(allow_null=True)
    crr_classic = serializers.FloatField(allow_null=True)
