"""Retention and churn of a period, and its orders split between new and returning customers.

For a period [start, end): S = active at start, R = those of S who ordered in the period,
N = first counted order in the period, E = active at end; retention = R/S, churn = (S-R)/S,
crr_classic = (E-N)/S, all None when S = 0.
"""

from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Case, Count, F, Max, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from analytics.metrics.common import MONEY_FIELD, activity_window, aware, counted_orders, money, ratio
from crm.models import Customer


@dataclass(frozen=True)
class Retention:
    start: datetime
    end: datetime
    window_days: int
    customers_at_start: int
    retained: int
    churned: int
    new_customers: int
    customers_at_end: int
    retention_rate: float | None
    churn_rate: float | None
    crr_classic: float | None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["start"] = self.start.date().isoformat() if self.start.time() == time.min else self.start.isoformat()
        data["end"] = self.end.date().isoformat() if self.end.time() == time.min else self.end.isoformat()
        return data


def retention(customers: QuerySet[Customer], *, start: date | datetime, end: date | datetime,
              window_days: int | None = None) -> Retention:
    """S, R, N, E and the rates for the period [start, end).

    One pass over the counted orders placed in [start - W, end) (the covering index on
    orders(placed_at, customer)), grouped by customer into three flags, then summed."""
    start, end = aware(start), aware(end)
    if end <= start:
        raise ValueError("The period must end after it starts.")
    window = activity_window(window_days)
    end_window_start = end - window
    per_customer = (
        counted_orders(customers)
        .filter(placed_at__gte=min(start - window, end_window_start), placed_at__lt=end)
        .values("customer")
        .annotate(
            at_start=Max(Case(When(placed_at__gte=start - window, placed_at__lt=start, then=1), default=0)),
            in_period=Max(Case(When(placed_at__gte=start, then=1), default=0)),
            at_end=Max(Case(When(placed_at__gte=end_window_start, then=1), default=0)),
        )
        .order_by()
    )
    totals = per_customer.aggregate(
        s=Coalesce(Sum("at_start"), 0),
        r=Coalesce(Sum(Case(When(at_start=1, in_period=1, then=1), default=0)), 0),
        e=Coalesce(Sum("at_end"), 0),
    )
    new = customers.filter(first_order_at__gte=start, first_order_at__lt=end).count()
    s, r, e = totals["s"], totals["r"], totals["e"]
    return Retention(
        start=start, end=end, window_days=window.days, customers_at_start=s, retained=r, churned=s - r,
        new_customers=new, customers_at_end=e, retention_rate=ratio(r, s), churn_rate=ratio(s - r, s),
        crr_classic=ratio(e - new, s),
    )


@dataclass(frozen=True)
class NewVsReturning:
    """Orders of the period [start, end) split between new customers (first counted order in the
    period, N) and returning ones (first counted order before the start)."""

    new_customers: int
    new_repeat_probability: float | None  # share of N with 2+ counted orders in the period
    new_average_order_value: Decimal | None
    returning_base: int  # customers whose first counted order is before the start
    returning_buyers: int  # ... who placed a counted order in the period
    returning_order_probability: float | None  # returning_buyers / returning_base
    returning_average_order_value: Decimal | None

    def as_dict(self) -> dict:
        return {key: (str(value) if isinstance(value, Decimal) else value) for key, value in asdict(self).items()}


def new_vs_returning(customers: QuerySet[Customer], *, start: date | datetime, end: date | datetime) -> NewVsReturning:
    start, end = aware(start), aware(end)
    if end <= start:
        raise ValueError("The period must end after it starts.")
    per_customer = (
        counted_orders(customers).filter(placed_at__gte=start, placed_at__lt=end)
        .values("customer")
        .annotate(
            n=Count("pk"), value=Sum("net_total"),
            is_new=Max(Case(When(customer__first_order_at__gte=start, then=1), default=0)),
        )
        .order_by()
    )
    zero = Value(Decimal("0"))
    totals = per_customer.aggregate(
        new=Coalesce(Sum("is_new"), 0),
        new_repeat=Coalesce(Sum(Case(When(is_new=1, n__gte=2, then=1), default=0)), 0),
        new_orders=Coalesce(Sum(Case(When(is_new=1, then=F("n")), default=0)), 0),
        new_value=Coalesce(Sum(Case(When(is_new=1, then=F("value")), default=zero)), zero, output_field=MONEY_FIELD),
        returning=Coalesce(Sum(Case(When(is_new=0, then=1), default=0)), 0),
        returning_orders=Coalesce(Sum(Case(When(is_new=0, then=F("n")), default=0)), 0),
        returning_value=Coalesce(Sum(Case(When(is_new=0, then=F("value")), default=zero)), zero,
                                 output_field=MONEY_FIELD),
    )
    base = customers.filter(first_order_at__lt=start).count()
    return NewVsReturning(
        new_customers=totals["new"],
        new_repeat_probability=ratio(totals["new_repeat"], totals["new"]),
        new_average_order_value=money(Decimal(totals["new_value"]) / totals["new_orders"]) if totals["new_orders"] else None,
        returning_base=base,
        returning_buyers=totals["returning"],
        returning_order_probability=ratio(totals["returning"], base),
        returning_average_order_value=money(Decimal(totals["returning_value"]) / totals["returning_orders"])
        if totals["returning_orders"] else None,
    )
