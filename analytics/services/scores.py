"""Per-customer scores written by the analytics jobs: RFM and predicted churn and CLV.

`rfm_refresh` scores every customer with a counted order in one set-based upsert (analytics.rfm
holds the grid). `predictions_refresh` reads every customer's summary in SQL
(analytics.predictions.summaries: x, t_x, T and the mean value of their repeat purchases), fits
BG/NBD and Gamma-Gamma (analytics.predictions.model), scores every customer in numpy and writes
the scores back with batched set-based upserts: no Python loop over customers, no ORM object
per customer. With --unit weeks, t_x and T are divided by 7.

numpy and scipy are imported when a fit runs, not when Django starts.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from analytics import rfm
from analytics.models import CustomerScore, PredictionFit
from analytics.predictions.summaries import customer_summaries
from crm.models import Customer

if TYPE_CHECKING:
    import numpy as np

    from analytics.predictions import model as predictions

log = logging.getLogger(__name__)

UNIT_DAYS = {"days": 1.0, "weeks": 7.0}
HORIZON_DAYS = 90  # expected_purchases_90d


@transaction.atomic
def rfm_refresh(*, at=None) -> dict:
    """Score every customer with a counted order; returns {"scored": n, "cleared": m}."""
    at = at or timezone.now()
    quote = connection.ops.quote_name
    customers, scores = quote(Customer._meta.db_table), quote(CustomerScore._meta.db_table)
    # WHERE 1 = 1 before ON CONFLICT: SQLite would otherwise read ON as a join constraint.
    upsert = f"""
        INSERT INTO {scores} (customer_id, rfm_r, rfm_f, rfm_m, rfm_segment, rfm_computed_at)
        SELECT id, r, f, m, {rfm.segment_case_sql()}, %s FROM (
            SELECT id,
                   MIN(r_tile) OVER (PARTITION BY last_order_at) AS r,
                   MIN(f_tile) OVER (PARTITION BY orders_count) AS f,
                   MIN(m_tile) OVER (PARTITION BY total_spent) AS m
            FROM (
                SELECT id, last_order_at, orders_count, total_spent,
                       NTILE(5) OVER (ORDER BY last_order_at, id) AS r_tile,
                       NTILE(5) OVER (ORDER BY orders_count, id) AS f_tile,
                       NTILE(5) OVER (ORDER BY total_spent, id) AS m_tile
                FROM {customers}
                WHERE orders_count > 0 AND last_order_at IS NOT NULL
            ) tiles
        ) scored
        WHERE 1 = 1
        ON CONFLICT (customer_id) DO UPDATE SET
            rfm_r = excluded.rfm_r, rfm_f = excluded.rfm_f, rfm_m = excluded.rfm_m,
            rfm_segment = excluded.rfm_segment, rfm_computed_at = excluded.rfm_computed_at
    """  # nosec B608 - quoted model tables and constant SQL; values are parameters
    clear = f"""
        UPDATE {scores} SET rfm_r = NULL, rfm_f = NULL, rfm_m = NULL, rfm_segment = NULL, rfm_computed_at = NULL
        WHERE rfm_computed_at IS NOT NULL AND rfm_computed_at <> %s
    """  # nosec B608 - quoted model tables and constant SQL; values are parameters
    stamp = connection.ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        cursor.execute(upsert, [stamp])
        scored = cursor.rowcount
        cursor.execute(clear, [stamp])
        cleared = cursor.rowcount
    return {"scored": scored, "cleared": cleared}


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

    from analytics.predictions import model as predictions

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


# --- periodic jobs ---------------------------------------------------------------------------

def rfm_job(run_date: date) -> dict:
    return rfm_refresh()


def predictions_job(run_date: date) -> dict:
    from analytics.predictions import model as predictions

    try:
        result = predictions_refresh()
    except predictions.FitError as error:
        return {"skipped": str(error)}
    return result.as_dict()
