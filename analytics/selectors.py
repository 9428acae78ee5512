"""Read-side queries of analytics beyond the metrics themselves: the customers of a slug, the
per-segment figures stored beside retention (NPS, CSAT, return rate), likely churners and the
lifecycle funnel."""

from datetime import date, datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from analytics import metrics
from campaigns.models import Segment
from campaigns.segments import segment_members
from crm.models import Customer
from feedback import selectors as feedback_selectors
from feedback.selectors import ReturnRate

ALL = "all"

__all__ = [
    "ALL", "ReturnRate", "UnknownSegment", "customers_for", "feedback_scores", "lifecycle_funnel", "likely_churners",
    "likely_churning", "period_extras", "return_rate", "return_rate_by_segment", "segment_or_all_customers",
]


class UnknownSegment(LookupError):
    pass


def customers_for(slug: str) -> tuple[Segment | None, QuerySet[Customer]]:
    """`all` means every customer; anything else is a segment slug. A segment's customers are its
    materialized members (campaigns.SegmentCustomer, as of `members_computed_at`)."""
    if slug == ALL:
        return None, Customer.objects.all()
    segment = Segment.objects.filter(slug=slug).first()
    if segment is None:
        raise UnknownSegment(_("No segment with the slug %(slug)r (use 'all' for every customer).") % {"slug": slug})
    return segment, segment_members(segment)


def segment_or_all_customers(segment: Segment | None) -> QuerySet[Customer]:
    return segment_members(segment) if segment else Customer.objects.all()


# --- per-segment figures beyond retention ---------------------------------------------------------

def _moment(day: date | datetime | None) -> datetime | None:
    return metrics.aware(day) if day is not None else None


def return_rate(customers: QuerySet[Customer], *, start: date | datetime | None = None,
                end: date | datetime | None = None) -> ReturnRate:
    """Returned units / units sold for the customers' orders placed in [start, end): feedback's
    one definition (feedback.selectors.return_rate), restricted to the customers."""
    return feedback_selectors.return_rate(customers=customers, start=_moment(start), end=_moment(end))


def feedback_scores(customers: QuerySet[Customer], *, start: date | datetime | None = None,
                    end: date | datetime | None = None) -> dict:
    """NPS and CSAT of the customers' answers submitted in [start, end), from feedback.selectors."""
    scores = feedback_selectors.survey_scores(customers=customers, start=_moment(start), end=_moment(end))
    return {"nps": scores.nps, "nps_answers": scores.nps_answers, "promoters": scores.promoters,
            "detractors": scores.detractors, "csat": scores.csat, "csat_answers": scores.csat_answers}


def period_extras(customers: QuerySet[Customer], start: date, end: date, *, returns: ReturnRate | None = None) -> dict:
    """NPS, CSAT and return rate of the period (`returns` when computed already, for several segments at once)."""
    if returns is None:
        returns = return_rate(customers, start=start, end=end)
    return {
        **feedback_scores(customers, start=start, end=end),
        "return_rate": returns.rate, "units_sold": returns.units_sold, "units_returned": returns.units_returned,
    }


def return_rate_by_segment(segments: list[Segment], *, start: date, end: date) -> dict[int, ReturnRate]:
    """The return rate of every materialized segment for [start, end) in two aggregates grouped by segment
    (over the stored members); a segment never materialized is computed alone."""
    materialized = [segment.pk for segment in segments if segment.members_computed_at is not None]
    rates = feedback_selectors.return_rate_by_group(group="segment_rows__segment", keys=materialized,
                                                    start=_moment(start), end=_moment(end)) if materialized else {}
    for segment in segments:
        if segment.members_computed_at is None:
            rates[segment.pk] = return_rate(segment_members(segment), start=start, end=end)
    return rates


# --- churn and lifecycle --------------------------------------------------------------------------

def likely_churning(customers: QuerySet[Customer] | None = None, *, threshold: float | None = None):
    """Customers whose P(alive) is below the setting (ANALYTICS_LIKELY_CHURN_P_ALIVE)."""
    threshold = settings.ANALYTICS_LIKELY_CHURN_P_ALIVE if threshold is None else threshold
    base = customers if customers is not None else Customer.objects.all()
    return base.filter(score__p_alive__lt=threshold)


def likely_churners(customers: QuerySet[Customer], *, threshold: float | None = None, limit: int = 20):
    """The customers with P(alive) below the threshold, most valuable first (historic value)."""
    return likely_churning(customers, threshold=threshold).select_related("score").order_by("-total_spent", "pk")[:limit]


def lifecycle_funnel(customers: QuerySet[Customer]) -> list[tuple[str, int]]:
    counts = metrics.lifecycle_counts(customers)
    return [(label, counts[value]) for value, label in Customer.LifecycleStage.choices]
