"""Every segment at once: retention and value figures of many segments for one period, in one SQL
statement each, grouped by segment.

The per-customer flags (active at start, ordered in the period, active at end, new) or per-buyer
sums are computed once from the counted orders, then joined with the materialized membership
(campaigns.SegmentCustomer) and summed per segment; "all customers" is one more branch of the same
statement. The figures are those of `retention()` and `value_metrics()` over each segment's
customers, exactly (tests/analytics/test_segments_one_pass.py compares them on both databases).

A segment whose membership was never materialized (`members_computed_at` is None) is computed on its
own, live, by those functions: the pass stays one statement for every materialized segment.
"""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from django.db import connections, router
from django.db.models import Value

from analytics.metrics.common import MONEY_FIELD, activity_window, aware, money, ratio
from analytics.metrics.retention import Retention, retention
from analytics.metrics.value import ValueMetrics, value_metrics
from campaigns.models import Segment, SegmentCustomer
from campaigns.segments import segment_customers
from crm.models import Customer, Order

ALL = None  # the key of the "all customers" figures in the results

# Per customer: 1/0 flags over the counted orders of [start - W, end), plus the customers whose
# first counted order falls in the period (N); grouped once, read by every segment.
FLAGS_SQL = """
flags AS (
    SELECT customer_id, MAX(at_start) AS at_start, MAX(in_period) AS in_period, MAX(at_end) AS at_end,
           MAX(is_new) AS is_new
    FROM (
        SELECT o.customer_id,
               CASE WHEN o.placed_at < %s THEN 1 ELSE 0 END AS at_start,
               CASE WHEN o.placed_at >= %s THEN 1 ELSE 0 END AS in_period,
               CASE WHEN o.placed_at >= %s THEN 1 ELSE 0 END AS at_end,
               0 AS is_new
        FROM {order} o
        WHERE o.is_counted AND o.placed_at >= %s AND o.placed_at < %s
        UNION ALL
        SELECT c.id, 0, 0, 0, 1 FROM {customer} c WHERE c.first_order_at >= %s AND c.first_order_at < %s
    ) customer_rows
    GROUP BY customer_id
)"""

FIGURES = "SUM(f.at_start), SUM(f.at_start * f.in_period), SUM(f.is_new), SUM(f.at_end)"


def retention_by_segment(segments: Iterable[Segment], *, start: date | datetime, end: date | datetime,
                         window_days: int | None = None, include_all: bool = False,
                         sizes: dict | None = None) -> dict[int | None, Retention]:
    """Retention of each segment (and of all customers with `include_all`, under the key None) for
    [start, end), from one statement. `sizes`, when given, is filled with each key's number of customers
    (the same pass counts them)."""
    start, end = aware(start), aware(end)
    if end <= start:
        raise ValueError("The period must end after it starts.")
    window = activity_window(window_days)
    segments = list(segments)
    materialized = [segment.pk for segment in segments if segment.members_computed_at is not None]
    results: dict[int | None, Retention] = {}
    rows = _retention_rows(materialized, include_all, start, end, window) if materialized or include_all else []
    for key, s, r, n, e, size in rows:
        s, r, n, e = int(s or 0), int(r or 0), int(n or 0), int(e or 0)
        results[key] = Retention(
            start=start, end=end, window_days=window.days, customers_at_start=s, retained=r, churned=s - r,
            new_customers=n, customers_at_end=e, retention_rate=ratio(r, s), churn_rate=ratio(s - r, s),
            crr_classic=ratio(e - n, s),
        )
        if sizes is not None:
            sizes[key] = int(size or 0)
    for pk in materialized:  # a segment with no members has no row
        if pk not in results:
            results[pk] = _empty_retention(start, end, window.days)
            if sizes is not None:
                sizes[pk] = 0
    for segment in segments:
        if segment.members_computed_at is None:
            customers = segment_customers(segment)
            results[segment.pk] = retention(customers, start=start, end=end, window_days=window.days)
            if sizes is not None:
                sizes[segment.pk] = customers.count()
    return results


def _retention_rows(segment_ids: list[int], include_all: bool, start, end, window) -> list[tuple]:
    connection = connections[router.db_for_read(SegmentCustomer)]
    moment = connection.ops.adapt_datetimefield_value
    names = {"order": Order._meta.db_table, "customer": Customer._meta.db_table}
    params = [moment(start), moment(start), moment(end - window), moment(start - window), moment(end),
              moment(start), moment(end)]
    branches = []
    if segment_ids:
        # LEFT JOIN: a member without any flag still counts in the segment's size.
        branches.append(
            f"SELECT m.segment_id, {FIGURES}, COUNT(*) FROM {SegmentCustomer._meta.db_table} m "  # nosec B608
            f"LEFT JOIN flags f ON f.customer_id = m.customer_id "
            f"WHERE m.segment_id IN ({', '.join(['%s'] * len(segment_ids))}) GROUP BY m.segment_id"
        )
        params += segment_ids
    if include_all:
        branches.append(f"SELECT NULL, {FIGURES}, (SELECT COUNT(*) FROM {names['customer']}) FROM flags f")  # nosec B608
    sql = "WITH " + FLAGS_SQL.format(**names) + "\n" + "\nUNION ALL\n".join(branches)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _empty_retention(start: datetime, end: datetime, window_days: int) -> Retention:
    return Retention(start=start, end=end, window_days=window_days, customers_at_start=0, retained=0, churned=0,
                     new_customers=0, customers_at_end=0, retention_rate=None, churn_rate=None, crr_classic=None)


# --- value figures -------------------------------------------------------------------------------

