from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _, ngettext
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from api import services
from api.exceptions import PROBLEM_CONTENT_TYPE, flatten_errors, problem
from api.filters import NamedFilterBackend, OrderFilter
from api.idempotency import idempotent
from api.pagination import ApiCursorPagination
from api.scoping import visible_orders
from api.serializers import (
    BulkOrdersInputSerializer, BulkOrdersResultSerializer, BulkOrdersSchemaSerializer, BulkProblemSerializer,
    OrderSerializer, RefundSerializer, orders_validated_plainly,
)
from api.serializers.orders import order_rows
from api.views.common import customer_for_body, line_errors_by_index, parse_public_id, partner_source
from crm import services as crm_services
from crm.models import Order


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders with their lines. Send an `Idempotency-Key` header with every POST."""

    serializer_class = OrderSerializer
    pagination_class = ApiCursorPagination
    filter_backends = [NamedFilterBackend]
    filterset_class = OrderFilter
    queryset = Order.objects.none()  # for the schema generator; get_queryset scopes to the key
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    required_scopes = {"GET": ("customers:read", "orders:write"), "POST": "orders:write"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return visible_orders(self.request.auth, Order.objects.with_customer_public_id().prefetch_related("lines"))

    def list(self, request, *args, **kwargs):
        # Rows straight from the scoped orders: get_queryset's select_related, only() and prefetch would be built
        # only for `.values()` to drop them.
        page = self.paginate_queryset(order_rows(self.filter_queryset(visible_orders(request.auth))))
        return self.get_paginated_response(OrderSerializer.render_page(page))

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
        # Rendered from the row just written, its customer and its lines (as the bulk road does), not read back.
        return Response(self.get_serializer().to_representation(order), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=BulkOrdersSchemaSerializer,
        responses={201: BulkOrdersResultSerializer, (400, PROBLEM_CONTENT_TYPE): BulkProblemSerializer},
        description="Up to 1,000 orders in one call, all or nothing: when any item is invalid, nothing is stored and "
                    "the 400 lists each bad item's `index` and field errors. Order numbers must be new for this "
                    "partner and unique within the batch. Points are earned as for single orders.",
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def bulk(self, request, *args, **kwargs):
        envelope = BulkOrdersInputSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        items = envelope.validated_data["orders"]
        orders, errors = {}, {}
        # One serializer for the whole list (DRF builds a serializer's fields once per instance); only
        # when some item is bad are the items checked one by one, to keep the good ones' values.
        plain = orders_validated_plainly(items)
        batch = OrderSerializer(data=items, many=True) if plain is None else None
        if plain is not None:
            orders = dict(enumerate(plain))
        elif batch.is_valid():
            orders = dict(enumerate(batch.validated_data))
        else:
            for index, item in enumerate(items):
                serializer = OrderSerializer(data=item)
                if serializer.is_valid():
                    orders[index] = serializer.validated_data
                else:
                    errors[index] = flatten_errors(serializer.errors)
        try:
            created = services.partner_orders_create(key=request.auth, source=partner_source(request), orders=orders, errors=errors)
        except services.BatchInvalid as invalid:
            count = len(invalid.errors)
            return problem(
                status.HTTP_400_BAD_REQUEST, kind="validation", title=_("Invalid input."),
                detail=ngettext("%(count)s order is invalid; nothing was stored.",
                                "%(count)s orders are invalid; nothing was stored.", count) % {"count": count},
                errors=[{"index": index, "errors": found} for index, found in invalid.errors.items()],
            )
        # Rendered from the rows just written (their customers and lines too), not read back.
        serializer = self.get_serializer()
        rows = [serializer.to_representation(order) for order in created]
        return Response({"created": len(rows), "orders": rows}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, *args, **kwargs):
        order = crm_services.order_cancel(order=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data)

    @extend_schema(
        request=RefundSerializer, responses=OrderSerializer,
        description="Refund `amount` of the order; refunding all that is left sets it to `refunded`. With `lines` "
                    "(each line of the order once, `quantity` at most what was bought) the club takes back those "
                    "lines' points; without, the refunded share of the order's points. A bad line is a 400 naming "
                    "`lines[<index>].line` or `lines[<index>].quantity`, and nothing is refunded.",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def refund(self, request, *args, **kwargs):
        order = self.get_object()
        serializer = RefundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lines = _refund_lines(order, data.get("lines") or [])
        try:
            order = crm_services.order_refund(order=order, amount=data["amount"], lines=lines or None)
        except DjangoValidationError as error:
            raise line_errors_by_index(error, list(lines)) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data)


def _refund_lines(order: Order, wanted: list[dict]) -> dict[int, int]:
    """The refund's lines as the service takes them ({order line pk: quantity}), in the order sent.

    The order's lines come from get_object's prefetch: one query, however many lines are named.
    A line of another order reads as an unknown one, so nothing is told about other orders."""
    by_public_id = {line.public_id: line for line in order.lines.all()}
    errors = {}
    for index, item in enumerate(wanted):
        line = by_public_id.get(item["line"])
        if line is None:
            errors[f"lines[{index}].line"] = [_("This item is not part of order %(number)s.") % {"number": order.order_number}]
        elif item["quantity"] > line.quantity:
            errors[f"lines[{index}].quantity"] = [_("Refund between 1 and %(count)s of this line.") % {"count": line.quantity}]
    if errors:
        raise exceptions.ValidationError(errors)
    return {by_public_id[item["line"]].pk: item["quantity"] for item in wanted}


router = SimpleRouter()
router.register("orders", OrderViewSet, basename="api-order")
urlpatterns = router.urls
