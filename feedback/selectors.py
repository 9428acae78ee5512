"""Survey results, computed in SQL: NPS, CSAT, response rate, distributions, monthly trend.

NPS = % promoters (9-10) - % detractors (0-6), rounded to an integer in -100..100.
CSAT = % of answers 4 or 5 on the 1-5 scale. Only the questions marked as the survey's
NPS or CSAT question count.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from feedback.models import Answer, Invitation, Question, Response, Survey

SCORE_COUNTS = {
    "nps_answers": Count("pk", filter=Q(question__scores="nps")),
    "promoters": Count("pk", filter=Q(question__scores="nps", number__gte=9)),
    "detractors": Count("pk", filter=Q(question__scores="nps", number__lte=6)),
    "csat_answers": Count("pk", filter=Q(question__scores="csat")),
    "satisfied": Count("pk", filter=Q(question__scores="csat", number__gte=4)),
}


def nps(promoters: int, detractors: int, answers: int) -> int | None:
    if not answers:
        return None
    return round(100 * (promoters - detractors) / answers)


def csat(satisfied: int, answers: int) -> float | None:
    if not answers:
        return None
    return round(100 * satisfied / answers, 1)


@dataclass(frozen=True)
class Scores:
    responses: int
    invitations: int
    response_rate: float | None
    nps: int | None
    nps_answers: int
    promoters: int
    passives: int
    detractors: int
    csat: float | None
    csat_answers: int


def _answers(survey: Survey | None, start: datetime | None, end: datetime | None, customers: QuerySet | None):
    answers = Answer.objects.all()
    if survey is not None:
        answers = answers.filter(response__survey=survey)
    if start is not None:
        answers = answers.filter(response__submitted_at__gte=start)
    if end is not None:
        answers = answers.filter(response__submitted_at__lt=end)
    if customers is not None:
        answers = answers.filter(response__customer__in=customers.values("pk"))
    return answers


def survey_scores(survey: Survey | None = None, *, start: datetime | None = None, end: datetime | None = None,
                  customers: QuerySet | None = None) -> Scores:
    """Scores of one survey (or all surveys), over a period, for a set of customers (a segment)."""
    counts = _answers(survey, start, end, customers).aggregate(**SCORE_COUNTS)
    responses = Response.objects.all()
    invitations = Invitation.objects.all()
    if survey is not None:
        responses, invitations = responses.filter(survey=survey), invitations.filter(survey=survey)
    if start is not None:
        responses, invitations = responses.filter(submitted_at__gte=start), invitations.filter(created_at__gte=start)
    if end is not None:
        responses, invitations = responses.filter(submitted_at__lt=end), invitations.filter(created_at__lt=end)
    if customers is not None:
        responses = responses.filter(customer__in=customers.values("pk"))
        invitations = invitations.filter(customer__in=customers.values("pk"))
    invitation_counts = invitations.aggregate(total=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)))
    return Scores(
        responses=responses.count(),
        invitations=invitation_counts["total"],
        response_rate=round(invitation_counts["answered"] / invitation_counts["total"], 4) if invitation_counts["total"] else None,
        nps=nps(counts["promoters"], counts["detractors"], counts["nps_answers"]),
        nps_answers=counts["nps_answers"],
        promoters=counts["promoters"],
        passives=counts["nps_answers"] - counts["promoters"] - counts["detractors"],
        detractors=counts["detractors"],
        csat=csat(counts["satisfied"], counts["csat_answers"]),
        csat_answers=counts["csat_answers"],
    )


def score_distribution(question: Question) -> list[tuple[int, int]]:
    """(value, answers) for every value of the question's scale, zeros included."""
    scale = range(0, 11) if question.type == Question.Type.NPS else range(1, 6)
    counts = dict(question.answers.filter(number__isnull=False).values("number").annotate(n=Count("pk"))
                  .order_by().values_list("number", "n"))
    return [(value, counts.get(value, 0)) for value in scale]


def choice_distribution(question: Question) -> list[tuple[str, int]]:
    return list(question.choices.annotate(n=Count("answers")).values_list("label", "n"))


def monthly_trend(survey: Survey, *, months: int = 12) -> list[dict]:
    rows = (
        _answers(survey, None, None, None)
        .annotate(month=TruncMonth("response__submitted_at"))
        .values("month").annotate(**SCORE_COUNTS).order_by("-month")[:months]
    )
    return [
        {"month": row["month"], "nps": nps(row["promoters"], row["detractors"], row["nps_answers"]),
         "csat": csat(row["satisfied"], row["csat_answers"]), "answers": row["nps_answers"] or row["csat_answers"]}
        for row in reversed(list(rows))
    ]


def free_text_answers(survey: Survey, *, limit: int = 100) -> QuerySet[Answer]:
    return (
        Answer.objects.filter(response__survey=survey, question__type__in=[Question.Type.SHORT_TEXT, Question.Type.LONG_TEXT])
        .exclude(text="").select_related("question", "response__customer").order_by("-response__submitted_at")[:limit]
    )


def returns_by_reason(*, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
    """Returned units per reason (rejected requests excluded) and each reason's share."""
    from feedback.models import ReturnLine

    lines = ReturnLine.objects.filter(return_request__rejected=False)
    if start is not None:
        lines = lines.filter(return_request__created_at__gte=start)
    if end is not None:
        lines = lines.filter(return_request__created_at__lt=end)
    rows = list(lines.values("reason").annotate(units=Sum("quantity"), requests=Count("return_request", distinct=True))
                .order_by("-units"))
    total = sum(row["units"] for row in rows)
    labels = dict(ReturnLine.Reason.choices)
    return [{**row, "label": labels.get(row["reason"], row["reason"]), "share": round(row["units"] / total, 4)} for row in rows]


def return_rate_by_category(*, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
    """Per product category: units sold (orders not cancelled, placed in the period), units
    returned from those orders (rejected requests excluded), and the return rate.
    Two grouped aggregates; only their per-category rows meet in Python."""
    from crm.models import Order, OrderLine
    from feedback.models import ReturnLine

    period = Q()
    if start is not None:
        period &= Q(order__placed_at__gte=start)
    if end is not None:
        period &= Q(order__placed_at__lt=end)
    sold = dict(
        OrderLine.objects.filter(period).exclude(order__status=Order.Status.CANCELLED)
        .values("category").annotate(units=Sum("quantity")).order_by().values_list("category", "units")
    )
    returned_period = Q(*[Q(**{f"order_line__{key}": value}) for key, value in period.children]) if period else Q()
    returned = dict(
        ReturnLine.objects.filter(returned_period, return_request__rejected=False)
        .values("order_line__category").annotate(units=Sum("quantity")).order_by()
        .values_list("order_line__category", "units")
    )
    rows = [
        {"category": category or "—", "sold": units, "returned": returned.get(category, 0),
         "rate": round(returned.get(category, 0) / units, 4) if units else None}
        for category, units in sold.items()
    ]
    return sorted(rows, key=lambda row: (-(row["rate"] or 0), row["category"]))
