"""Every figure of a snapshot row, for many periods and every segment at once: S, R, N, E and the
rates, the size, NPS/CSAT and the return rate of each (segment or all customers, period), in three
statements per pass whatever the number of periods and segments.

How one scan serves every period: the bounds the periods need (start - W, start, end - W, end of
each) cut the time line into elementary intervals; a counted order falls in exactly one, and each
figure of a period is a union of intervals (active at the start: [start - W, start), ordered in the
period: [start, end), active at the end: [end - W, end)). So the orders are read once, each customer
gets a bit mask of the intervals it ordered in (and one bit for its first counted order), and a
period's flags are mask tests. The segments are bits too: a customer's segment mask (from the
materialized members, campaigns.SegmentCustomer) groups the customers, and each group's sums count
in every segment of its mask, and in "all customers" (key None).

The figures are those of metrics.retention / retention_by_segment and of analytics.selectors'
period_extras (NPS and CSAT of feedback.selectors.survey_scores, feedback's return rate), exactly:
tests/analytics/test_all_periods.py compares them on both databases. PostgreSQL places a moment with
width_bucket (a binary search) and ORs masks with BIT_OR; SQLite with a CASE chain and SUM of
distinct bits.

A pass handles at most MAX_INTERVALS intervals (the bits of a BIGINT) and SEGMENTS_PER_PASS segments
(their masks group the customers in at most 2^n ways); more periods or segments take more passes.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connections, router

from analytics.metrics.common import activity_window, aware, ratio
from analytics.metrics.retention import Retention
from campaigns.models import Segment, SegmentCustomer
from crm.models import Customer, Order, OrderLine
from feedback.models import (
    CSAT_SATISFIED_MIN, NPS_PASSIVE_MIN, NPS_PROMOTER_MIN, Answer, Question, Response, ReturnLine, ReturnRequest,
)
from feedback.selectors import ReturnRate, csat, nps

MAX_INTERVALS = 62  # bits 0..61 of a signed 64-bit integer
SEGMENTS_PER_PASS = 16

TABLES = {
    "order": Order._meta.db_table, "line": OrderLine._meta.db_table, "customer": Customer._meta.db_table,
    "members": SegmentCustomer._meta.db_table, "answer": Answer._meta.db_table, "response": Response._meta.db_table,
    "question": Question._meta.db_table, "return_line": ReturnLine._meta.db_table,
    "return_request": ReturnRequest._meta.db_table,
}


@dataclass(frozen=True)
class SnapshotFigures:
    """What a snapshot row stores: the retention figures, the number of customers and `extra`
    (the keys of analytics.selectors.period_extras)."""

    retention: Retention
    size: int
    extra: dict


def snapshot_figures(segments: Iterable[Segment], periods: Iterable[tuple[date, date]], *,
                     window_days: int | None = None, include_all: bool = True
                     ) -> dict[tuple[int | None, date, date], SnapshotFigures]:
    """The figures of every materialized segment (and of all customers, key None, with `include_all`)
    for every period [start, end), keyed by (segment pk or None, start, end). A segment never
    materialized is left out: the caller computes it alone."""
    window = activity_window(window_days)
    segment_ids = [segment.pk for segment in segments if segment.members_computed_at is not None]
    periods = sorted(set(periods))
    for start, end in periods:
        if aware(end) <= aware(start):
            raise ValueError("The period must end after it starts.")
    connection = connections[router.db_for_read(SegmentCustomer)]
    sizes = _sizes(connection, segment_ids)
    results = {}
    for chunk in _period_chunks(periods, window):
        grid = _Grid(chunk, window, connection)
        segment_chunks = [segment_ids[i:i + SEGMENTS_PER_PASS] for i in range(0, len(segment_ids), SEGMENTS_PER_PASS)]
        for number, ids in enumerate(segment_chunks or [[]]):
            with_all = include_all and number == 0
            if not ids and not with_all:
                continue
            keys = [*ids, *([None] if with_all else [])]
            counts = _retention_counts(grid, ids, with_all)
            units = _interval_sums(grid, ids, with_all, _returns_sql(grid, ids), 2)
            scores = _interval_sums(grid, ids, with_all, _scores_sql(grid, ids), 5)
            for k, period in enumerate(chunk):
                for key in keys:
                    results[(key, *period)] = _row(period, window, sizes.get(key, 0), counts.get((key, k)),
                                                   units.get((key, k)), scores.get((key, k)))
    return results


def _row(period: tuple[date, date], window, size: int, counts: tuple | None, units: tuple | None,
         scores: tuple | None) -> SnapshotFigures:
    s, r, n, e = counts or (0, 0, 0, 0)
    sold, back = units or (0, 0)
    answers, promoters, detractors, csat_answers, satisfied = scores or (0, 0, 0, 0, 0)
    retention = Retention(
        start=aware(period[0]), end=aware(period[1]), window_days=window.days, customers_at_start=s, retained=r,
        churned=s - r, new_customers=n, customers_at_end=e, retention_rate=ratio(r, s), churn_rate=ratio(s - r, s),
        crr_classic=ratio(e - n, s),
    )
    returns = ReturnRate(units_sold=sold, units_returned=back, rate=round(back / sold, 4) if sold else None)
    extra = {  # the keys and values of analytics.selectors.period_extras
        "nps": nps(promoters, detractors, answers), "nps_answers": answers, "promoters": promoters,
        "detractors": detractors, "csat": csat(satisfied, csat_answers), "csat_answers": csat_answers,
        "return_rate": returns.rate, "units_sold": returns.units_sold, "units_returned": returns.units_returned,
    }
    return SnapshotFigures(retention=retention, size=size, extra=extra)


# --- the grid of elementary intervals ------------------------------------------------------------

def _bounds(start: date, end: date, window) -> list[datetime]:
    start, end = aware(start), aware(end)
    return [start - window, start, end - window, end]


def _period_chunks(periods: list[tuple[date, date]], window) -> list[list[tuple[date, date]]]:
    """The periods in groups whose bounds cut at most MAX_INTERVALS intervals."""
    chunks, points = [], set()
    for period in periods:
        bounds = set(_bounds(*period, window))
        if chunks and len(points | bounds) - 1 <= MAX_INTERVALS:
            chunks[-1].append(period)
            points |= bounds
        else:
            chunks.append([period])
            points = bounds
    return chunks


class _Grid:
    """The intervals [points[j], points[j + 1]) of a group of periods, the SQL that places a moment
    in them (as the bit 1 << j), and each period's masks."""

    def __init__(self, periods: list[tuple[date, date]], window, connection):
        self.periods, self.connection = periods, connection
        self.points = sorted({point for period in periods for point in _bounds(*period, window)})
        self.postgres = connection.vendor == "postgresql"
        moment = connection.ops.adapt_datetimefield_value
        self.first, self.last = moment(self.points[0]), moment(self.points[-1])
        self.params = [moment(point) for point in self.points]
        self.masks = []  # per period: (active at the start, in the period, active at the end)
        for period in periods:
            start_window, start, end_window, end = _bounds(*period, window)
            self.masks.append((self.mask(start_window, start), self.mask(start, end), self.mask(end_window, end)))

    def mask(self, low: datetime, high: datetime) -> int:
        return sum(1 << j for j in range(len(self.points) - 1) if low <= self.points[j] and self.points[j + 1] <= high)

    def bit(self, column: str) -> tuple[str, list]:
        """SQL for the bit of the interval holding `column` (a moment in [first point, last point))."""
        if self.postgres:
            return f"(CAST(1 AS BIGINT) << (width_bucket({column}, %s::timestamptz[]) - 1))", [self.params]
        whens = " ".join(f"WHEN {column} < %s THEN {1 << j}" for j in range(len(self.points) - 2))
        return f"CASE {whens} ELSE {1 << (len(self.points) - 2)} END", self.params[1:-1]

    def in_range(self, column: str) -> tuple[str, list]:
        return f"{column} >= %s AND {column} < %s", [self.first, self.last]

    def bit_or(self, expression: str) -> str:
        """OR of bits; SQLite has no BIT_OR, so its callers sum bits that are distinct in the group."""
        return f"BIT_OR({expression})" if self.postgres else f"SUM({expression})"


