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

The scores are written by `analytics.services.scores.rfm_refresh` (one INSERT ... SELECT ... ON
CONFLICT DO UPDATE with the window functions in the SELECT, and one UPDATE that clears customers
who no longer have a counted order); this module holds the definitions and the reads.
"""

from django.db.models import Count, Q

from analytics.models import CustomerScore

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


def segment_case_sql() -> str:
    """The grid as an SQL CASE over the columns r and f (constant text: no user input)."""
    whens = " ".join(
        f"WHEN r IN ({', '.join(map(str, r_scores))}) AND f IN ({', '.join(map(str, f_scores))}) THEN '{segment}'"
        for r_scores, f_scores, segment in GRID
    )
    return f"CASE {whens} END"


def rfm_grid(customers=None) -> dict[tuple[int, int], int]:
    """Customers per (R, F) cell, for the admin's grid."""
    scores = CustomerScore.objects.filter(rfm_r__isnull=False)
    if customers is not None:
        scores = scores.filter(customer__in=customers.values("pk"))
    rows = scores.values("rfm_r", "rfm_f").annotate(n=Count("pk")).order_by()
    return {(row["rfm_r"], row["rfm_f"]): row["n"] for row in rows}
