"""Surveys and their results, survey invitations, and return requests.

Scopes: reading surveys, results and returns `feedback:read`; inviting a customer to a survey
`customers:write` (it writes to the customer: an invitation, and the message that carries it;
the API has no feedback write scope); creating a return request `returns:write`, which may also
read the returns it created."""

from dataclasses import asdict
from datetime import datetime, time

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.pagination import ApiCursorPagination
from api.scoping import visible_customers, visible_returns
from api.serializers import (
    InvitationInputSerializer,
    InvitationSerializer,
    PeriodQuerySerializer,
    ReturnCreateSerializer,
    ReturnRequestSerializer,
    SurveyDetailSerializer,
    SurveyResultsSerializer,
    SurveySerializer,
)
from api.views.common import customer_for_body, line_errors_by_index, order_for_body, parse_public_id
from campaigns import tokens
from club.exceptions import Conflict
from feedback import selectors as feedback_selectors
from feedback import services as feedback_services
from feedback.models import Choice, Question, ReturnRequest, Survey
from feedback.services import returns as return_services

PERIOD_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, required=False, description="First day, YYYY-MM-DD."),
    OpenApiParameter("end", OpenApiTypes.DATE, required=False, description="The day after the period (exclusive)."),
]


def _midnight(day):
    return timezone.make_aware(datetime.combine(day, time.min)) if day is not None else None


def _survey_for_path(survey_id, queryset=None) -> Survey:
    """The survey named by its public id (a malformed id is a 404, as a missing one)."""
    queryset = Survey.objects.all() if queryset is None else queryset
    survey = queryset.filter(public_id=parse_public_id(survey_id)).first()
    if survey is None:
        raise exceptions.NotFound()
    return survey


class SurveyListView(generics.ListAPIView):
    """The surveys, newest first (whether open or not; see `is_open`)."""

    required_scopes = {"GET": "feedback:read"}
    serializer_class = SurveySerializer
    pagination_class = ApiCursorPagination
    queryset = Survey.objects.all()


class SurveyDetailView(APIView):
    required_scopes = {"GET": "feedback:read"}

    @extend_schema(responses=SurveyDetailSerializer)
    def get(self, request, survey_id):
        survey = _survey_for_path(survey_id, Survey.objects.prefetch_related(
            Prefetch("questions", Question.objects.order_by("position", "id").prefetch_related(
                Prefetch("choices", Choice.objects.order_by("position", "id"))))
        ))
        return Response(SurveyDetailSerializer(survey).data)


class SurveyResultsView(APIView):
    """NPS and CSAT of the survey over an optional period [start, end). An own-data-only key
    gets the results of its own customers' answers only."""

    required_scopes = {"GET": "feedback:read"}

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=SurveyResultsSerializer)
    def get(self, request, survey_id):
        survey = _survey_for_path(survey_id)
        query = PeriodQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        start, end = query.validated_data.get("start"), query.validated_data.get("end")
        customers = visible_customers(request.auth) if request.auth.own_data_only else None
        scores = feedback_selectors.survey_scores(survey, start=_midnight(start), end=_midnight(end), customers=customers)
        return Response(SurveyResultsSerializer({"survey": survey.public_id, "start": start, "end": end, **asdict(scores)}).data)


class SurveyInvitationView(APIView):
    """Invite a customer to the survey; the answer holds the customer's personal link, the only
    time it is shown (the invitation is also sent by the survey-invitation automation, if on).
    Scope `customers:write`. A customer invited to this survey within its cooldown gets 409."""

    required_scopes = {"POST": "customers:write"}

    @extend_schema(request=InvitationInputSerializer, responses={201: InvitationSerializer})
    @idempotent
    def post(self, request, survey_id):
        survey = _survey_for_path(survey_id)
        serializer = InvitationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = customer_for_body(request, data["customer"])
        order = None
        if data.get("order"):
            order = order_for_body(request, data["order"], customer=customer,
                                   message=_("No such order of this customer."))
        if not survey.is_open():
            raise Conflict(_("This survey is not open."), code="survey_closed")
        created = feedback_services.invitation_create(survey=survey, customer=customer, order=order)
        if created is None:
            raise Conflict(
                _("This customer was invited to this survey in the last %(days)s days.") % {"days": survey.cooldown_days},
                code="invitation_cooldown",
            )
        invitation = created.invitation
        return Response(InvitationSerializer({
            "public_id": invitation.public_id, "survey": survey, "customer": customer, "order": order,
            "link": tokens.absolute(created.path), "created_at": invitation.created_at, "expires_at": invitation.expires_at,
        }).data, status=status.HTTP_201_CREATED)


