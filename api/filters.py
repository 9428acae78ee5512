from datetime import timedelta, timezone as dt_timezone

import django_filters
import phonenumbers
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend

from api.identity import filter_as_seen, seen_as_stored
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


class NamedFilterBackend(DjangoFilterBackend):
    """django-filter, skipped when the request names none of the view's filters: building the filter set and
    its form for a plain page was a fifth of a list call's own time (issue 17), and it would change nothing."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and request.query_params.keys().isdisjoint(filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


class CustomerFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(method="filter_email")
    phone = django_filters.CharFilter(field_name="phone", method="filter_phone")
    external_ref = django_filters.CharFilter(method="filter_external_ref")
    city = django_filters.CharFilter(method="filter_city")
    tag = django_filters.CharFilter(field_name="tags__name", method="filter_as_stored")
    tier = django_filters.CharFilter(field_name="membership__tier__name", lookup_expr="iexact", method="filter_as_stored")
    lifecycle_stage = django_filters.ChoiceFilter(choices=Customer.LifecycleStage.choices, method="filter_stage")
    updated_since = BoundedIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte", method="filter_as_stored")

    class Meta:
        model = Customer
        fields = ["email", "phone", "external_ref", "city", "tag", "tier", "lifecycle_stage", "updated_since"]

    # An own-data-only key finds a person it sees through its view (api.identity) only by what it sent.

    def filter_email(self, queryset, name, value):
        email = normalize_email(value)
        return filter_as_seen(self.request.auth, queryset, "email", email, email)

    def filter_phone(self, queryset, name, value):
        number = phone_number(value)
        if number is None:
            return queryset.none()
        shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return filter_as_seen(self.request.auth, queryset, "phone", number, shown)

    def filter_external_ref(self, queryset, name, value):
        return filter_as_seen(self.request.auth, queryset, "external_ref", value, value)

    def filter_city(self, queryset, name, value):
        return filter_as_seen(self.request.auth, queryset, "city", value, value, lookup="iexact")

    def filter_as_stored(self, queryset, name, value):
        """What a view does not hold (tags, tier, updated_at) finds only the customers the key sees as stored."""
        lookup = {"updated_at": "gte", "membership__tier__name": "iexact"}.get(name, "exact")
        return seen_as_stored(self.request.auth, queryset).filter(**{f"{name}__{lookup}": value})

    def filter_stage(self, queryset, name, value):
        return seen_as_stored(self.request.auth, queryset).in_lifecycle_stage(value)


class OrderFilter(django_filters.FilterSet):
    customer = django_filters.UUIDFilter(field_name="customer__public_id")
    placed_since = BoundedIsoDateTimeFilter(field_name="placed_at", lookup_expr="gte")

    class Meta:
        model = Order
        fields = ["customer", "placed_since"]
