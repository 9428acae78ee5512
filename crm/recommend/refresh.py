"""Replace every customer's stored picks (crm.Recommendation), one range of customer ids at a time."""

import logging
import time
from collections.abc import Callable
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from crm.models import Customer
from crm.recommend import picks, training
from crm.recommend.config import RecommendConfig

log = logging.getLogger(__name__)


def recommendations_refresh(
    *, as_of: datetime | None = None, chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None, **overrides,
) -> dict:
    """Recompute the top picks of every customer from the counted orders before `as_of` (default now).

    Each id range is one DELETE and one INSERT ... SELECT in its own transaction, so a reader sees a
    customer's old list or their new one, never half; memory stays flat whatever the number of
    customers. `progress(done, total)` is called after each chunk with customer ids covered so far.
    Running it twice gives the same rows (computed_at aside)."""
    as_of = as_of or timezone.now()
    config = RecommendConfig.from_settings(chunk_size=chunk_size, **overrides)
    started = time.monotonic()
    bounds = Customer.objects.aggregate(low=Min("id"), high=Max("id"))
    low, high = bounds["low"], bounds["high"]
    summary = {"customers": 0, "recommendations": 0, "chunks": 0, "pairs": 0}
    if low is None:
        return {**summary, "seconds": 0.0}
    total = high - low + 1
    select = picks.ranked_sql()
    computed_at = training.db_moment(as_of)
    with connection.cursor() as cursor, training.trained(cursor, as_of, config):
        cursor.execute("SELECT COUNT(*) FROM rec_similar")
        summary["pairs"] = cursor.fetchone()[0]
        for lo in range(low, high + 1, config.chunk_size):
            hi = min(lo + config.chunk_size, high + 1)
            with transaction.atomic():
                cursor.execute("DELETE FROM crm_recommendation WHERE customer_id >= %s AND customer_id < %s", [lo, hi])
                cursor.execute(
                    f"INSERT INTO crm_recommendation ({picks.COLUMNS}) {select}",
                    picks.chunk_params(lo, hi, config, computed_at),
                )
                summary["recommendations"] += max(cursor.rowcount, 0)
            summary["chunks"] += 1
            if progress is not None:
                progress(hi - low, total)
    summary["customers"] = Customer.objects.count()
    summary["seconds"] = round(time.monotonic() - started, 3)
    log.info("recommendations refreshed: %s", summary)
    return summary


def refresh_job(run_date) -> dict:
    """The nightly job (core.jobs): recompute as of now; rerunning replaces, never adds."""
    return recommendations_refresh()
