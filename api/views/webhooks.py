"""Webhook subscriptions of the partner: `webhooks/` (list, create) and `webhooks/{id}/` (retrieve, delete).

Any valid key of the partner may manage the partner's subscriptions (no scope of its own); each
event needs the scope that reads the same data through the API (api.webhooks.EVENT_SCOPES), so a
key cannot subscribe to more than it may read. A subscription made with an own-data-only key only
receives events about the partner's own customers. Another partner's subscription answers 404.
The signing secret is in the response to the create call only.
"""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from api import webhooks
from api.idempotency import idempotent
from api.models import WebhookSubscription
from api.pagination import ApiCursorPagination
from api.permissions import MissingScope
from api.serializers import WebhookSubscriptionCreatedSerializer, WebhookSubscriptionSerializer
from api.views.common import parse_public_id


@extend_schema_view(
    list=extend_schema(summary="The partner's webhook subscriptions"),
    retrieve=extend_schema(summary="One webhook subscription"),
    destroy=extend_schema(summary="Delete a webhook subscription and its deliveries", responses={204: None}),
)
class WebhookSubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                                 viewsets.GenericViewSet):
    serializer_class = WebhookSubscriptionSerializer
    pagination_class = ApiCursorPagination
    queryset = WebhookSubscription.objects.none()  # for the schema generator; get_queryset scopes to the partner
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    # Any valid key of the partner: an empty tuple requires no scope (see the module docstring).
    required_scopes = {"GET": (), "POST": (), "DELETE": ()}

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return WebhookSubscription.objects.filter(partner_id=self.request.auth.partner_id)

    def get_object(self):
        self.kwargs[self.lookup_url_kwarg] = parse_public_id(self.kwargs[self.lookup_url_kwarg])
        return super().get_object()

    @extend_schema(
        summary="Subscribe to events",
        request=WebhookSubscriptionSerializer,
        responses={201: WebhookSubscriptionCreatedSerializer},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        key = request.auth
        missing = webhooks.events_missing_scope(webhooks.events_clean(values["events"]), key.scopes or [])
        if missing:
            raise MissingScope(missing)
        subscription = webhooks.webhook_subscribe(
            partner=key.partner, url=values["url"], events=values["events"], active=values["active"],
            own_data_only=key.own_data_only,
        )
        return Response(WebhookSubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        webhooks.webhook_unsubscribe(subscription=instance)


router = SimpleRouter()
router.register("webhooks", WebhookSubscriptionViewSet, basename="api-webhook")
urlpatterns = router.urls
