"""Customers and what hangs on them: the customer, lookup, timeline, interactions, consent.

Field names follow the CSV columns, `id` is the public id."""

from collections import defaultdict

import phonenumbers
from django.conf import settings
from django.db.models import CharField, ExpressionWrapper, F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from api.serializers.base import MAX_TEXT, StrictSerializer
from api.serializers.base import datetime_text, money_text
from core.value_rows import Row
from crm.models import MONEY_SUM, ConsentChange, Customer, Interaction


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
    total_spent = serializers.DecimalField(read_only=True, **MONEY_SUM)
    first_order_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_order_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance):
        """The same output as the declared fields give (a test compares the two), built directly:
        list pages serialize thousands of customers, and DRF's per-field machinery was most of their time.

        A customer an own-data-only key found by identity (api.identity) is shown as that key sees it."""
        view = getattr(instance, "partner_view", None)
        if view is not None:
            from api.identity import partner_view_render

            return partner_view_render(instance, view)
        return self.render(instance, [tag.name for tag in instance.tags.all()])  # prefetched by the views

    @staticmethod
    def render(c: Customer, tags: list[str], tz=None) -> dict:
        tz = tz or timezone.get_current_timezone()
        return {
            "id": str(c.public_id),
            "external_ref": c.external_ref,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "email": c.email,
            "phone": _phone_text(c.phone),
            "birth_date": c.birth_date.isoformat() if c.birth_date else None,
            "gender": c.gender,
            "language": c.language,
            "city": c.city,
            "country": c.country,
            "source": c.source,
            "acquired_at": datetime_text(c.acquired_at, tz),
            "notes": c.notes,
            "email_opt_in": c.email_opt_in,
            "sms_opt_in": c.sms_opt_in,
            "tags": tags,
            "orders_count": c.orders_count,
            "total_spent": _money(c.total_spent),
            "first_order_at": datetime_text(c.first_order_at, tz),
            "last_order_at": datetime_text(c.last_order_at, tz),
            "created_at": datetime_text(c.created_at, tz),
            "updated_at": datetime_text(c.updated_at, tz),
        }

    @classmethod
    def render_page(cls, queryset: QuerySet[Customer]) -> list[dict]:
        """A list page rendered from `.values()` rows: the same output as `to_representation` (a test compares
        them), without model instances, a phone number parsed per row, or the prefetch machinery; the tags of
        the whole page in one query. `queryset` is `customer_rows(...)`, paginated."""
        rows = [Row(row, phone=row["phone_text"]) for row in queryset]
        tags = defaultdict(list)
        through = Customer.tags.through.objects.filter(customer_id__in=[row["id"] for row in rows])
        for customer_id, name in through.order_by("tag__name").values_list("customer_id", "tag__name"):
            tags[customer_id].append(name)
        rendered, tz = [], timezone.get_current_timezone()
        for row in rows:
            if row.get("partner_view") is not None:
                from api.identity import partner_view_render

                rendered.append(partner_view_render(row, row["partner_view"]))
            else:
                rendered.append(cls.render(row, tags[row["id"]], tz))
        return rendered

    def to_representation_by_fields(self, instance):
        """DRF's own rendering of the declared fields: the reference the fast path is tested against."""
        data = super().to_representation(instance)
        data["phone"] = str(instance.phone) if instance.phone else None
        return data


_MONEY = serializers.DecimalField(**MONEY_SUM)  # renders total_spent, a sum
ROW_FIELDS = (
    "id", "public_id", "external_ref", "first_name", "last_name", "email", "birth_date", "gender", "language", "city",
    "country", "source", "acquired_at", "notes", "email_opt_in", "sms_opt_in", "orders_count", "total_spent",
    "first_order_at", "last_order_at", "created_at", "updated_at",
)


def customer_rows(queryset: QuerySet[Customer]) -> QuerySet:
    """The customers as the rows `CustomerSerializer.render_page` renders: the rendered columns, the phone as
    stored (E.164 text, not parsed), and the view an own-data-only key has of a person (api.identity)."""
    extra = [name for name in ("partner_view", "partner_linked_at") if name in queryset.query.annotations]
    return queryset.prefetch_related(None).values(
        *ROW_FIELDS, *extra, phone_text=ExpressionWrapper(F("phone"), output_field=CharField()))


def _phone_text(phone) -> str | None:
    """E.164: a row read as text (customer_rows) is stored so; a PhoneNumber is formatted."""
    if not phone:
        return None
    return phone if isinstance(phone, str) else phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.E164)


def _money(value):
    return None if value is None else money_text(value, _MONEY)


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
