"""Survey results, computed in SQL: NPS, CSAT, response rate, distributions, monthly trend.

NPS = % promoters (9-10) - % detractors (0-6), rounded to an integer in -100..100.
CSAT = % of answers 4 or 5 on the 1-5 scale. Only the questions marked as the survey's
NPS or CSAT question count.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from crm.models import Order, OrderLine
from feedback.models import (
    CSAT_SATISFIED_MIN, NPS_PASSIVE_MIN, NPS_PROMOTER_MIN, Answer, Invitation, Question, Response, ReturnLine, Survey,
)

SCORE_COUNTS = {
    "nps_answers": Count("pk", filter=Q(question__scores="nps")),
    "promoters": Count("pk", filter=Q(question__scores="nps", number__gte=NPS_PROMOTER_MIN)),
    "detractors": Count("pk", filter=Q(question__scores="nps", number__lt=NPS_PASSIVE_MIN)),
    "csat_answers": Count("pk", filter=Q(question__scores="csat")),
    "satisfied": Count("pk", filter=Q(question__scores="csat", number__gte=CSAT_SATISFIED_MIN)),
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


@dataclass(frozen=True)
class ReturnRate:
    """Returned units / units sold. `category` is set on the rows of return_rate_by_category."""

    units_sold: int
    units_returned: int
    rate: float | None
    category: str | None = None


def return_rate(*, customers: QuerySet | None = None, start: datetime | None = None,
                end: datetime | None = None) -> ReturnRate:
    """The return rate of a set of customers (all customers when None) over [start, end)."""
    rows = _return_rate_rows(customers, start, end, by_category=False)
    return rows[0] if rows else ReturnRate(units_sold=0, units_returned=0, rate=None)


def return_rate_by_category(*, customers: QuerySet | None = None, start: datetime | None = None,
                            end: datetime | None = None) -> list[dict]:
    """Per product category: units sold, units returned and the return rate, highest rate first."""
    rows = [
        {"category": row.category or "—", "sold": row.units_sold, "returned": row.units_returned, "rate": row.rate}
        for row in _return_rate_rows(customers, start, end, by_category=True)
    ]
    return sorted(rows, key=lambda row: (-(row["rate"] or 0), row["category"]))


def return_rate_by_group(*, group: str, keys: list, start: datetime | None = None,
                         end: datetime | None = None) -> dict[object, ReturnRate]:
    """The return rate of several sets of customers at once, in two aggregates whatever their number:
    `group` is a lookup from a customer to the key of its sets (a customer may be in several; its lines
    count in each), `keys` the keys wanted. The definition is return_rate's (_sold_lines)."""
    lines = _sold_lines(start, end).filter(**{f"order__customer__{group}__in": keys})
    returned = ReturnLine.objects.filter(return_request__rejected=False, order_line__in=_sold_lines(start, end)) \
        .filter(**{f"order_line__order__customer__{group}__in": keys})
    sold = dict(lines.values_list(f"order__customer__{group}").annotate(units=Sum("quantity")).order_by())
    back = dict(returned.values_list(f"order_line__order__customer__{group}").annotate(units=Sum("quantity"))
                .order_by())
    rates = {}
    for key in keys:
        units, units_back = sold.get(key) or 0, back.get(key) or 0
        rates[key] = ReturnRate(units_sold=units, units_returned=units_back, rate=round(units_back / units, 4) if units else None)
    return rates


def _sold_lines(start: datetime | None, end: datetime | None) -> QuerySet[OrderLine]:
    """Units sold: the order lines of the orders placed in [start, end) (orders not cancelled)."""
    lines = OrderLine.objects.exclude(order__status=Order.Status.CANCELLED)
    if start is not None:
        lines = lines.filter(order__placed_at__gte=start)
    if end is not None:
        lines = lines.filter(order__placed_at__lt=end)
    return lines


def _return_rate_rows(customers: QuerySet | None, start: datetime | None, end: datetime | None, *,
                      by_category: bool) -> list[ReturnRate]:
    """The one definition of the return rate. Units sold = the quantities of the order lines of
    the orders placed in [start, end) (orders not cancelled); units returned = the quantities of
    those same lines on return requests that were not rejected, whenever they were requested.
    Two aggregates (grouped by category when asked); only their rows meet in Python."""
    lines = _sold_lines(start, end)
    if customers is not None and customers.query.where:
        lines = lines.filter(order__customer__in=customers.values("pk"))
    returned = ReturnLine.objects.filter(return_request__rejected=False, order_line__in=lines.values("pk"))
    if by_category:
        sold = dict(lines.values("category").annotate(units=Sum("quantity")).order_by().values_list("category", "units"))
        back = dict(returned.values("order_line__category").annotate(units=Sum("quantity")).order_by()
                    .values_list("order_line__category", "units"))
    else:
        sold = {None: lines.aggregate(units=Sum("quantity"))["units"] or 0}
        back = {None: returned.aggregate(units=Sum("quantity"))["units"] or 0}
    return [
        ReturnRate(units_sold=units, units_returned=back.get(category) or 0, category=category,
                   rate=round((back.get(category) or 0) / units, 4) if units else None)
        for category, units in sold.items()
    ]


# --- The returns desk: what an order can still send back -------------------------------------------

def returnable_quantities(order: Order) -> dict[int, int]:
    """{order_line_id: quantity that can still be returned}: bought minus what other,
    not rejected, return requests already hold. One query."""
    lines = order.lines.annotate(
        held=Sum("return_lines__quantity", filter=Q(return_lines__return_request__rejected=False))
    ).values_list("pk", "quantity", "held")
    return {pk: quantity - (held or 0) for pk, quantity, held in lines}


def return_window_closes(order: Order):
    return order.placed_at + timedelta(days=settings.FEEDBACK_RETURN_WINDOW_DAYS)


def order_lines_for_return(order: Order) -> list[tuple[OrderLine, int]]:
    available = returnable_quantities(order)
    return [(line, max(available.get(line.pk, 0), 0)) for line in order.lines.all()]
