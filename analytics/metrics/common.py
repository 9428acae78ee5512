"""What every metric shares: the counted orders, the activity window, dates as moments, and rounding."""

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import DecimalField, QuerySet
from django.utils import timezone

from crm.models import MONEY_SUM, Customer, Order

MONEY_FIELD = DecimalField(**MONEY_SUM)  # sums of many orders (revenue of a period, of a segment)


def aware(moment: date | datetime) -> datetime:
    """A date means midnight in TIME_ZONE at its start."""
    if isinstance(moment, datetime):
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    return timezone.make_aware(datetime.combine(moment, time.min))


def activity_window(window_days: int | None) -> timedelta:
    return timedelta(days=window_days or settings.CRM_ACTIVITY_WINDOW_DAYS)


def ratio(numerator: int | Decimal, denominator: int | Decimal, places: int = 4) -> float | None:
    if not denominator:
        return None
    return float((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def money(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)


def counted_orders(customers: QuerySet[Customer] | None = None) -> QuerySet[Order]:
    orders = Order.objects.filter(is_counted=True)
    if customers is not None and customers.query.where:
        orders = orders.filter(customer__in=customers.values("pk"))
    return orders
