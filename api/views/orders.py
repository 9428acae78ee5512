from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from api.filters import OrderFilter
from api.idempotency import idempotent
from api.pagination import ApiCursorPagination
from api.scoping import visible_orders
from api.serializers import OrderSerializer, StrictSerializer
from api.views.common import customer_for_body, parse_public_id, partner_source
from crm import services as crm_services
from crm.models import MONEY, Order


class RefundSerializer(StrictSerializer):
    amount = serializers.DecimalField(min_value=0, **MONEY)


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders with their lines. Send an `Idempotency-Key` header with every POST."""

    serializer_class = OrderSerializer
    pagination_class = ApiCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilter
    queryset = Order.objects.none()  # for the schema generator; get_queryset scopes to the key
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    required_scopes = {"GET": ("customers:read", "orders:write"), "POST": "orders:write"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return visible_orders(self.request.auth, Order.objects.select_related("customer").prefetch_related("lines"))

    def get_object(self):
        self.kwargs[self.lookup_url_kwarg] = parse_public_id(self.kwargs[self.lookup_url_kwarg])
        return super().get_object()

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer = customer_for_body(request, data.pop("customer")["public_id"])
        lines = [crm_services.LineInput(**line) for line in data.pop("lines", [])]
        order = crm_services.order_create(customer=customer, lines=lines, source=partner_source(request), **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, *args, **kwargs):
        order = crm_services.order_cancel(order=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data)

    @extend_schema(request=RefundSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def refund(self, request, *args, **kwargs):
        order = self.get_object()
        serializer = RefundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = crm_services.order_refund(order=order, amount=serializer.validated_data["amount"])
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data)


router = SimpleRouter()
router.register("orders", OrderViewSet, basename="api-order")
urlpatterns = router.urls
