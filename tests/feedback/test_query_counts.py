"""Query counts pinned on feedback's main write paths: answering a survey, requesting a return and
approving it. Work queued for after the commit (webhooks, messages) belongs to its receivers and is
not counted, and which webhook events have subscribers is already remembered. The counts include
the SAVEPOINT/RELEASE pairs and are the same on SQLite and PostgreSQL.
"""

from decimal import Decimal

import pytest

from club.models import EarningRule, PointsTransaction
from crm.services import LineInput
from feedback import services
from feedback.models import Question, ReturnRequest
from feedback.services import returns
from feedback.services.returns import LineRequest
from tests.factories import EarningRuleFactory, InvitationFactory, PlacedOrderFactory, ReturnRequestFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_subscribers_remembered")]

# A change here means a path now runs more (or fewer) statements: check it does not grow with the
# input before updating. The comments list the statements besides SAVEPOINT/RELEASE.
# the invitation's claim, the response, one INSERT per answer (a choice answer also reads and inserts
# its choices), the member, the "feedback answered" award (rule, key check, the member read three
# more times, key check, ledger row, balance, qualifying value, tiers). Answers are saved one by one,
# so this path grows with the questions answered: 7 statements more for the three extra answers.
SUBMIT_EVERY_ANSWER = 32
SUBMIT_SCORES_ONLY = 25
# order lock, returnable quantities, the request and its history row, its lines (one INSERT), the event
RETURN_REQUEST = 8
RETURN_APPROVE = 6  # lock with the order, the update and its history row, the event


def answers(survey, *, every_question: bool) -> dict:
    questions = {question.type: question for question in survey.questions.all()}
    single, multiple = questions[Question.Type.SINGLE], questions[Question.Type.MULTIPLE]
    given = {questions[Question.Type.NPS]: 10, questions[Question.Type.RATING]: 5}
    if every_question:
        given |= {single: single.choices.first(), multiple: list(multiple.choices.all()),
                  questions[Question.Type.LONG_TEXT]: "Lovely beans"}
    return given


@pytest.mark.parametrize("every_question, expected", [(True, "SUBMIT_EVERY_ANSWER"), (False, "SUBMIT_SCORES_ONLY")])
def test_a_member_answering_a_survey_takes_a_fixed_number_of_queries(survey, member, django_assert_num_queries,
                                                                     every_question, expected):
    EarningRuleFactory(name="Feedback", kind=EarningRule.Kind.FEEDBACK, points=20, points_per_unit=Decimal("0"))
    invitation = InvitationFactory(survey=survey, customer=member.customer)
    given = answers(survey, every_question=every_question)
    with django_assert_num_queries(globals()[expected]):
        response = services.response_submit(survey=survey, invitation=invitation, answers=given)
    assert response.answers.count() == len(given)
    assert PointsTransaction.objects.get(member=member, source_ref=f"response:{response.pk}").points == 20


def two_line_order(customer):
    return PlacedOrderFactory(customer=customer, total=Decimal("300.00"), lines=[
        LineInput(sku="BEANS", product_name="Beans", category="coffee", quantity=2, unit_price=Decimal("100")),
        LineInput(sku="MUG", product_name="Mug", category="kitchen", quantity=1, unit_price=Decimal("100")),
    ])


@pytest.mark.parametrize("line_count", [1, 2])
def test_requesting_a_return_takes_a_fixed_number_of_queries(customer, django_assert_num_queries, line_count):
    order = two_line_order(customer)
    wanted = [LineRequest(line.pk, 1, "damaged") for line in order.lines.order_by("sku")[:line_count]]
    with django_assert_num_queries(RETURN_REQUEST):
        request = returns.return_request_create(order=order, lines=wanted)
    assert request.lines.count() == line_count


def test_approving_a_return_takes_a_fixed_number_of_queries(support_user, django_assert_num_queries):
    request = ReturnRequestFactory()
    with django_assert_num_queries(RETURN_APPROVE):
        returns.return_approve(return_request=request, by=support_user)
    request.refresh_from_db()
    assert request.state == ReturnRequest.State.APPROVED
