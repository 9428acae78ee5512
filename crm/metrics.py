"""Customer metrics: the read-side functions behind every report, command and screen.

Each function takes a customer QuerySet (a segment, or all customers) and computes its
figures in SQL: aggregates, conditional aggregation and window functions, never a Python
loop over customers. The definitions are those of DESIGN.md (and the README):

- a *counted order* is not cancelled and not fully refunded; its value is total - refunds
  (the generated columns `Order.is_counted` and `Order.net_total`);
- a customer is *active at t* with a counted order placed in [t - W, t);
- for a period [start, end): S = active at start, R = those of S who ordered in the
  period, N = first counted order in the period, E = active at end;
  retention = R/S, churn = (S-R)/S, crr_classic = (E-N)/S, all None when S = 0.
"""

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Case, Count, DecimalField, F, IntegerField, Max, QuerySet, Sum, Value, When, Window
from django.db.models.functions import Cast, Coalesce, ExtractMonth, ExtractYear, RowNumber, TruncMonth
from django.utils import timezone

from crm.models import MONEY, Customer, Order

MONEY_FIELD = DecimalField(**MONEY)


def _aware(moment: date | datetime) -> datetime:
    """A date means midnight in TIME_ZONE at its start."""
    if isinstance(moment, datetime):
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    return timezone.make_aware(datetime.combine(moment, time.min))


def _window(window_days: int | None) -> timedelta:
    return timedelta(days=window_days or settings.CRM_ACTIVITY_WINDOW_DAYS)


def _ratio(numerator: int | Decimal, denominator: int | Decimal, places: int = 4) -> float | None:
    if not denominator:
        return None
    return float((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def _money(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)


def counted_orders(customers: QuerySet[Customer] | None = None) -> QuerySet[Order]:
    orders = Order.objects.filter(is_counted=True)
    if customers is not None and customers.query.where:
        orders = orders.filter(customer__in=customers.values("pk"))
    return orders


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
    start, end = _aware(start), _aware(end)
    if end <= start:
        raise ValueError("The period must end after it starts.")
    window = _window(window_days)
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
        new_customers=new, customers_at_end=e, retention_rate=_ratio(r, s), churn_rate=_ratio(s - r, s),
        crr_classic=_ratio(e - new, s),
    )


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
        orders = orders.filter(placed_at__gte=_aware(start))
    if end is not None:
        orders = orders.filter(placed_at__lt=_aware(end))
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
        repeat_purchase_rate=_ratio(totals["repeat_buyers"], buyers),
        average_order_value=_money(revenue / totals["orders"]) if totals["orders"] else None,
        purchase_frequency=_ratio(totals["orders"], buyers),
        clv_mean=_money(revenue / buyers) if buyers else None,
        clv_median=_median_value(per_buyer, buyers),
        repeat_revenue_share=_ratio(Decimal(totals["repeat_revenue"]), revenue),
        top20_revenue_share=_ratio(_top_share_revenue(per_buyer, buyers), revenue),
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
    return _money(sum(picked) / len(picked))


def _top_share_revenue(per_buyer: QuerySet, buyers: int) -> Decimal:
    """Revenue of the top 20% of buyers by value (at least one buyer)."""
    if not buyers:
        return Decimal("0")
    top = max(1, -(-buyers * 20 // 100))  # ceil(20% of buyers)
    ranked = _ranked(per_buyer, descending=True).filter(rank__lte=top).values_list("value", flat=True)
    return sum((Decimal(value) for value in ranked), Decimal("0"))


def lifecycle_counts(customers: QuerySet[Customer], *, at: datetime | None = None,
                     window_days: int | None = None) -> dict[str, int]:
    rows = customers.with_lifecycle_stage(at=at, window_days=window_days).values("lifecycle_stage") \
        .annotate(n=Count("pk")).order_by()
    counts = {stage: 0 for stage in Customer.LifecycleStage.values}
    counts.update({row["lifecycle_stage"]: row["n"] for row in rows})
    return counts


@dataclass(frozen=True)
class CohortRow:
    cohort: date  # the first day of the month of the cohort's first counted order
    size: int
    retention: list[float | None]  # share of the cohort with a counted order k months after, k = 0..months-1


def cohort_matrix(customers: QuerySet[Customer] | None = None, *, first: date | None = None, months: int = 24,
                  today: date | None = None) -> list[CohortRow]:
    """Customers grouped by the month of their first counted order; cell (cohort, k) is the
    share of the cohort with a counted order in the k-th month after (k = 0 is the first month)."""
    months = max(1, min(months, 24))
    today = today or timezone.localdate()
    last_cohort = today.replace(day=1)
    if first is None:
        year, month = divmod(last_cohort.year * 12 + last_cohort.month - 1 - (months - 1), 12)
        first = date(year, month + 1, 1)
    first = first.replace(day=1)
    buyers = (customers if customers is not None else Customer.objects.all()).filter(
        first_order_at__gte=_aware(first), first_order_at__lt=_aware(_add_months(first, months))
    )
    sizes = dict(
        buyers.annotate(cohort=TruncMonth("first_order_at")).values("cohort").annotate(n=Count("pk"))
        .order_by().values_list("cohort", "n")
    )
    cells = (
        Order.objects.filter(is_counted=True, customer__in=buyers.values("pk"))
        .annotate(
            cohort=TruncMonth("customer__first_order_at"),
            k=Cast(_month_number("placed_at") - _month_number("customer__first_order_at"), IntegerField()),
        )
        .filter(k__gte=0, k__lt=months)
        .values("cohort", "k")
        .annotate(n=Count("customer", distinct=True))
        .order_by()
    )
    counts: dict[tuple[date, int], int] = {}
    for cell in cells:
        counts[(_as_date(cell["cohort"]), cell["k"])] = cell["n"]
    rows = []
    for offset in range(months):
        cohort = _add_months(first, offset)
        if cohort > last_cohort:
            break
        size = next((n for key, n in sizes.items() if _as_date(key) == cohort), 0)
        elapsed = (today.year - cohort.year) * 12 + today.month - cohort.month + 1
        retention_row = [
            _ratio(counts.get((cohort, k), 0), size) if k < elapsed else None for k in range(months)
        ]
        rows.append(CohortRow(cohort=cohort, size=size, retention=retention_row))
    return rows


def _month_number(field: str):
    return ExtractYear(field) * 12 + ExtractMonth(field)


def _as_date(value: date | datetime) -> date:
    return timezone.localtime(value).date() if isinstance(value, datetime) else value


def _add_months(day: date, count: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + count, 12)
    return date(year, month + 1, 1)


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
    start, end = _aware(start), _aware(end)
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
        new_repeat_probability=_ratio(totals["new_repeat"], totals["new"]),
        new_average_order_value=_money(Decimal(totals["new_value"]) / totals["new_orders"]) if totals["new_orders"] else None,
        returning_base=base,
        returning_buyers=totals["returning"],
        returning_order_probability=_ratio(totals["returning"], base),
        returning_average_order_value=_money(Decimal(totals["returning_value"]) / totals["returning_orders"])
        if totals["returning_orders"] else None,
    )

