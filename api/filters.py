import django_filters

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


class CustomerFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(method="filter_email")
    phone = django_filters.CharFilter(field_name="phone", method="filter_phone")
    external_ref = django_filters.CharFilter(field_name="external_ref")
    city = django_filters.CharFilter(field_name="city", lookup_expr="iexact")
    tag = django_filters.CharFilter(field_name="tags__name")
    tier = django_filters.CharFilter(field_name="membership__tier__name", lookup_expr="iexact")
    lifecycle_stage = django_filters.ChoiceFilter(choices=Customer.LifecycleStage.choices, method="filter_stage")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

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
    placed_since = django_filters.IsoDateTimeFilter(field_name="placed_at", lookup_expr="gte")

    class Meta:
        model = Order
        fields = ["customer", "placed_since"]
