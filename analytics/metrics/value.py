"""Value metrics: repeat purchase rate, AOV, purchase frequency, historic CLV, revenue shares."""

from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Case, Count, F, QuerySet, Sum, Value, When, Window
from django.db.models.functions import Coalesce, RowNumber

from analytics.metrics.common import MONEY_FIELD, aware, counted_orders, money, ratio
from crm.models import Customer


@dataclass(frozen=True)
class ValueMetrics:
    customers: int
    buyers: int
    repeat_purchase_rate: float | None
    average_order_value: Decimal | None
    purchase_frequency: float | None
    clv_mean: Decimal | None
    clv_median: Decimal | None
    repeat_revenue_share: float | None
    top20_revenue_share: float | None

    def as_dict(self) -> dict:
        return {key: (str(value) if isinstance(value, Decimal) else value) for key, value in asdict(self).items()}


def value_metrics(customers: QuerySet[Customer], *, start: date | datetime | None = None,
                  end: date | datetime | None = None) -> ValueMetrics:
    """Repeat purchase rate, AOV, purchase frequency, historic CLV (mean, median), revenue share
    of repeat customers and of the top 20% — over all time, or over the counted orders of [start, end)."""
    orders = counted_orders(customers)
    if start is not None:
        orders = orders.filter(placed_at__gte=aware(start))
    if end is not None:
        orders = orders.filter(placed_at__lt=aware(end))
    per_buyer = orders.values("customer").annotate(n=Count("pk"), value=Sum("net_total")).order_by()
    totals = per_buyer.aggregate(
        buyers=Count("customer"),
        repeat_buyers=Coalesce(Sum(Case(When(n__gte=2, then=1), default=0)), 0),
        orders=Coalesce(Sum("n"), 0),
        revenue=Coalesce(Sum("value"), Value(Decimal("0")), output_field=MONEY_FIELD),
        repeat_revenue=Coalesce(Sum(Case(When(n__gte=2, then=F("value")), default=Value(Decimal("0")))),
                                Value(Decimal("0")), output_field=MONEY_FIELD),
    )
    buyers, revenue = totals["buyers"], Decimal(totals["revenue"])
    return ValueMetrics(
        customers=customers.count(),
        buyers=buyers,
        repeat_purchase_rate=ratio(totals["repeat_buyers"], buyers),
        average_order_value=money(revenue / totals["orders"]) if totals["orders"] else None,
        purchase_frequency=ratio(totals["orders"], buyers),
        clv_mean=money(revenue / buyers) if buyers else None,
        clv_median=_median_value(per_buyer, buyers),
        repeat_revenue_share=ratio(Decimal(totals["repeat_revenue"]), revenue),
        top20_revenue_share=ratio(_top_share_revenue(per_buyer, buyers), revenue),
    )


def _ranked(per_buyer: QuerySet, descending: bool) -> QuerySet:
    order = F("value").desc() if descending else F("value").asc()
    return per_buyer.annotate(rank=Window(RowNumber(), order_by=[order, F("customer").asc()]))


def _median_value(per_buyer: QuerySet, buyers: int) -> Decimal | None:
    if not buyers:
        return None
    middle = [(buyers + 1) // 2] if buyers % 2 else [buyers // 2, buyers // 2 + 1]
    values = _ranked(per_buyer, descending=False).filter(rank__in=middle).values_list("value", flat=True)
    picked = [Decimal(value) for value in values]
    return money(sum(picked) / len(picked))


def _top_share_revenue(per_buyer: QuerySet, buyers: int) -> Decimal:
    """Revenue of the top 20% of buyers by value (at least one buyer)."""
    if not buyers:
        return Decimal("0")
    top = max(1, -(-buyers * 20 // 100))  # ceil(20% of buyers)
    ranked = _ranked(per_buyer, descending=True).filter(rank__lte=top).values_list("value", flat=True)
    return sum((Decimal(value) for value in ranked), Decimal("0"))
