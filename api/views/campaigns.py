"""A campaign's and an automation's lift over its holdout (scope `campaigns:read`).

Campaigns belong to the business, not to a partner: any key with the scope reads any campaign by
its public id (shown on the campaign's admin page). An own-data-only key reads the lift computed over its own customers (as segment metrics are),
so nothing about other partners' customers leaks. Automations are read the same way, by their public id,
over a period of entries [start, end), each entry measured from its own send date."""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from api.scoping import visible_customers_as_stored
from api.serializers import (
    AutomationLiftQuerySerializer, AutomationLiftSerializer, LiftQuerySerializer, LiftSerializer,
)
from api.views.common import parse_public_id
from campaigns.models import Automation, Campaign
from campaigns.selectors.lift import WINDOW_DAYS, PeriodError, automation_lift, campaign_lift, period_clean


class CampaignLiftView(APIView):
    """Recipients against the holdout over an outcome window after the send: the JSON of
    `manage.py campaign_lift ID --json`, plus orders, revenue, retention, the Welch interval of
    revenue per customer and a plain sentence."""

    required_scopes = {"GET": "campaigns:read"}

    @extend_schema(
        parameters=[OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The campaign's public id."),
                    OpenApiParameter("window_days", {"type": "integer", "minimum": 1, "maximum": 3650}, required=False,
                                     description=f"Outcome window after the send, in days (default {WINDOW_DAYS}).")],
        responses=LiftSerializer,
    )
    def get(self, request, id):
        campaign = Campaign.objects.filter(public_id=parse_public_id(id)).first()
        if campaign is None:
            raise exceptions.NotFound()
        query = LiftQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        customers = visible_customers_as_stored(request.auth) if request.auth.own_data_only else None
        lift = campaign_lift(campaign, window_days=query.validated_data.get("window_days", WINDOW_DAYS),
                             customers=customers)
        return Response({"campaign": str(campaign.public_id), **lift.as_dict()})


class AutomationLiftView(APIView):
    """A marketing automation's entries in [start, end) against its held-out entries, each measured
    from its own send date over the outcome window: the JSON of `manage.py automation_lift ID --start
    --end --json`, plus orders, revenue, retention, the Welch interval and a plain sentence."""

    required_scopes = {"GET": "campaigns:read"}

    @extend_schema(
        parameters=[OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The automation's public id."),
                    OpenApiParameter("start", OpenApiTypes.DATE, required=True,
                                     description="First day of the entries (YYYY-MM-DD)."),
                    OpenApiParameter("end", OpenApiTypes.DATE, required=True,
                                     description="The day after the last day of the entries (YYYY-MM-DD), after start."),
                    OpenApiParameter("window_days", {"type": "integer", "minimum": 1, "maximum": 3650}, required=False,
                                     description=f"Outcome window after each entry, in days (default {WINDOW_DAYS}).")],
        responses=AutomationLiftSerializer,
    )
    def get(self, request, id):
        automation = Automation.objects.filter(public_id=parse_public_id(id)).first()
        if automation is None:
            raise exceptions.NotFound()
        query = AutomationLiftQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        try:
            start, end = period_clean(query.validated_data["start"], query.validated_data["end"])
        except PeriodError as error:
            raise exceptions.ValidationError({error.field: [str(error)]}) from None
        customers = visible_customers_as_stored(request.auth) if request.auth.own_data_only else None
        lift = automation_lift(automation, start=start, end=end,
                               window_days=query.validated_data.get("window_days", WINDOW_DAYS), customers=customers)
        return Response({"automation": str(automation.public_id), "start": start.date().isoformat(),
                         "end": end.date().isoformat(), **lift.as_dict()})


urlpatterns = [
    path("campaigns/<str:id>/lift/", CampaignLiftView.as_view(), name="api-campaign-lift"),
    path("automations/<str:id>/lift/", AutomationLiftView.as_view(), name="api-automation-lift"),
]
