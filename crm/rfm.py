"""RFM: recency, frequency and monetary quintile scores and the named segments, stored per customer.

Over the customers with at least one counted order (the derived columns of crm.Customer):

- R = quintile of `last_order_at` (the most recent fifth scores 5),
- F = quintile of `orders_count` (counted orders),
- M = quintile of `total_spent` (counted value),

each an `NTILE(5)` window over the column. Customers with the same value get the same score:
the lowest tile their value reaches (`MIN(tile) OVER (PARTITION BY value)`), so two
one-order customers never land in different F quintiles because of an arbitrary tie-break.

The named segment comes from the widely used R x F grid (the 10-segment map popularised by
the RFM tutorials, with its bottom-left corner R = 1, F = 1 split off as "Lost"); M is
scored and shown but does not change the segment:

    R \\ F     1               2               3               4               5
    5         New             Potential loy.  Potential loy.  Champions       Champions
    4         Promising       Potential loy.  Potential loy.  Loyal           Loyal
    3         About to sleep  About to sleep  Need attention  Loyal           Loyal
    2         Hibernating     Hibernating     At risk         At risk         Cannot lose them
    1         Lost            Hibernating     At risk         At risk         Cannot lose them

`rfm_refresh()` recomputes everything with one INSERT ... SELECT ... ON CONFLICT DO UPDATE
(window functions in the SELECT) and one UPDATE that clears customers who no longer have a
counted order. Both statements run as they are on PostgreSQL and SQLite (3.25+).
"""

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from crm.models import Customer, CustomerScore

Segment = CustomerScore.RfmSegment

# (R scores, F scores) -> segment; the 25 cells of the grid above, each exactly once.
GRID: list[tuple[tuple[int, ...], tuple[int, ...], str]] = [
    ((5,), (4, 5), Segment.CHAMPIONS),
    ((3, 4), (4, 5), Segment.LOYAL),
    ((4, 5), (2, 3), Segment.POTENTIAL_LOYALIST),
    ((5,), (1,), Segment.NEW),
    ((4,), (1,), Segment.PROMISING),
    ((3,), (3,), Segment.NEED_ATTENTION),
    ((3,), (1, 2), Segment.ABOUT_TO_SLEEP),
    ((1, 2), (3, 4), Segment.AT_RISK),
    ((1, 2), (5,), Segment.CANNOT_LOSE_THEM),
    ((1,), (1,), Segment.LOST),
    ((1, 2), (1, 2), Segment.HIBERNATING),  # after Lost: the remaining three cells
]

# Segments that count as "loyal" in the lifecycle stage (crm.querysets.register_loyalty_condition).
LOYAL_SEGMENTS = (Segment.CHAMPIONS, Segment.LOYAL)


def segment_for(r: int, f: int) -> str:
    """The named segment of a cell of the grid (the Python twin of the SQL CASE)."""
    for r_scores, f_scores, segment in GRID:
        if r in r_scores and f in f_scores:
            return segment
    raise ValueError(f"RFM scores out of range: R={r}, F={f}")


def loyalty_condition() -> Q:
    return Q(score__rfm_segment__in=LOYAL_SEGMENTS)


def _segment_case() -> str:
    whens = " ".join(
        f"WHEN r IN ({', '.join(map(str, r_scores))}) AND f IN ({', '.join(map(str, f_scores))}) THEN '{segment}'"
        for r_scores, f_scores, segment in GRID
    )
    return f"CASE {whens} END"


@transaction.atomic
def rfm_refresh(*, at=None) -> dict:
    """Score every customer with a counted order; returns {"scored": n, "cleared": m}."""
    at = at or timezone.now()
    quote = connection.ops.quote_name
    customers, scores = quote(Customer._meta.db_table), quote(CustomerScore._meta.db_table)
    # WHERE 1 = 1 before ON CONFLICT: SQLite would otherwise read ON as a join constraint.
    upsert = f"""
        INSERT INTO {scores} (customer_id, rfm_r, rfm_f, rfm_m, rfm_segment, rfm_computed_at)
        SELECT id, r, f, m, {_segment_case()}, %s FROM (
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


def rfm_grid(customers=None) -> dict[tuple[int, int], int]:
    """Customers per (R, F) cell, for the admin's grid."""
    from django.db.models import Count

    scores = CustomerScore.objects.filter(rfm_r__isnull=False)
    if customers is not None:
        scores = scores.filter(customer__in=customers.values("pk"))
    rows = scores.values("rfm_r", "rfm_f").annotate(n=Count("pk")).order_by()
    return {(row["rfm_r"], row["rfm_f"]): row["n"] for row in rows}