def _segment_masks(grid: _Grid, segment_ids: list[int]) -> tuple[str, list]:
    """A derived table `s`: each member's segment mask (bit i for segment_ids[i]). Written out in each
    statement that needs it, not as a shared CTE: a CTE read twice is materialized by PostgreSQL, which
    keeps the plan off its parallel workers."""
    if not segment_ids:
        return f"(SELECT customer_id, 0 AS segmask FROM {TABLES['members']} WHERE 1 = 0) s", []  # nosec B608 - a model's own table
    whens = " ".join(f"WHEN {pk:d} THEN {1 << i}" for i, pk in enumerate(segment_ids))
    placeholders = ", ".join(["%s"] * len(segment_ids))
    mask = grid.bit_or(f"CASE segment_id {whens} END")
    return (f"(SELECT customer_id, {mask} AS segmask FROM {TABLES['members']} "  # nosec B608
            f"WHERE segment_id IN ({placeholders}) GROUP BY customer_id) s"), list(segment_ids)


def _retention_counts(grid: _Grid, segment_ids: list[int], with_all: bool) -> dict[tuple, tuple[int, int, int, int]]:
    """(key, period index) -> (S, R, N, E): one statement over the counted orders and the customers."""
    sql, params = _retention_sql(grid, segment_ids)
    counts: dict[tuple, list[int]] = {}
    for segmask, k, *figures in _fetch(grid, sql, params):
        for key in _keys(segment_ids, int(segmask), with_all):
            total = counts.setdefault((key, k), [0, 0, 0, 0])
            for index, value in enumerate(figures):
                total[index] += int(value or 0)
    return {key: tuple(total) for key, total in counts.items()}


