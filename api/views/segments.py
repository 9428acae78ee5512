"""Segments, their customers, and their retention metrics.

Scopes: `segments:read` for segments and their customers, `metrics:read` for the metrics.
An own-data-only key sees its own customers in a segment, sizes counted over them, and
metrics computed over them."""

import re

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import metrics, selectors
from analytics.periods import MAX_WINDOW_DAYS, MAX_YEAR, MIN_WINDOW_DAYS, MIN_YEAR, Period
from api.pagination import ApiCursorPagination
from api.scoping import visible_customers_as_stored, visible_segment_sizes
from api.serializers import CustomerSerializer, RetentionQuerySerializer, RetentionSerializer, SegmentSerializer
from campaigns.models import Segment
from campaigns.segments import segment_customers
from crm.models import Customer


SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")


class SegmentPagination(ApiCursorPagination):
    ordering = "slug"


def _checked_slug(slug: str) -> str:
    """A path part that cannot be a slug names no segment (and never reaches the database:
    PostgreSQL refuses NUL characters in a query)."""
    if not SLUG.match(slug):
        raise exceptions.NotFound()
    return slug


def _segment_for_path(slug: str) -> Segment:
    segment = Segment.objects.filter(slug=_checked_slug(slug)).first()
    if segment is None:
        raise exceptions.NotFound()
    return segment


def _with_sizes(key, segments: list[Segment]) -> list[Segment]:
    sizes = visible_segment_sizes(key, segments)
    for segment in segments:
        segment.size = sizes[segment.pk]
        if key.own_data_only:
            segment.size_counted_at = None  # counted now, over this key's customers
    return segments


class SegmentListView(generics.ListAPIView):
    """Segments by slug, with their sizes."""

    required_scopes = {"GET": "segments:read"}
    serializer_class = SegmentSerializer
    pagination_class = SegmentPagination
    queryset = Segment.objects.all()

    def list(self, request, *args, **kwargs):
        page = _with_sizes(request.auth, self.paginate_queryset(self.get_queryset()))
        return self.get_paginated_response(SegmentSerializer(page, many=True).data)


class SegmentDetailView(APIView):
    required_scopes = {"GET": "segments:read"}

    @extend_schema(responses=SegmentSerializer)
    def get(self, request, slug):
        segment, = _with_sizes(request.auth, [_segment_for_path(slug)])
        return Response(SegmentSerializer(segment).data)


class SegmentCustomersView(generics.ListAPIView):
    """The segment's customers (as `customers/` shows them), by cursor."""

    required_scopes = {"GET": "segments:read"}
    serializer_class = CustomerSerializer
    pagination_class = ApiCursorPagination
    queryset = Customer.objects.none()  # for the schema generator; get_queryset scopes to the key

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        segment = _segment_for_path(self.kwargs["slug"])
        return visible_customers_as_stored(self.request.auth, segment_customers(segment).prefetch_related("tags"))


class SegmentMetricsView(APIView):
    """Retention and churn of the segment for the period [start, end): the same JSON as
    `manage.py retention --segment SLUG --start START --end END [--window W] --json`.
    The slug `all` means every customer (every customer this key can see)."""

    required_scopes = {"GET": "metrics:read"}

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, required=True,
                             description=f"First day, YYYY-MM-DD, in the years {MIN_YEAR}-{MAX_YEAR}."),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True,
                             description=f"The day after the period (exclusive), after `start`, in the years {MIN_YEAR}-{MAX_YEAR}."),
            OpenApiParameter("window", {"type": "integer", "minimum": MIN_WINDOW_DAYS, "maximum": MAX_WINDOW_DAYS},
                             required=False, description="Activity window in days (default CRM_ACTIVITY_WINDOW_DAYS)."),
        ],
        responses=RetentionSerializer,
    )
    def get(self, request, slug):
        try:
            _segment, customers = selectors.customers_for(_checked_slug(slug))
        except selectors.UnknownSegment:
            raise exceptions.NotFound() from None
        params = request.query_params.dict()
        RetentionQuerySerializer(data=params).is_valid(raise_exception=True)  # unknown parameters
        # The period's one parser (the admin's and the commands'): a ValidationError is a 400 naming the field.
        period = Period.parse(start=params.get("start"), end=params.get("end"), window=params.get("window"))
        if request.auth.own_data_only:
            customers = visible_customers_as_stored(request.auth, customers)
        result = metrics.retention(customers, start=period.start, end=period.end, window_days=period.window_days)
        return Response({"segment": slug, **result.as_dict()})


urlpatterns = [
    path("segments/", SegmentListView.as_view(), name="api-segment-list"),
    path("segments/<str:slug>/", SegmentDetailView.as_view(), name="api-segment-detail"),
    path("segments/<str:slug>/customers/", SegmentCustomersView.as_view(), name="api-segment-customers"),
    path("segments/<str:slug>/metrics/", SegmentMetricsView.as_view(), name="api-segment-metrics"),
]
