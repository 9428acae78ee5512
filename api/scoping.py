"""What a key may see. Own-data-only keys see only their partner's customers (and what
hangs off them); everything else is 404, so nothing about other customers leaks."""

from django.db.models import Exists, OuterRef, QuerySet

from api.models import ApiKey, PartnerCustomer
from crm.models import Customer, Order


def visible_customers(key: ApiKey, queryset: QuerySet | None = None) -> QuerySet:
    queryset = Customer.objects.all() if queryset is None else queryset
    if key.own_data_only:
        queryset = queryset.filter(Exists(PartnerCustomer.objects.filter(partner_id=key.partner_id, customer=OuterRef("pk"))))
    return queryset


def visible_orders(key: ApiKey, queryset: QuerySet | None = None) -> QuerySet:
    queryset = Order.objects.all() if queryset is None else queryset
    if key.own_data_only:
        queryset = queryset.filter(
            Exists(PartnerCustomer.objects.filter(partner_id=key.partner_id, customer=OuterRef("customer_id")))
        )
    return queryset