def _retention_sql(grid: _Grid, segment_ids: list[int]) -> tuple[str, list]:
    """Per customer the mask of the intervals it ordered in and the bit of its first counted order;
    the customers grouped by (segment mask, masks), then each period's flags summed per segment mask."""
    seg, seg_params = _segment_masks(grid, segment_ids)
    order_bit, order_bit_params = grid.bit("o.placed_at")
    order_range, order_range_params = grid.in_range("o.placed_at")
    new_bit, new_bit_params = grid.bit("c.first_order_at")
    new_range, new_range_params = grid.in_range("c.first_order_at")
    if grid.postgres:
        orders = (f"SELECT o.customer_id, BIT_OR({order_bit}) AS mask FROM {TABLES['order']} o "  # nosec B608
                  f"WHERE o.is_counted AND {order_range} GROUP BY o.customer_id")
    else:
        orders = (f"SELECT customer_id, SUM(bit) AS mask FROM (SELECT DISTINCT o.customer_id, {order_bit} AS bit "  # nosec B608
                  f"FROM {TABLES['order']} o WHERE o.is_counted AND {order_range}) order_bits GROUP BY customer_id")
    periods = " UNION ALL ".join(
        f"SELECT {k} AS k, {a} AS a, {i} AS i, {e} AS e" for k, (a, i, e) in enumerate(grid.masks)
    )
    sql = f"""
WITH orders AS ({orders}),
per_customer AS (
    SELECT customer_id, {grid.bit_or('mask')} AS mask, {grid.bit_or('new')} AS new
    FROM (
        SELECT customer_id, mask, 0 AS new FROM orders
        UNION ALL
        SELECT c.id, 0, {new_bit} FROM {TABLES['customer']} c WHERE {new_range}
    ) customer_rows
    GROUP BY customer_id
),
grouped AS (
    SELECT COALESCE(s.segmask, 0) AS segmask, p.mask, p.new, COUNT(*) AS n
    FROM per_customer p LEFT JOIN {seg} ON s.customer_id = p.customer_id
    GROUP BY COALESCE(s.segmask, 0), p.mask, p.new
),
periods AS ({periods})
SELECT g.segmask, v.k,
       SUM(CASE WHEN (g.mask & v.a) <> 0 THEN g.n ELSE 0 END),
       SUM(CASE WHEN (g.mask & v.a) <> 0 AND (g.mask & v.i) <> 0 THEN g.n ELSE 0 END),
       SUM(CASE WHEN (g.new & v.i) <> 0 THEN g.n ELSE 0 END),
       SUM(CASE WHEN (g.mask & v.e) <> 0 THEN g.n ELSE 0 END)
FROM grouped g CROSS JOIN periods v
GROUP BY g.segmask, v.k"""  # nosec B608
    params = [*order_bit_params, *order_range_params, *new_bit_params, *new_range_params, *seg_params]
    return sql, params


