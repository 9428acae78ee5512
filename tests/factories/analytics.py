"""Factories for the analytics rows. The jobs write them with set-based upserts; tests that need a
score or a snapshot without running a job make the row directly."""

from datetime import date

import factory
from django.utils import timezone

from analytics.models import CustomerScore, SegmentMetricSnapshot
from tests.factories.crm import CustomerFactory


class CustomerScoreFactory(factory.django.DjangoModelFactory):
    """A champion (5-5-5) who is very likely alive."""

    class Meta:
        model = CustomerScore
        django_get_or_create = ("customer",)

    customer = factory.SubFactory(CustomerFactory)
    rfm_r = 5
    rfm_f = 5
    rfm_m = 5
    rfm_segment = CustomerScore.RfmSegment.CHAMPIONS
    rfm_computed_at = factory.LazyFunction(timezone.now)
    p_alive = 0.95
    predicted_at = factory.LazyFunction(timezone.now)


class SegmentMetricSnapshotFactory(factory.django.DjangoModelFactory):
    """January 2025 for all customers (segment None): 10 at the start, 8 kept."""

    class Meta:
        model = SegmentMetricSnapshot

    segment = None
    period = SegmentMetricSnapshot.Period.MONTH
    start = date(2025, 1, 1)
    end = date(2025, 2, 1)
    window_days = 90
    size = 10
    customers_at_start = 10
    retained = 8
    churned = 2
    retention_rate = 0.8
    churn_rate = 0.2
