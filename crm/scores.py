"""Per-customer scores written by the analytics jobs: RFM (crm.rfm) and predicted churn and CLV.

`predictions_refresh` summarises every customer's counted orders in SQL (x, t_x, T and the
mean value of their repeat purchases), fits BG/NBD and Gamma-Gamma (crm.predictions),
scores every customer in numpy and writes the scores back with batched set-based upserts:
no Python loop over customers, no ORM object per customer.

The summary, per customer with a counted order placed before the calibration end:
- purchase days = the distinct calendar days (TIME_ZONE) with a counted order;
- x = purchase days after the first; t_x = days from the first purchase day to the last;
- T = days from the first purchase day to the calibration day (the calibration end's date,
  or the next date when the calibration end is not midnight);
- mean value = the counted value of the repeat days divided by x (Gamma-Gamma's z̄).
With --unit weeks, t_x and T are divided by 7.

numpy and scipy are imported when a fit runs, not when Django starts.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from crm import rfm
from crm.models import CustomerScore, Order, PredictionFit

if TYPE_CHECKING:
    import numpy as np

    from crm import predictions

log = logging.getLogger(__name__)

UNIT_DAYS = {"days": 1.0, "weeks": 7.0}
HORIZON_DAYS = 90  # expected_purchases_90d


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


@dataclass(frozen=True)
class PredictionResult:
    customers: int
    bgnbd: predictions.BgNbd
    gamma_gamma: predictions.GammaGamma | None
    fit: PredictionFit

    def as_dict(self) -> dict:
        return {
            "customers": self.customers,
            "bgnbd": self.bgnbd.as_dict(),
            "gamma_gamma": self.gamma_gamma.as_dict() if self.gamma_gamma else None,
        }


def predictions_refresh(*, calibration_end: datetime | None = None, unit: str | None = None,
                        at: datetime | None = None) -> PredictionResult:
    """Fit BG/NBD and Gamma-Gamma on the counted orders placed before `calibration_end`
    (default now) and store P(alive), expected purchases in the next 90 days, expected order
    value and predictive CLV for every customer with a counted order.

    Raises predictions.FitError when the data cannot identify the model."""
    import numpy as np

    from crm import predictions

    started = time.perf_counter()
    at = at or timezone.now()
    calibration_end = calibration_end or at
    unit = unit or settings.ANALYTICS_PREDICTION_UNIT
    if unit not in UNIT_DAYS:
        raise ValueError(f"unit must be one of {', '.join(UNIT_DAYS)}")
    scale = UNIT_DAYS[unit]
    summary = customer_summaries(calibration_end)
    if not len(summary):
        raise predictions.FitError("No customer has a counted order before the calibration end.")
    x, t_x, T = summary.x, summary.t_x / scale, summary.T / scale
    (ux, utx, uT), weights, inverse = predictions.compress(x, t_x, T)
    bgnbd = predictions.bgnbd_fit(ux, utx, uT, weights)
    alive = predictions.p_alive(bgnbd, ux, utx, uT)[inverse]
    expected = predictions.expected_purchases(bgnbd, HORIZON_DAYS / scale, ux, utx, uT)[inverse]
    try:
        gamma_gamma = predictions.gamma_gamma_fit(x, summary.mean_value)
    except predictions.FitError as error:
        log.warning("Gamma-Gamma not fitted: %s", error)
        gamma_gamma = None
    if gamma_gamma is not None:
        average = predictions.expected_average_value(gamma_gamma, x, summary.mean_value)
        clv = predictions.predictive_clv(
            bgnbd, gamma_gamma, x, t_x, T, summary.mean_value, months=settings.ANALYTICS_CLV_MONTHS,
            monthly_discount=settings.ANALYTICS_CLV_MONTHLY_DISCOUNT, unit_days=scale,
        )
    else:
        average = clv = np.full(len(summary), np.nan)
    with transaction.atomic():
        _store_predictions(summary.customer_id, alive, expected, average, clv, at)
        fit = PredictionFit.objects.create(
            calibration_end=calibration_end, unit=unit, customers=len(summary),
            bgnbd={**bgnbd.as_dict(6), "log_likelihood": bgnbd.log_likelihood},
            gamma_gamma={**gamma_gamma.as_dict(6), "log_likelihood": gamma_gamma.log_likelihood} if gamma_gamma else {},
            seconds=round(time.perf_counter() - started, 3),
        )
    return PredictionResult(customers=len(summary), bgnbd=bgnbd, gamma_gamma=gamma_gamma, fit=fit)


def _store_predictions(customer_ids, alive, expected, average, clv, at: datetime) -> None:
    """Batched INSERT ... ON CONFLICT DO UPDATE; then the customers not scored this time
    (no counted order any more) are cleared by one UPDATE."""
    import numpy as np

    quote = connection.ops.quote_name
    table = quote(CustomerScore._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(at)
    columns = [
        customer_ids.tolist(),
        _nullable(np.clip(alive, 0.0, 1.0), 6),
        _nullable(expected, 6),
        _nullable(average, 2),
        _nullable(clv, 2),
    ]
    update = ("ON CONFLICT (customer_id) DO UPDATE SET p_alive = excluded.p_alive, "
              "expected_purchases_90d = excluded.expected_purchases_90d, "
              "expected_average_value = excluded.expected_average_value, "
              "predicted_clv = excluded.predicted_clv, predicted_at = excluded.predicted_at")
    names = "customer_id, p_alive, expected_purchases_90d, expected_average_value, predicted_clv, predicted_at"
    batch = settings.ANALYTICS_UPSERT_BATCH_SIZE
    with connection.cursor() as cursor:
        for first in range(0, len(customer_ids), batch):
            chunk = [column[first:first + batch] for column in columns]
            if connection.vendor == "postgresql":
                # One statement per batch: the arrays travel as five parameters.
                cursor.execute(
                    f"INSERT INTO {table} ({names}) "  # nosec B608 - quoted model table and constant SQL; values are parameters
                    "SELECT c, p, e, ROUND(CAST(v AS numeric), 2), ROUND(CAST(l AS numeric), 2), %s "
                    "FROM unnest(%s::bigint[], %s::float8[], %s::float8[], %s::float8[], %s::float8[]) AS t(c, p, e, v, l) "
                    + update,
                    [stamp, *chunk],
                )
            else:
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES (%s, %s, %s, %s, %s, %s) " + update,  # nosec B608 - quoted model table and constant SQL; values are parameters
                    [(*row, stamp) for row in zip(*chunk)],
                )
        cursor.execute(
            f"UPDATE {table} SET p_alive = NULL, expected_purchases_90d = NULL, expected_average_value = NULL, "  # nosec B608 - quoted model table and constant SQL; values are parameters
            "predicted_clv = NULL, predicted_at = NULL WHERE predicted_at IS NOT NULL AND predicted_at <> %s",
            [stamp],
        )


def _nullable(values: np.ndarray, digits: int) -> list:
    import numpy as np

    values = np.round(np.asarray(values, dtype=float), digits)
    return [None if value != value else value for value in values.tolist()]  # NaN -> NULL


def likely_churning(customers=None, *, threshold: float | None = None):
    """Customers whose P(alive) is below the setting (ANALYTICS_LIKELY_CHURN_P_ALIVE)."""
    from crm.models import Customer

    threshold = settings.ANALYTICS_LIKELY_CHURN_P_ALIVE if threshold is None else threshold
    base = customers if customers is not None else Customer.objects.all()
    return base.filter(score__p_alive__lt=threshold)


# --- periodic jobs ---------------------------------------------------------------------------

def rfm_job(run_date: date) -> dict:
    return rfm.rfm_refresh()


def predictions_job(run_date: date) -> dict:
    from crm import predictions

    try:
        result = predictions_refresh()
    except predictions.FitError as error:
        return {"skipped": str(error)}
    return result.as_dict()
