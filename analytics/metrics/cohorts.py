"""Cohort retention: customers grouped by the month of their first counted order."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, IntegerField, QuerySet
from django.db.models.functions import Cast, ExtractMonth, ExtractYear, TruncMonth
from django.utils import timezone

from analytics.metrics.common import aware, ratio
from crm.models import Customer, Order


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
        first_order_at__gte=aware(first), first_order_at__lt=aware(_add_months(first, months))
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
            ratio(counts.get((cohort, k), 0), size) if k < elapsed else None for k in range(months)
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
