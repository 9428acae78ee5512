"""Each customer's purchase summary for the churn model, read in SQL (one statement).

Per customer with a counted order placed before the calibration end:
- purchase days = the distinct calendar days (TIME_ZONE) with a counted order;
- x = purchase days after the first; t_x = days from the first purchase day to the last;
- T = days from the first purchase day to the calibration day (the calibration end's date,
  or the next date when the calibration end is not midnight);
- mean value = the counted value of the repeat days divided by x (Gamma-Gamma's z̄).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from crm.models import Order

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Summary:
    customer_id: np.ndarray
    x: np.ndarray
    t_x: np.ndarray  # in days
    T: np.ndarray  # in days
    mean_value: np.ndarray  # 0 when x = 0

    def __len__(self) -> int:
        return len(self.customer_id)


def calibration_day(calibration_end: datetime) -> date:
    local = timezone.localtime(calibration_end)
    return local.date() if local.time() == datetime.min.time() else local.date() + timedelta(days=1)


def customer_summaries(calibration_end: datetime) -> Summary:
    """One row per customer with a counted order before the calibration end, as numpy arrays."""
    import numpy as np

    days = (
        Order.objects.filter(is_counted=True, placed_at__lt=calibration_end)
        .annotate(day=TruncDate("placed_at"))
        .values("customer_id", "day")
        .annotate(value=Sum("net_total"))
        .order_by()
    )
    inner, params = days.query.sql_with_params()
    day_diff, as_float = _vendor_sql()
    sql = f"""
        SELECT customer_id, COUNT(*) - 1,
               {day_diff("MAX(day)", "MIN(day)")},
               {day_diff("%s", "MIN(day)")},
               CAST(COALESCE(SUM(CASE WHEN n > 1 THEN value END), 0) AS {as_float})
        FROM (
            SELECT customer_id, day, value, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY day) AS n
            FROM ({inner}) purchase_days
        ) numbered
        GROUP BY customer_id
    """  # nosec B608 - quoted model table and constant SQL; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [calibration_day(calibration_end).isoformat(), *params])
        rows = cursor.fetchall()
    if not rows:
        empty = np.empty(0)
        return Summary(np.empty(0, dtype=np.int64), empty, empty, empty, empty)
    table = np.array(rows, dtype=float)
    x = table[:, 1]
    repeat_value = table[:, 4]
    mean_value = np.divide(repeat_value, x, out=np.zeros_like(x), where=x > 0)
    return Summary(customer_id=table[:, 0].astype(np.int64), x=x, t_x=table[:, 2], T=table[:, 3], mean_value=mean_value)


def _vendor_sql():
    if connection.vendor == "postgresql":
        def day_diff(later: str, earlier: str) -> str:
            later = "CAST(%s AS date)" if later == "%s" else later
            return f"({later} - {earlier})"

        return day_diff, "double precision"

    def day_diff(later: str, earlier: str) -> str:
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"

    return day_diff, "REAL"
