"""What a campaign or a marketing automation brought beyond its holdout: the lift.

Both groups are the rows written when the audience was frozen (or at each automation entry):
*recipients* are the rows the campaign meant to send (intent to treat: a message that failed or
was skipped at send time still counts, so both groups stay random samples of the same audience;
cancelled rows do not), the *holdout* the rows "held out". Each row's outcome window starts at its
row's date (the campaign's start; an automation entry's own date) and lasts `window_days` (30):

- converted: the customer placed a counted order (crm's `is_counted`) in the window;
- revenue: the value (`net_total`) of those orders, 0 for the others;
- retained: the customer is active at the end of the window (a counted order in the
  CRM_ACTIVITY_WINDOW_DAYS before it, as analytics defines "active").

All of it is one SQL statement: each row's figures are correlated subqueries, grouped by group
into counts, sums and sums of squares (for the variance of revenue per customer). The intervals
are core.stats': Newcombe's hybrid score interval for the difference of the rates, Welch's for
the difference of revenue per customer.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import (
    Case, Count, DateTimeField, DecimalField, Exists, ExpressionWrapper, F, IntegerField, Max, OuterRef, Q, QuerySet,
    Subquery, Sum, Value, When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Automation, Campaign, Message
from core import stats
from crm.models import MONEY_SUM, Order

WINDOW_DAYS = 30
MIN_WINDOW_DAYS, MAX_WINDOW_DAYS = 1, 3650
TREATED, HOLDOUT = "treated", "holdout"
MONEY = DecimalField(**MONEY_SUM)
SQUARES = DecimalField(max_digits=40, decimal_places=4)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class GroupOutcome:
    """One group's figures over its outcome windows."""

    customers: int = 0
    converted: int = 0
    orders: int = 0
    revenue: Decimal = Decimal("0")
    revenue_squares: Decimal = Decimal("0")
    retained: int = 0

    @property
    def rate(self) -> float | None:
        """Converted customers / customers, a fraction; None for an empty group."""
        return self.converted / self.customers if self.customers else None

    @property
    def retention_rate(self) -> float | None:
        return self.retained / self.customers if self.customers else None

    @property
    def revenue_per_customer(self) -> Decimal | None:
        return Decimal(self.revenue) / self.customers if self.customers else None

    @property
    def revenue_variance(self) -> float | None:
        """The sample variance of revenue per customer, from the sum and the sum of squares."""
        if self.customers < 2:
            return None
        total, squares = Decimal(self.revenue), Decimal(self.revenue_squares)
        return float(max(Decimal(0), (squares - total * total / self.customers) / (self.customers - 1)))


