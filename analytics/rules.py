"""The segment rule fields that come from analytics: the RFM segment and P(alive), read from
analytics.CustomerScore (computed daily / weekly). Registered into the campaigns rule compiler
by AnalyticsConfig.ready(), through `campaigns.rules.register_fields`."""

from collections.abc import Callable
from datetime import datetime

from django.db.models import Q

from analytics.models import CustomerScore
from campaigns.rules import CHOICE_OPS, NUMBER_OPS, Field, RuleError, column_comparison


def probability(column: str) -> Callable:
    """A number between 0 and 1 (P(alive) of the BG/NBD model)."""
    compare = column_comparison(column)

    def build(spec: Field, op: str, value, now: datetime) -> Q:
        values = value if isinstance(value, (list, tuple)) else [] if value is None else [value]
        for number in values:
            if not 0 <= number <= 1:
                raise RuleError(f"{spec.name}: {number} is not a probability between 0 and 1.")
        return compare(spec, op, value, now)

    return build


FIELDS = (
    Field("rfm_segment", "choice", "RFM segment", CHOICE_OPS, column_comparison("score__rfm_segment"),
          choices=lambda: list(CustomerScore.RfmSegment.values)),
    Field("p_alive", "number", "Probability still active (BG/NBD, 0-1)", NUMBER_OPS, probability("score__p_alive")),
)