# Per segment and buyer: counted orders and value in the period; ranked inside each segment for the
# median (ascending) and the top 20% (descending), as value_metrics ranks them.
VALUE_SQL = """
WITH per_buyer AS (
    {buyers}
),
ranked AS (
    SELECT segment_id, n, value,
           ROW_NUMBER() OVER (PARTITION BY segment_id ORDER BY value, customer_id) AS up,
           ROW_NUMBER() OVER (PARTITION BY segment_id ORDER BY value DESC, customer_id) AS down,
           COUNT(*) OVER (PARTITION BY segment_id) AS buyers
    FROM per_buyer
)
SELECT segment_id, COUNT(*), SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END), SUM(n), SUM(value),
       SUM(CASE WHEN n >= 2 THEN value ELSE 0 END),
       SUM(CASE WHEN 2 * up IN (buyers, buyers + 1, buyers + 2) THEN value ELSE 0 END),
       SUM(CASE WHEN 2 * up IN (buyers, buyers + 1, buyers + 2) THEN 1 ELSE 0 END),
       SUM(CASE WHEN 5 * down < buyers + 5 THEN value ELSE 0 END)
FROM ranked
GROUP BY segment_id
"""
# 2 * up in (b, b+1, b+2): the middle rank of an odd b, the two middle ranks of an even one.
# 5 * down < b + 5: down <= ceil(b / 5), the top 20% (at least one buyer).


def value_by_segment(segments: Iterable[Segment], *, start: date | datetime | None = None,
                     end: date | datetime | None = None, include_all: bool = False) -> dict[int | None, ValueMetrics]:
    """value_metrics() of each segment (and of all customers, key None, with `include_all`), over the
    counted orders of [start, end) or of all time, from one statement."""
    segments = list(segments)
    materialized = [segment.pk for segment in segments if segment.members_computed_at is not None]
    results: dict[int | None, ValueMetrics] = {}
    if materialized or include_all:
        rows, sizes, convert = _value_rows(materialized, include_all, start, end)
        for key in [*materialized, *([ALL] if include_all else [])]:
            row = rows.get(key)
            results[key] = _value(sizes.get(key, 0), row, convert)
    for segment in segments:
        if segment.members_computed_at is None:
            results[segment.pk] = value_metrics(segment_customers(segment), start=start, end=end)
    return results


def _value_rows(segment_ids: list[int], include_all: bool, start, end):
    connection = connections[router.db_for_read(SegmentCustomer)]
    moment = connection.ops.adapt_datetimefield_value
    order, members = Order._meta.db_table, SegmentCustomer._meta.db_table
    period, period_params = "", []
    if start is not None:
        period += " AND o.placed_at >= %s"
        period_params.append(moment(aware(start)))
    if end is not None:
        period += " AND o.placed_at < %s"
        period_params.append(moment(aware(end)))
    branches, params = [], []
    if segment_ids:
        branches.append(
            f"SELECT m.segment_id, o.customer_id, COUNT(*) AS n, SUM(o.net_total) AS value "  # nosec B608
            f"FROM {members} m JOIN {order} o ON o.customer_id = m.customer_id "
            f"WHERE m.segment_id IN ({', '.join(['%s'] * len(segment_ids))}) AND o.is_counted{period} "
            f"GROUP BY m.segment_id, o.customer_id"
        )
        params += [*segment_ids, *period_params]
    if include_all:
        branches.append(
            f"SELECT NULL AS segment_id, o.customer_id, COUNT(*) AS n, SUM(o.net_total) AS value FROM {order} o "  # nosec B608
            f"WHERE o.is_counted{period} GROUP BY o.customer_id"
        )
        params += period_params
    with connection.cursor() as cursor:
        cursor.execute(VALUE_SQL.format(buyers="\n    UNION ALL\n    ".join(branches)), params)
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
        sizes = {}
        if segment_ids:
            # The segment sizes (customers, buyers or not), from the primary key's index only.
            cursor.execute(
                f"SELECT segment_id, COUNT(*) FROM {members} "  # nosec B608
                f"WHERE segment_id IN ({', '.join(['%s'] * len(segment_ids))}) GROUP BY segment_id", segment_ids)
            sizes.update(cursor.fetchall())
    if include_all:
        sizes[ALL] = Customer.objects.count()
    return rows, sizes, _money_converter(connection)


def _value(customers: int, row: tuple | None, convert) -> ValueMetrics:
    if row is None:
        row = (0, 0, 0, None, None, None, 0, None)
    buyers, repeat_buyers, orders, revenue, repeat_revenue, middle_sum, middle_count, top_sum = row
    buyers, repeat_buyers, orders, middle_count = int(buyers), int(repeat_buyers or 0), int(orders or 0), int(middle_count or 0)
    revenue, repeat_revenue, middle_sum, top_sum = (convert(value) for value in (revenue, repeat_revenue, middle_sum, top_sum))
    return ValueMetrics(
        customers=customers,
        buyers=buyers,
        repeat_purchase_rate=ratio(repeat_buyers, buyers),
        average_order_value=money(revenue / orders) if orders else None,
        purchase_frequency=ratio(orders, buyers),
        clv_mean=money(revenue / buyers) if buyers else None,
        clv_median=money(middle_sum / middle_count) if middle_count else None,
        repeat_revenue_share=ratio(repeat_revenue, revenue),
        top20_revenue_share=ratio(top_sum, revenue),
    )


def _money_converter(connection):
    """Sums as the ORM reads them (SQLite returns floats; Django's converter rounds them to MONEY_FIELD)."""
    expression = Value(Decimal("0"), output_field=MONEY_FIELD)
    converters = connection.ops.get_db_converters(expression)

    def convert(value) -> Decimal:
        if value is None:
            return Decimal("0")
        for converter in converters:
            value = converter(value, expression, connection)
        return Decimal(value)

    return convert