@dataclass(frozen=True)
class Lift:
    window_days: int
    treated: GroupOutcome
    holdout: GroupOutcome
    window_ends: datetime | None  # when the last row's outcome window ends (None: no rows)

    @property
    def window_complete(self) -> bool:
        return self.window_ends is not None and self.window_ends <= timezone.now()

    @property
    def rate_difference(self) -> tuple[float, float, float] | None:
        """(lift, low, high): recipients' rate - holdout's, with Newcombe's 95% interval."""
        return stats.newcombe_interval(self.treated.converted, self.treated.customers,
                                       self.holdout.converted, self.holdout.customers)

    @property
    def revenue_difference(self) -> tuple[float, float, float] | None:
        """(difference, low, high) of revenue per customer, with Welch's 95% interval."""
        if self.treated.customers < 2 or self.holdout.customers < 2:
            return None
        return stats.welch_interval(float(self.treated.revenue_per_customer), self.treated.revenue_variance,
                                    self.treated.customers, float(self.holdout.revenue_per_customer),
                                    self.holdout.revenue_variance, self.holdout.customers)

    @property
    def incremental_orders(self) -> float | None:
        """Customers who converted because of the campaign: the lift times the recipients."""
        difference = self.rate_difference
        return None if difference is None else difference[0] * self.treated.customers

    @property
    def incremental_revenue(self) -> Decimal | None:
        """The difference in revenue per customer times the recipients."""
        if not (self.treated.customers and self.holdout.customers):
            return None
        return (self.treated.revenue_per_customer - self.holdout.revenue_per_customer) * self.treated.customers

    @property
    def sentence(self) -> str:
        """The verdict in plain words, in the reader's language."""
        difference = self.rate_difference
        if difference is None:
            return _("Not measurable: the recipients or the holdout group is empty.")
        lift, low, high = (_points(value) for value in difference)
        values = {"lift": lift, "low": low, "high": high}
        if difference[1] <= 0 <= difference[2]:
            return _("No measurable effect: the 95%% interval of the lift (%(low)s to %(high)s percentage points) "
                     "includes zero.") % values
        if difference[0] > 0:
            return _("Measurable effect: recipients converted %(lift)s percentage points more often than the holdout "
                     "(95%% interval %(low)s to %(high)s).") % values
        return _("Negative effect: recipients converted %(lift)s percentage points less often than the holdout "
                 "(95%% interval %(low)s to %(high)s).") % values

    def summary(self) -> dict:
        """The figures of `campaign_lift --json` (without `campaign`): rates as fractions, money as
        strings with two decimals, None where a group is empty."""
        difference = self.rate_difference
        return {
            "window_days": self.window_days,
            "treated": self.treated.customers,
            "holdout": self.holdout.customers,
            "treated_converted": self.treated.converted,
            "holdout_converted": self.holdout.converted,
            "treated_rate": _fraction(self.treated.rate),
            "holdout_rate": _fraction(self.holdout.rate),
            "lift": _fraction(difference and difference[0]),
            "lift_ci_low": _fraction(difference and difference[1]),
            "lift_ci_high": _fraction(difference and difference[2]),
            "treated_revenue_per_customer": _money(self.treated.revenue_per_customer),
            "holdout_revenue_per_customer": _money(self.holdout.revenue_per_customer),
            "incremental_revenue": _money(self.incremental_revenue),
        }

    def as_dict(self) -> dict:
        """Everything: the summary, retention, orders, the revenue interval and the sentence."""
        revenue = self.revenue_difference
        incremental_orders = self.incremental_orders
        return {
            **self.summary(),
            "treated_orders": self.treated.orders,
            "holdout_orders": self.holdout.orders,
            "treated_revenue": _money(self.treated.revenue if self.treated.customers else None),
            "holdout_revenue": _money(self.holdout.revenue if self.holdout.customers else None),
            "treated_retention_rate": _fraction(self.treated.retention_rate),
            "holdout_retention_rate": _fraction(self.holdout.retention_rate),
            "revenue_per_customer_difference": _money(revenue and revenue[0]),
            "revenue_per_customer_ci_low": _money(revenue and revenue[1]),
            "revenue_per_customer_ci_high": _money(revenue and revenue[2]),
            "incremental_orders": None if incremental_orders is None else round(incremental_orders, 2),
            "window_ends": self.window_ends.isoformat() if self.window_ends else None,
            "window_complete": self.window_complete,
            "measurable": bool(self.rate_difference) and not (self.rate_difference[1] <= 0 <= self.rate_difference[2]),
            "sentence": self.sentence,
        }


def _fraction(value) -> float | None:
    return None if value is None else round(float(value), 6)


def _money(value) -> str | None:
    return None if value is None else str(Decimal(value).quantize(CENT, ROUND_HALF_UP))


def _points(value: float) -> str:
    return f"{100 * value:+.1f}"


def window_days_clean(value) -> int:
    """The outcome window in days, 1 to 3650 (default 30); ValueError names what is wrong."""
    if value in (None, ""):
        return WINDOW_DAYS
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"window_days must be a whole number of days, not {value!r}.") from None
    if not MIN_WINDOW_DAYS <= days <= MAX_WINDOW_DAYS:
        raise ValueError(f"window_days must be between {MIN_WINDOW_DAYS} and {MAX_WINDOW_DAYS}.")
    return days


MIN_YEAR, MAX_YEAR = 1970, 2999


