"""Factories for surveys, invitations and returns.

An invitation has a token only its customer gets, and a return must fit what is left of an order,
so InvitationFactory and ReturnRequestFactory go through feedback.services.
"""

from decimal import Decimal

import factory

from crm.services import LineInput
from feedback.models import Choice, Invitation, Question, ReturnRequest, Survey
from feedback.services import invitation_create
from feedback.services.returns import LineRequest, return_request_create
from tests.factories.crm import CustomerFactory, PlacedOrderFactory


class SurveyFactory(factory.django.DjangoModelFactory):
    """A manual NPS survey without questions; add them with QuestionFactory(survey=...)."""

    class Meta:
        model = Survey

    title = factory.Sequence(lambda n: f"Survey {n}")
    kind = Survey.Kind.NPS
    trigger = Survey.Trigger.MANUAL


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    survey = factory.SubFactory(SurveyFactory)
    position = factory.Sequence(lambda n: n + 1)
    type = Question.Type.NPS
    scores = Question.Score.NPS
    text = "How likely are you to recommend us to a friend?"


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory, type=Question.Type.SINGLE, scores="", text="Where did you shop?")
    position = factory.Sequence(lambda n: n + 1)
    label = factory.Sequence(lambda n: f"Choice {n}")


class InvitationFactory(factory.django.DjangoModelFactory):
    """An invitation made through feedback.services.invitation_create (cooldown ignored); the token the
    customer would get is on `invitation.token`."""

    class Meta:
        model = Invitation

    survey = factory.SubFactory(SurveyFactory)
    customer = factory.SubFactory(CustomerFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs.setdefault("respect_cooldown", False)
        created = invitation_create(**kwargs)
        created.invitation.token = created.token
        return created.invitation


def order_with_one_line(**fields):
    """A fulfilled order placed yesterday: 2 x beans at 50."""
    fields.setdefault("total", Decimal("100.00"))
    fields.setdefault("lines", [LineInput(sku="BEANS", product_name="Beans", category="coffee", quantity=2,
                                          unit_price=Decimal("50"))])
    return PlacedOrderFactory(**fields)


class ReturnRequestFactory(factory.django.DjangoModelFactory):
    """A return requested through feedback.services.return_request_create; by default one item of the
    first line of a new order. `lines` takes feedback.services.returns.LineRequest items."""

    class Meta:
        model = ReturnRequest

    order = factory.LazyFunction(order_with_one_line)
    reason = "damaged"

    @classmethod
    def _create(cls, model_class, *args, order, reason, lines=None, **kwargs):
        if lines is None:
            lines = [LineRequest(order.lines.order_by("pk").first().pk, 1, reason)]
        return return_request_create(order=order, lines=lines, **kwargs)
