import phonenumbers
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from api.exceptions import PROBLEM_CONTENT_TYPE
from api.filters import CustomerFilter, NamedFilterBackend
from api.identity import (
    customers_as_seen, filter_as_seen, partner_customer_push, partner_view_consent_set, partner_view_consents,
    partner_view_update,
)
from api.models import PartnerCustomer
from api.idempotency import idempotent
from api.pagination import ApiCursorPagination
from api.scoping import seen_through_view, visible_customers
from api.serializers import (
    CONSENT_SOURCE_PREFIX,
    ConsentChangeSerializer,
    ConsentInputSerializer,
    CustomerLookupSerializer,
    CustomerSerializer,
    InteractionSerializer,
    ProblemSerializer,
    RecommendationListSerializer,
    TimelineQuerySerializer,
    TimelineSerializer,
)
from api.serializers.customers import customer_rows
from api.views.common import customer_for_path, order_for_body, parse_public_id
from club.exceptions import Conflict
from crm import services as crm_services
from core import timeline
from crm.models import ConsentChange, Customer, Interaction
from crm.selectors import recommendations_for
from crm.services import normalize_email

CONSENT_SOURCE = "api"


def _seen_through_view(request, customer) -> bool:
    return seen_through_view(request.auth, customer)


def _view_link(request, customer) -> PartnerCustomer | None:
    """The key's link to a person it sees through its view (api.identity), else None."""
    if not request.auth.own_data_only:
        return None
    return PartnerCustomer.objects.filter(partner_id=request.auth.partner_id, customer=customer,
                                          view__isnull=False).first()


class InteractionPagination(ApiCursorPagination):
    ordering = ("-occurred_at", "-id")


class ConsentPagination(ApiCursorPagination):
    ordering = ("-changed_at", "-id")