class PeriodError(ValueError):
    """A bad date of an automation's lift period; `field` is the parameter it is about."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def day_clean(value, name: str) -> date:
    """A date given as YYYY-MM-DD; ValueError names the parameter and what is wrong."""
    if value in (None, ""):
        raise PeriodError(name, f"{name} is required (YYYY-MM-DD).")
    try:
        text = str(value).strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise PeriodError(name, f"{name} must be a date written YYYY-MM-DD, not {value!r}.") from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise PeriodError(name, f"{name} must be a date between {MIN_YEAR} and {MAX_YEAR}.")
    return day


def period_clean(start, end) -> tuple[datetime, datetime]:
    """The entries' period [start, end) of an automation's lift, from two dates (YYYY-MM-DD), as
    the current time zone's midnights. PeriodError names the parameter: `start` or `end`."""
    first, last = day_clean(start, "start"), day_clean(end, "end")
    if last <= first:
        raise PeriodError("end", "end must be after start (the period is [start, end)).")
    return (timezone.make_aware(datetime.combine(first, time.min)),
            timezone.make_aware(datetime.combine(last, time.min)))


# --- the selectors ----------------------------------------------------------------------------


def campaign_lift(campaign: Campaign, *, window_days: int = WINDOW_DAYS, customers: QuerySet | None = None) -> Lift:
    """The campaign's recipients against its holdout, each row's window from the campaign's start.
    `customers` restricts both groups (an own-data-only API key's customers)."""
    rows = Message.objects.filter(campaign=campaign).exclude(status=Message.Status.CANCELLED)
    return messages_lift(rows, window_days=window_days, customers=customers)


def automation_lift(automation: Automation, *, start: datetime, end: datetime, window_days: int = WINDOW_DAYS,
                    customers: QuerySet | None = None) -> Lift:
    """An automation's entries in [start, end) against its held-out entries, each from its own date.
    Rows skipped at entry (no consent, suppressed, over the cap) were in neither group."""
    rows = (Message.objects.filter(automation=automation, created_at__gte=start, created_at__lt=end)
            .exclude(status__in=[Message.Status.CANCELLED, Message.Status.SKIPPED]))
    return messages_lift(rows, window_days=window_days, customers=customers)


def messages_lift(rows: QuerySet[Message], *, window_days: int = WINDOW_DAYS, customers: QuerySet | None = None) -> Lift:
    """One statement: the figures of both groups, from these message rows."""
    if customers is not None:
        rows = rows.filter(customer__in=customers.values("pk"))
    window = timedelta(days=window_days)
    activity = timedelta(days=settings.CRM_ACTIVITY_WINDOW_DAYS)
    window_end = ExpressionWrapper(OuterRef("created_at") + window, output_field=DateTimeField())
    in_window = (Order.objects.filter(customer=OuterRef("customer_id"), is_counted=True, placed_at__gte=OuterRef("created_at"),
                                      placed_at__lt=window_end)
                 .order_by().values("customer"))
    active_at_end = Order.objects.filter(
        customer=OuterRef("customer_id"), is_counted=True, placed_at__lt=window_end,
        placed_at__gte=ExpressionWrapper(OuterRef("created_at") + (window - activity), output_field=DateTimeField()),
    )
    figures = (
        rows.order_by()
        .annotate(
            _group=Case(When(status=Message.Status.HELD_OUT, then=Value(HOLDOUT)), default=Value(TREATED)),
            _orders=Coalesce(Subquery(in_window.annotate(n=Count("pk")).values("n")[:1]), 0, output_field=IntegerField()),
            _revenue=Coalesce(Subquery(in_window.annotate(v=Sum("net_total")).values("v")[:1]), Value(Decimal(0)),
                              output_field=MONEY),
            _retained=Exists(active_at_end),
        )
        .values("_group")
        .annotate(
            customers=Count("pk"),
            converted=Count("pk", filter=Q(_orders__gt=0)),
            orders=Coalesce(Sum("_orders"), 0),
            revenue=Coalesce(Sum("_revenue"), Value(Decimal(0)), output_field=MONEY),
            revenue_squares=Coalesce(Sum(ExpressionWrapper(F("_revenue") * F("_revenue"), output_field=SQUARES)),
                                     Value(Decimal(0)), output_field=SQUARES),
            retained=Count("pk", filter=Q(_retained=True)),
            last_row=Max("created_at"),
        )
    )
    groups, last = {}, None
    for row in figures:
        group, row_last = row.pop("_group"), row.pop("last_row")
        groups[group] = GroupOutcome(**row)
        last = row_last if last is None else max(last, row_last)
    return Lift(window_days=window_days, treated=groups.get(TREATED, GroupOutcome()),
                holdout=groups.get(HOLDOUT, GroupOutcome()), window_ends=last + window if last else None)
