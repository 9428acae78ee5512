from datetime import timedelta, timezone as dt_timezone

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from crm.models import Customer, Order
from crm.querysets import phone_as_e164
from crm.services import normalize_email


def phone_number(value: str):
    """The number as customers' phones are stored, read as the admin's search box reads it
    (crm.querysets.phone_as_e164: national, bare and international forms, Persian digits),
    or None when it is not a valid phone number."""
    from phonenumber_field.phonenumber import to_python

    e164 = phone_as_e164(value)
    number = to_python(e164) if e164 else None
    if number is None or not number.is_valid():
        return None
    return number


# The widest offsets in use are -12:00 and +14:00; PostgreSQL refuses more than 15:59.
LARGEST_OFFSET = timedelta(hours=14)


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time the database can compare with: an offset of at most 14 hours and a
    moment inside years 1..9999 once read in UTC, so a filter is a 400 naming its parameter, never
    an error of the database or of Python's calendar."""

    default_error_messages = {
        "offset": _("The UTC offset may be at most 14 hours."),
        "range": _("Enter a date-time between the years 1 and 9999."),
    }

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None:
            offset = value.utcoffset()
            if offset is not None and abs(offset) > LARGEST_OFFSET:
                raise forms.ValidationError(self.error_messages["offset"], code="offset")
            try:
                value.astimezone(dt_timezone.utc)  # a naive one is read in the current zone
            except (OverflowError, ValueError):
                raise forms.ValidationError(self.error_messages["range"], code="range")
        return value


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class CustomerFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(method="filter_email")
    phone = django_filters.CharFilter(field_name="phone", method="filter_phone")
    external_ref = django_filters.CharFilter(field_name="external_ref")
    city = django_filters.CharFilter(field_name="city", lookup_expr="iexact")
    tag = django_filters.CharFilter(field_name="tags__name")
    tier = django_filters.CharFilter(field_name="membership__tier__name", lookup_expr="iexact")
    lifecycle_stage = django_filters.ChoiceFilter(choices=Customer.LifecycleStage.choices, method="filter_stage")
    updated_since = BoundedIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields = ["email", "phone", "external_ref", "city", "tag", "tier", "lifecycle_stage", "updated_since"]

    def filter_email(self, queryset, name, value):
        return queryset.filter(email=normalize_email(value))

    def filter_phone(self, queryset, name, value):
        number = phone_number(value)
        if number is None:
            return queryset.none()
        return queryset.filter(phone=number)

    def filter_stage(self, queryset, name, value):
        return queryset.in_lifecycle_stage(value)


class OrderFilter(django_filters.FilterSet):
    customer = django_filters.UUIDFilter(field_name="customer__public_id")
    placed_since = BoundedIsoDateTimeFilter(field_name="placed_at", lookup_expr="gte")

    class Meta:
        model = Order
        fields = ["customer", "placed_since"]
