"""The segment rule fields feedback contributes (core.rule_fields): the customer's latest NPS and
CSAT answers and whether a return is still open. The bands and the open states are feedback's own
(feedback.models). Registered by feedback/contributions.py."""

from datetime import datetime

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Subquery, Value, When
from django.utils.translation import gettext_lazy as _

from core.rule_fields import BOOL_OPS, CHOICE_OPS, NUMBER_OPS, RuleField
from core.rule_lookups import column_comparison, exists_flag
from feedback.models import NPS_PASSIVE_MIN, NPS_PROMOTER_MIN, Answer, Question, ReturnRequest

NPS_CATEGORIES = ["promoter", "passive", "detractor"]


def latest_score(scores: str) -> Subquery:
    """The customer's latest answer to a survey's NPS or CSAT question (Question.Score)."""
    latest = Answer.objects.filter(
        response__customer_id=OuterRef("pk"), question__scores=scores, number__isnull=False
    ).order_by("-response__submitted_at", "-pk").values("number")[:1]
    return Subquery(latest, output_field=IntegerField())


def nps_category(now: datetime) -> dict:
    # The score is an alias of its own so the CASE reads it once per customer, not once per band.
    return {
        "_rule_nps_score": latest_score(Question.Score.NPS),
        "_rule_nps_category": Case(
            When(Q(_rule_nps_score__gte=NPS_PROMOTER_MIN), then=Value("promoter")),
            When(Q(_rule_nps_score__gte=NPS_PASSIVE_MIN), then=Value("passive")),
            When(Q(_rule_nps_score__isnull=False), then=Value("detractor")),
            default=Value(None),
        ),
    }


def open_return() -> Exists:
    return Exists(ReturnRequest.objects.filter(customer_id=OuterRef("pk"), state__in=ReturnRequest.OPEN_STATES))


FIELDS = (
    RuleField("nps_category", _("Latest NPS answer"), "choice", CHOICE_OPS, column_comparison("_rule_nps_category"),
              choices=lambda: list(NPS_CATEGORIES), aliases=nps_category),
    RuleField("csat_score", _("Latest CSAT answer (1-5)"), "number", NUMBER_OPS, column_comparison("_rule_csat_score"),
              aliases=lambda now: {"_rule_csat_score": latest_score(Question.Score.CSAT)}),
    RuleField("has_open_return", _("Has an open return"), "bool", BOOL_OPS, exists_flag(open_return)),
)
