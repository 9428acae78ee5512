"""Segments and their metrics."""

from rest_framework import serializers

from api.serializers.base import StrictSerializer
from campaigns.models import Segment


class SegmentSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    kind = serializers.ChoiceField(choices=Segment.Kind.choices)
    size = serializers.IntegerField(
        allow_null=True,
        help_text="Customers in the segment when it was last counted (size_counted_at); for an own-data-only key, "
                  "its own customers in the segment now. Null when never counted.",
    )
    size_counted_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RetentionQuerySerializer(StrictSerializer):
    """The parameters a metrics query may carry (an unknown one is refused); their values are
    checked by analytics.periods.Period, as the admin and the commands check them."""

    start = serializers.CharField(required=False, allow_blank=True)
    end = serializers.CharField(required=False, allow_blank=True, help_text="The day after the period (exclusive).")
    window = serializers.CharField(required=False, allow_blank=True,
                                   help_text="Activity window W in days, 1-3650 (default CRM_ACTIVITY_WINDOW_DAYS).")


class RetentionSerializer(serializers.Serializer):
    """The JSON of `manage.py retention --segment SLUG --start .. --end .. [--window ..] --json`."""

    segment = serializers.CharField()
    start = serializers.CharField()
    end = serializers.CharField()
    window_days = serializers.IntegerField()
    customers_at_start = serializers.IntegerField()
    retained = serializers.IntegerField()
    churned = serializers.IntegerField()
    new_customers = serializers.IntegerField()
    customers_at_end = serializers.IntegerField()
    retention_rate = serializers.FloatField(allow_null=True)
    churn_rate = serializers.FloatField(allow_null=True)
    crr_classic = serializers.FloatField(allow_null=True)