def _returns_sql(grid: _Grid, segment_ids: list[int]) -> tuple[str, list]:
    """Units sold (the lines of the orders not cancelled) and units returned (on return requests not
    rejected), per segment mask and interval of the order's placed_at: feedback's return rate. Each
    branch joins the members on the orders' own customer_id, whose statistics the planner knows."""
    seg, seg_params = _segment_masks(grid, segment_ids)
    bit, bit_params = grid.bit("o.placed_at")
    in_range, range_params = grid.in_range("o.placed_at")
    lines = (f"FROM {TABLES['order']} o JOIN {TABLES['line']} l ON l.order_id = o.id "
             f"LEFT JOIN {seg} ON s.customer_id = o.customer_id")
    sold = (f"SELECT COALESCE(s.segmask, 0), {bit}, SUM(l.quantity), 0 {lines} "  # nosec B608
            f"WHERE o.status <> %s AND {in_range} GROUP BY 1, 2")
    back = (f"SELECT COALESCE(s.segmask, 0), {bit}, 0, SUM(r.quantity) {lines} "  # nosec B608
            f"JOIN {TABLES['return_line']} r ON r.order_line_id = l.id "
            f"JOIN {TABLES['return_request']} q ON q.id = r.return_request_id "
            f"WHERE NOT q.rejected AND o.status <> %s AND {in_range} GROUP BY 1, 2")
    cancelled = Order.Status.CANCELLED.value
    return (f"{sold} UNION ALL {back}", [*bit_params, *seg_params, cancelled, *range_params,
                                         *bit_params, *seg_params, cancelled, *range_params])


def _scores_sql(grid: _Grid, segment_ids: list[int]) -> tuple[str, list]:
    """NPS and CSAT answers of the customers' responses, per segment mask and interval of submitted_at:
    the counts of feedback.selectors.survey_scores (answers of anonymous responses count for nobody)."""
    seg, seg_params = _segment_masks(grid, segment_ids)
    bit, bit_params = grid.bit("r.submitted_at")
    in_range, range_params = grid.in_range("r.submitted_at")
    nps_, csat_ = Question.Score.NPS.value, Question.Score.CSAT.value
    sql = (f"SELECT COALESCE(s.segmask, 0), {bit}, "  # nosec B608
           f"SUM(CASE WHEN q.scores = %s THEN 1 ELSE 0 END), "
           f"SUM(CASE WHEN q.scores = %s AND a.number >= {NPS_PROMOTER_MIN:d} THEN 1 ELSE 0 END), "
           f"SUM(CASE WHEN q.scores = %s AND a.number < {NPS_PASSIVE_MIN:d} THEN 1 ELSE 0 END), "
           f"SUM(CASE WHEN q.scores = %s THEN 1 ELSE 0 END), "
           f"SUM(CASE WHEN q.scores = %s AND a.number >= {CSAT_SATISFIED_MIN:d} THEN 1 ELSE 0 END) "
           f"FROM {TABLES['answer']} a JOIN {TABLES['response']} r ON r.id = a.response_id "
           f"JOIN {TABLES['question']} q ON q.id = a.question_id LEFT JOIN {seg} ON s.customer_id = r.customer_id "
           f"WHERE r.customer_id IS NOT NULL AND q.scores IN (%s, %s) AND {in_range} GROUP BY 1, 2")
    return sql, [*bit_params, nps_, nps_, nps_, csat_, csat_, *seg_params, nps_, csat_, *range_params]


def _interval_sums(grid: _Grid, segment_ids: list[int], with_all: bool, statement: tuple[str, list],
                   width: int) -> dict[tuple, tuple]:
    """(key, period index) -> sums, from rows (segment mask, interval bit, sums...) of moments inside
    the periods themselves ([start, end))."""
    sql, params = statement
    totals: dict[tuple, list[int]] = {}
    for segmask, bit, *sums in _fetch(grid, sql, params):
        periods = [k for k, (_a, inside, _e) in enumerate(grid.masks) if int(bit) & inside]
        if not periods:
            continue
        for key in _keys(segment_ids, int(segmask), with_all):
            for k in periods:
                total = totals.setdefault((key, k), [0] * width)
                for index, value in enumerate(sums):
                    total[index] += int(value or 0)
    return {key: tuple(total) for key, total in totals.items()}


def _keys(segment_ids: list[int], segmask: int, with_all: bool) -> list[int | None]:
    keys = [pk for i, pk in enumerate(segment_ids) if segmask >> i & 1]
    return [*keys, None] if with_all else keys


def _fetch(grid: _Grid, sql: str, params: list) -> list[tuple]:
    with grid.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _sizes(connection, segment_ids: list[int]) -> dict[int | None, int]:
    sizes: dict[int | None, int] = {None: Customer.objects.using(connection.alias).count()}
    if segment_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT segment_id, COUNT(*) FROM {TABLES['members']} "  # nosec B608
                f"WHERE segment_id IN ({', '.join(['%s'] * len(segment_ids))}) GROUP BY segment_id", segment_ids)
            sizes.update((pk, int(count)) for pk, count in cursor.fetchall())
    return sizes
