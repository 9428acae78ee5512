"""Serializers of the club endpoints: a member's ledger, coupons and offers, and custom events.

Field names follow the models; `points` on ledger rows is signed (earned > 0, spent < 0)."""

from django.conf import settings
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.base import AmountField, StrictSerializer, datetime_text
from club.codes import coupon_code_format, coupon_code_normalize
from core.text import ascii_digits
from club.models import Offer, PointsTransaction
from club.models.ledger import ledger_row_description
from crm.models import MONEY, MONEY_SUM


class MemberProgressSerializer(serializers.Serializer):
    basis = serializers.CharField()
    qualifying_value = serializers.DecimalField(**MONEY_SUM)
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
    member_number = serializers.CharField(
        required=False, allow_blank=True, max_length=32,
        help_text="Own-data-only keys: the number on the member's club card (spaces and dashes allowed), shown at the "
                  "till: 200 and the membership for that member; a wrong number, or any number for a person who is not "
                  "a member, is 400 `member_number_invalid`. Ignored for other keys.")
    confirmation_code = serializers.CharField(
        required=False, allow_blank=True, max_length=32,
        help_text="Own-data-only keys: the 6-digit code sent to the customer (answer 202 of an enrolment without it); "
                  "Persian and Arabic digits and spaces are accepted. 201 or 200 and the membership; 400 "
                  "`confirmation_code_invalid` or `confirmation_code_expired`; 429 "
                  "`confirmation_code_attempts_exceeded` after 5 wrong tries. Ignored for other keys.")

    def validate_confirmation_code(self, value: str) -> str:
        code = "".join(ascii_digits(value).split())
        if code and (len(code) != 6 or not code.isascii() or not code.isdigit()):
            raise serializers.ValidationError(_("The confirmation code is 6 digits."))
        return code

    def validate(self, attrs):
        if attrs.get("member_number") and attrs.get("confirmation_code"):
            raise serializers.ValidationError(
                {"confirmation_code": [_("Send either member_number or confirmation_code, not both.")]})
        return attrs


class EnrolConfirmationSentSerializer(serializers.Serializer):
    """202: nobody is enrolled yet; a one-time code went to the customer (own-data-only keys)."""

    status = serializers.ChoiceField(choices=["confirmation_sent"])
    channel = serializers.ChoiceField(choices=["sms", "email"],
                                      help_text="Where the code went: the phone, else the email, this key gave for the customer.")
    expires_at = serializers.DateTimeField(help_text="The code works until then (10 minutes).")


class RedeemOfferSerializer(StrictSerializer):
    offer = serializers.UUIDField(help_text="The offer's `id` (as listed by the member's offers).")


