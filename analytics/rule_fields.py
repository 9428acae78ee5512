"""The segment rule fields analytics contributes (core.rule_fields): the RFM segment, P(alive) and
the predicted CLV, read from analytics.CustomerScore (computed daily / weekly). Registered by
analytics/contributions.py like every app's fields."""

from django.utils.translation import gettext_lazy as _

from analytics.models import CustomerScore
from core.rule_fields import CHOICE_OPS, NUMBER_OPS, RuleError, RuleField
from core.rule_lookups import column_comparison


def probability(value, path: str) -> None:
    """P(alive) of the BG/NBD model is a number between 0 and 1."""
    if not 0 <= value <= 1:
        raise RuleError(_("%(path)s: %(value)s is not a probability between 0 and 1."), code="not_a_probability",
                        params={"path": path, "value": value})


FIELDS = (
    RuleField("rfm_segment", _("Customer segment by recency, frequency and spending"), "choice", CHOICE_OPS, column_comparison("score__rfm_segment"),
              choices=lambda: list(CustomerScore.RfmSegment.values)),
    RuleField("p_alive", _("Chance still buying (0-1)"), "number", NUMBER_OPS,
              column_comparison("score__p_alive"), check=probability),
    RuleField("predicted_clv", _("Predicted lifetime value"), "number", NUMBER_OPS,
              column_comparison("score__predicted_clv")),
)