def _returns(request):
    return visible_returns(request.auth, ReturnRequest.objects.select_related("order", "customer").prefetch_related(
        "lines__order_line", "events"))


class ReturnListCreateView(generics.ListAPIView):
    """Return requests, newest first (`?order=<id>` for one order's), and creating one.

    A new request starts in the state `requested`; the returns desk takes it from there, and
    `returns/{id}/` shows its state and history."""

    required_scopes = {"GET": ("feedback:read", "returns:write"), "POST": "returns:write"}
    serializer_class = ReturnRequestSerializer
    pagination_class = ApiCursorPagination
    queryset = ReturnRequest.objects.none()  # for the schema generator

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        queryset = _returns(self.request)
        order = self.request.query_params.get("order")
        if order is not None:
            queryset = queryset.filter(order__public_id=_order_filter(order))
        return queryset

    @extend_schema(parameters=[OpenApiParameter("order", OpenApiTypes.UUID, required=False)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ReturnCreateSerializer, responses={201: ReturnRequestSerializer})
    @idempotent
    def post(self, request):
        serializer = ReturnCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = order_for_body(request, data["order"])
        line_ids = dict(order.lines.values_list("public_id", "pk"))
        unknown = {
            f"lines[{index}].order_line": [_("This item is not part of order %(number)s.") % {"number": order.order_number}]
            for index, line in enumerate(data["lines"]) if line["order_line"] not in line_ids
        }
        if unknown:
            raise exceptions.ValidationError(unknown)
        lines = [
            return_services.LineRequest(order_line_id=line_ids[line["order_line"]], quantity=line["quantity"],
                                        reason=line["reason"], note=line["note"])
            for line in data["lines"]
        ]
        try:
            return_request = return_services.return_request_create(
                order=order, lines=lines, resolution=data["resolution"], note=data["note"],
                channel=ReturnRequest.Channel.API,
            )
        except DjangoValidationError as error:
            raise line_errors_by_index(error, [line.order_line_id for line in lines]) from None
        return Response(ReturnRequestSerializer(_returns(request).get(pk=return_request.pk)).data, status=status.HTTP_201_CREATED)


def _order_filter(value):
    try:
        return parse_public_id(value)
    except Http404:  # a malformed id in a filter is bad input, not a missing page
        raise exceptions.ValidationError({"order": [_("Must be a valid UUID.")]}) from None


class ReturnDetailView(APIView):
    required_scopes = {"GET": ("feedback:read", "returns:write")}

    @extend_schema(responses=ReturnRequestSerializer)
    def get(self, request, return_id):
        return_request = _returns(request).filter(public_id=parse_public_id(return_id)).first()
        if return_request is None:
            raise exceptions.NotFound()
        return Response(ReturnRequestSerializer(return_request).data)


urlpatterns = [
    path("surveys/", SurveyListView.as_view(), name="api-survey-list"),
    path("surveys/<str:survey_id>/", SurveyDetailView.as_view(), name="api-survey-detail"),
    path("surveys/<str:survey_id>/results/", SurveyResultsView.as_view(), name="api-survey-results"),
    path("surveys/<str:survey_id>/invitations/", SurveyInvitationView.as_view(), name="api-survey-invitations"),
    path("returns/", ReturnListCreateView.as_view(), name="api-return-list"),
    path("returns/<str:return_id>/", ReturnDetailView.as_view(), name="api-return-detail"),
]
