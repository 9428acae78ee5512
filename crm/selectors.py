"""Read-side queries of crm that are more than a QuerySet method."""

from decimal import Decimal

from django.db.models import Count, DecimalField, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from crm.models import MONEY_SUM, Customer, Order, Recommendation


def counted_order_stats_expressions() -> dict:
    """The derived order figures of a customer, as correlated subqueries over counted orders."""
    counted = Order.objects.filter(customer=OuterRef("pk"), is_counted=True).order_by().values("customer")
    return {
        "orders_count": Coalesce(Subquery(counted.annotate(n=Count("pk")).values("n")), Value(0)),
        "total_spent": Coalesce(
            Subquery(counted.annotate(v=Sum("net_total")).values("v")), Value(Decimal("0")),
            output_field=DecimalField(**MONEY_SUM),  # a sum of orders: the width of total_spent
        ),
        "first_order_at": Subquery(counted.annotate(t=Min("placed_at")).values("t")),
        "last_order_at": Subquery(counted.annotate(t=Max("placed_at")).values("t")),
    }


def customers_with_stale_stats() -> QuerySet[Customer]:
    """Customers whose stored figures disagree with their orders (should be none)."""
    expressions = counted_order_stats_expressions()
    stale = Q()
    for name in expressions:
        expected = f"expected_{name}"
        if Customer._meta.get_field(name).null:
            stale |= Q(**{f"{name}__isnull": True, f"{expected}__isnull": False})
            stale |= Q(**{f"{name}__isnull": False, f"{expected}__isnull": True})
            stale |= Q(**{f"{name}__isnull": False, f"{expected}__isnull": False}) & ~Q(**{name: F(expected)})
        else:
            stale |= ~Q(**{name: F(expected)})
    return Customer.objects.alias(**{f"expected_{name}": e for name, e in expressions.items()}).filter(stale)


def recommendations_for(customer_ids, *, limit: int = 10) -> QuerySet[Recommendation]:
    """The stored picks of these customers, best first, products on sale only (one query; product selected)."""
    return (
        Recommendation.objects.filter(customer_id__in=customer_ids, rank__lte=limit, product__is_active=True)
        .select_related("product").order_by("customer_id", "rank")
    )