class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Customers; `id` is the customer's public id. Own-data-only keys see only their partner's customers.

    Scopes: reading anything `customers:read`; creating and updating customers and recording
    consent changes `customers:write`; logging an interaction `interactions:write`."""

    serializer_class = CustomerSerializer
    pagination_class = ApiCursorPagination
    filter_backends = [NamedFilterBackend]
    filterset_class = CustomerFilter
    queryset = Customer.objects.none()  # for the schema generator; get_queryset scopes to the key
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    method_scopes = {"GET": "customers:read", "POST": "customers:write", "PATCH": "customers:write"}
    action_scopes = {"interactions_create": {"POST": "interactions:write"}}

    @property
    def required_scopes(self):
        return {**self.method_scopes, **self.action_scopes.get(getattr(self, "action", None), {})}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        key = self.request.auth
        return customers_as_seen(key, visible_customers(key, Customer.objects.prefetch_related("tags")))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(customer_rows(self.filter_queryset(self.get_queryset())))
        return self.get_paginated_response(CustomerSerializer.render_page(page))

    def get_object(self):
        self.kwargs[self.lookup_url_kwarg] = parse_public_id(self.kwargs[self.lookup_url_kwarg])
        return super().get_object()

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # An own-data-only key pushing a person who exists elsewhere gets the same answer as for a new one (api.identity).
        customer = partner_customer_push(key=request.auth, values=dict(serializer.validated_data))
        return Response(self.get_serializer(self.get_queryset().get(pk=customer.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CustomerSerializer, responses=CustomerSerializer)
    @idempotent
    def partial_update(self, request, *args, **kwargs):
        customer = self.get_object()
        serializer = self.get_serializer(customer, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        if getattr(customer, "partner_view", None) is not None:  # a person this key sees through its view
            link = PartnerCustomer.objects.get(partner_id=request.auth.partner_id, customer=customer)
            partner_view_update(link=link, values=values)
            return Response(self.get_serializer(self.get_queryset().get(pk=customer.pk)).data)
        tags = values.pop("tags", None)
        crm_services.customer_update(customer=customer, values=values, tags=tags, consent_source=CONSENT_SOURCE)
        return Response(self.get_serializer(self.get_queryset().get(pk=customer.pk)).data)

    # --- lookup ---------------------------------------------------------------------------------

    @extend_schema(
        summary="Find one customer by email, phone or external_ref",
        parameters=[
            OpenApiParameter("email", {"type": "string", "format": "email", "maxLength": 254}, required=False,
                             description="Give exactly one of email, phone and external_ref."),
            OpenApiParameter("phone", {"type": "string", "maxLength": 32}, required=False,
                             description="Any usual notation; local numbers are read in the default region."),
            OpenApiParameter("external_ref", {"type": "string", "maxLength": 100}, required=False),
        ],
        responses={200: CustomerSerializer, (409, PROBLEM_CONTENT_TYPE): ProblemSerializer},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def lookup(self, request):
        """Exactly one of `email`, `phone`, `external_ref`; 404 when no visible customer has it.
        A phone number shared by several customers is a 409: list them with `customers/?phone=`."""
        query = CustomerLookupSerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        (name, value), = query.validated_data.items()
        if name == "email":
            value = normalize_email(value)
        shown = phonenumbers.format_number(value, phonenumbers.PhoneNumberFormat.E164) if name == "phone" else value
        matches = list(filter_as_seen(request.auth, self.get_queryset(), name, value, shown)[:2])
        if not matches:
            raise exceptions.NotFound()
        if len(matches) > 1:
            raise Conflict(_("Several customers have this %(field)s; list them with customers/?%(field)s=.")
                           % {"field": name}, code="ambiguous_lookup")
        return Response(self.get_serializer(matches[0]).data)

    # --- timeline -------------------------------------------------------------------------------

    @extend_schema(
        summary="Everything that happened to the customer, newest first",
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT, required=False, description="1-200 entries (default 50)."),
            OpenApiParameter("kinds", OpenApiTypes.STR, required=False,
                             description="Comma-separated kinds, e.g. `order,interaction`; all when absent."),
        ],
        responses={200: TimelineSerializer},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def timeline(self, request, id=None):
        customer = customer_for_path(request, id)
        query = TimelineQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        entries = [] if _seen_through_view(request, customer) else timeline.customer_timeline(
            customer, limit=query.validated_data["limit"], kinds=query.validated_data.get("kinds"),
        )
        return Response(TimelineSerializer({"results": entries}).data)

    # --- recommendations ------------------------------------------------------------------------

    @extend_schema(
        summary="The products picked for the customer, best first (at most 10)",
        description="The customer's stored recommendations (refreshed by a periodic job), products on sale "
                    "only. An own-data-only key that sees the person only through what it sent (a person who "
                    "already existed when it pushed them) gets an empty list: the picks come from orders other "
                    "partners sent.",
        responses=RecommendationListSerializer,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def recommendations(self, request, id=None):
        customer = customer_for_path(request, id)
        picks = [] if _seen_through_view(request, customer) else recommendations_for([customer.pk])
        return Response(RecommendationListSerializer({"results": picks}).data)

    # --- interactions ---------------------------------------------------------------------------

    @extend_schema(summary="The customer's interactions (calls, emails, chats, visits), newest first",
                   responses=InteractionSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=InteractionPagination)
    def interactions(self, request, id=None):
        customer = customer_for_path(request, id)
        interactions = Interaction.objects.filter(customer=customer).select_related("order")
        if _seen_through_view(request, customer):
            interactions = interactions.none()
        page = self.paginate_queryset(interactions)
        return self.get_paginated_response(InteractionSerializer(page, many=True).data)

    @extend_schema(summary="Log an interaction with the customer (scope interactions:write)",
                   request=InteractionSerializer, responses={201: InteractionSerializer})
    @interactions.mapping.post
    @idempotent
    def interactions_create(self, request, id=None):
        customer = customer_for_path(request, id)
        serializer = InteractionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        order_id = (data.pop("order", None) or {}).get("public_id")
        order = None
        if order_id is not None:
            order = order_for_body(request, order_id)
        interaction = crm_services.interaction_log(customer=customer, order=order, **data)
        return Response(InteractionSerializer(interaction).data, status=status.HTTP_201_CREATED)

    # --- consent --------------------------------------------------------------------------------

    @extend_schema(summary="The customer's consent history (email and SMS), newest first",
                   responses=ConsentChangeSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=ConsentPagination)
    def consents(self, request, id=None):
        customer = customer_for_path(request, id)
        link = _view_link(request, customer)
        if link is not None:  # at most one row per channel: one page
            rows = ConsentChangeSerializer(partner_view_consents(link), many=True).data
            return Response({"next": None, "previous": None, "results": rows})
        page = self.paginate_queryset(ConsentChange.objects.filter(customer=customer))
        return self.get_paginated_response(ConsentChangeSerializer(page, many=True).data)

    @extend_schema(
        summary="Record that the customer gave or withdrew consent (scope customers:write)",
        request=ConsentInputSerializer,
        responses={201: ConsentChangeSerializer, 200: ConsentChangeSerializer},
        description="201 with the new history row; 200 with the latest row when the consent already had that value.",
    )
    @consents.mapping.post
    @idempotent
    def consents_create(self, request, id=None):
        customer = customer_for_path(request, id)
        serializer = ConsentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        link = _view_link(request, customer)
        if link is not None:  # what the person's consent was before is not this key's to learn (api.identity)
            row, created = partner_view_consent_set(link=link, channel=data["channel"], granted=data["granted"],
                                                    source=CONSENT_SOURCE_PREFIX + data["source"])
            return Response(ConsentChangeSerializer(row).data,
                            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
        change = crm_services.consent_set(
            customer=customer, channel=data["channel"], granted=data["granted"],
            source=CONSENT_SOURCE_PREFIX + data["source"],
        )
        if change is None:  # nothing changed: answer with the row that set the current value
            latest = ConsentChange.objects.filter(customer=customer, channel=data["channel"]).first()
            return Response(ConsentChangeSerializer(latest).data, status=status.HTTP_200_OK)
        return Response(ConsentChangeSerializer(change).data, status=status.HTTP_201_CREATED)


router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="api-customer")
urlpatterns = router.urls
