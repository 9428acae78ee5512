"""Customer metrics: the read-side functions behind every report, command and screen.

Each function takes a customer QuerySet (a segment, or all customers) and computes its
figures in SQL: aggregates, conditional aggregation and window functions, never a Python
loop over customers. The definitions are those of DESIGN.md (and the README):

- a *counted order* is not cancelled and not fully refunded; its value is total - refunds
  (the generated columns `Order.is_counted` and `Order.net_total`);
- a customer is *active at t* with a counted order placed in [t - W, t);
- for a period [start, end): S = active at start, R = those of S who ordered in the
  period, N = first counted order in the period, E = active at end;
  retention = R/S, churn = (S-R)/S, crr_classic = (E-N)/S, all None when S = 0.

The package by subject: `retention` (and new vs returning), `value`, `cohorts`, `lifecycle`, and
`segments` (retention and value of many segments in one pass over their materialized members),
`all_periods` (every figure of a snapshot row for many periods and segments at once);
`common` holds what they share. The public functions are importable from here.
"""

from analytics.metrics.all_periods import SnapshotFigures, snapshot_figures
from analytics.metrics.cohorts import CohortRow, cohort_matrix
from analytics.metrics.common import aware, counted_orders
from analytics.metrics.lifecycle import lifecycle_counts
from analytics.metrics.retention import NewVsReturning, Retention, new_vs_returning, retention
from analytics.metrics.segments import retention_by_segment, value_by_segment
from analytics.metrics.value import ValueMetrics, value_metrics

__all__ = [
    "CohortRow", "NewVsReturning", "Retention", "SnapshotFigures", "ValueMetrics", "aware", "cohort_matrix", "counted_orders",
    "lifecycle_counts", "new_vs_returning", "retention", "retention_by_segment", "snapshot_figures", "value_by_segment",
    "value_metrics",
]