class CouponCodeField(serializers.CharField):
    """A coupon code as the card and the messages show it ("ABCD-EFGH-JKMN"); typed with or without
    dashes or spaces, in any case, it is read as the same code."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _("The coupon code in groups of four (ABCD-EFGH-JKMN), as the club card shows it; "
                                         "accepted with or without dashes and spaces, in any case."))
        super().__init__(**kwargs)

    def to_representation(self, value):
        return coupon_code_format(str(value))

    def to_internal_value(self, data):
        return coupon_code_normalize(super().to_internal_value(data))


class CouponSerializer(serializers.Serializer):
    code = CouponCodeField()
    kind = serializers.CharField()
    offer = serializers.UUIDField(source="offer.public_id", allow_null=True, default=None)
    discount_kind = serializers.CharField()
    value = serializers.DecimalField(**MONEY)
    min_order_value = serializers.DecimalField(**MONEY)
    valid_from = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    redeemed_at = serializers.DateTimeField(allow_null=True)


class CouponListQuerySerializer(serializers.Serializer):
    usable = serializers.BooleanField(required=False, default=False,
                                      help_text=_("Only coupons that can be used now (not redeemed, not expired)."))


class CouponCheckInputSerializer(StrictSerializer):
    code = CouponCodeField(max_length=64)
    customer = serializers.UUIDField(required=False, allow_null=True)
    order_value = AmountField()


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
    code = CouponCodeField(source="coupon.code")
    order_value = serializers.DecimalField(**MONEY)
    discount = serializers.DecimalField(**MONEY)
    order = serializers.UUIDField(source="order.public_id", allow_null=True, default=None)
    reference = serializers.CharField(allow_blank=True)
    redeemed_at = serializers.DateTimeField()


class LedgerRowSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    points = serializers.IntegerField(help_text=_("Signed: earned points are positive, spent or expired ones negative."))
    kind = serializers.ChoiceField(choices=PointsTransaction.Kind.choices)
    source = serializers.ChoiceField(choices=PointsTransaction.Source.choices)
    reason = serializers.CharField(source="description", help_text=_(
        "What the row is, in the request's language (Accept-Language); a staff adjustment gives the staff's words."))
    order = serializers.UUIDField(source="order.public_id", allow_null=True, default=None,
                                  help_text=_("The order that earned or reversed the points, if any."))
    source_ref = serializers.CharField(allow_blank=True, help_text=_("Event name, survey response, referral..."))
    shortfall = serializers.IntegerField(help_text=_("Points a reversal could not take back."))
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, row):
        """The same output as the declared fields give (a test compares the two), built directly: DRF's
        per-field machinery was most of a ledger page's own time (issue 17)."""
        return self.render(row, self.time_zone)

    @staticmethod
    def render(row, tz) -> dict:
        """A PointsTransaction, or a `.values()` row with its facts (club.selectors.ledger_facts_load)."""
        return {
            "id": str(row.public_id),
            "points": row.points,
            "kind": row.kind,
            "source": row.source,
            "reason": str(ledger_row_description(row)),
            "order": str(row.order.public_id) if row.order_id else None,
            "source_ref": row.source_ref,
            "shortfall": row.shortfall,
            "created_at": datetime_text(row.created_at, tz),
            "expires_at": datetime_text(row.expires_at, tz),
        }

    @classmethod
    def render_page(cls, rows) -> list[dict]:
        """A page of rows, the time zone looked up once."""
        tz = timezone.get_current_timezone()
        return [cls.render(row, tz) for row in rows]

    @cached_property
    def time_zone(self):
        """Looked up once per page: a list's rows share the child serializer."""
        return timezone.get_current_timezone()

    def to_representation_by_fields(self, row):
        """DRF's own rendering of the declared fields: the reference the fast path is tested against."""
        return super().to_representation(row)


class MemberOfferSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    kind = serializers.ChoiceField(choices=Offer.Kind.choices)
    value = serializers.DecimalField(**MONEY)
    gift_product = serializers.CharField(source="gift_product.sku", allow_null=True, default=None,
                                         help_text=_("The SKU of the gift product, if any."))
    points_cost = serializers.IntegerField()
    affordable = serializers.SerializerMethodField(help_text=_("The member has enough points to redeem it now."))
    min_order_value = serializers.DecimalField(**MONEY)
    min_tier = serializers.CharField(source="min_tier.name", allow_null=True, default=None)
    exclusive = serializers.BooleanField()
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    coupon_valid_days = serializers.SerializerMethodField(help_text=_("Days the coupon issued for this offer stays valid."))

    def get_affordable(self, offer) -> bool:
        return offer.points_cost <= self.context["balance"]

    def get_coupon_valid_days(self, offer) -> int:
        return offer.coupon_valid_days or settings.CLUB_COUPON_VALID_DAYS


class ClubEventInputSerializer(StrictSerializer):
    customer = serializers.UUIDField()
    event = serializers.SlugField(max_length=50, help_text=_("The event's name, as in the club's earning rule (e.g. social_share)."))
    reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text=_("Your id of this event: the same reference earns once. Required unless an Idempotency-Key is sent."),
    )


class ClubEventResultSerializer(serializers.Serializer):
    customer = serializers.UUIDField()
    event = serializers.CharField()
    reference = serializers.CharField()
    points = serializers.IntegerField(help_text=_("Points earned by this event (0 when none)."))
    transaction = serializers.UUIDField(allow_null=True, help_text=_("The `id` of the points' ledger row, if any."))
    reason = serializers.CharField(allow_blank=True, help_text=_("Why no points were earned: limit_reached, no_points; empty otherwise."))
    message = serializers.CharField(allow_blank=True)
    balance = serializers.IntegerField(help_text=_("The member's balance afterwards."))


class TierChangeSerializer(serializers.Serializer):
    """A member moved between tiers (the `tier.changed` webhook); tiers by name, as on the member card."""

    customer = serializers.UUIDField(allow_null=True)
    from_tier = serializers.CharField(allow_null=True)
    to_tier = serializers.CharField(allow_null=True)
    reason = serializers.CharField()
