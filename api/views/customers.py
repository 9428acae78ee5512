from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.routers import SimpleRouter
from rest_framework.response import Response

from api import services
from api.idempotency import idempotent
from api.pagination import ApiCursorPagination
from api.scoping import visible_customers
from api.serializers import CustomerSerializer
from api.filters import CustomerFilter
from api.views.common import parse_public_id
from crm import services as crm_services
from crm.models import Customer

CONSENT_SOURCE = "api"


class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Customers; `id` is the customer's public id. Own-data-only keys see only their partner's customers."""

    serializer_class = CustomerSerializer
    pagination_class = ApiCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = CustomerFilter
    queryset = Customer.objects.none()  # for the schema generator; get_queryset scopes to the key
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    required_scopes = {"GET": "customers:read", "POST": "customers:write", "PATCH": "customers:write"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return visible_customers(self.request.auth, Customer.objects.prefetch_related("tags"))

    def get_object(self):
        self.kwargs[self.lookup_url_kwarg] = parse_public_id(self.kwargs[self.lookup_url_kwarg])
        return super().get_object()

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.partner_customer_create(partner=request.auth.partner, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=customer.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CustomerSerializer, responses=CustomerSerializer)
    @idempotent
    def partial_update(self, request, *args, **kwargs):
        customer = self.get_object()
        serializer = self.get_serializer(customer, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        tags = values.pop("tags", None)
        crm_services.customer_update(customer=customer, values=values, tags=tags, consent_source=CONSENT_SOURCE)
        return Response(self.get_serializer(self.get_queryset().get(pk=customer.pk)).data)


router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="api-customer")
urlpatterns = router.urls
