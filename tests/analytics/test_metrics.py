"""Every metric against an answer computed by hand on a small fixture (DESIGN.md definitions)."""

from datetime import date, datetime, timezone as dt_timezone
from decimal import Decimal

import pytest

from analytics import metrics
from crm import services
from crm.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

START, END = date(2026, 4, 1), date(2026, 7, 1)  # W = 90 days: S window starts 2026-01-01, E window 2026-04-02


def at(*args) -> datetime:
    return datetime(*args, tzinfo=dt_timezone.utc)


@pytest.fixture
def shop(place_order, settings):
    settings.CRM_ACTIVITY_WINDOW_DAYS = 90
    people = {name: CustomerFactory(first_name=name) for name in "ABCDFGHI"}
    A, B, C, D, F, G, H, I = people.values()
    place_order(A, at=at(2026, 2, 15), total="100")  # active at start ...
    place_order(A, at=at(2026, 5, 10), total="50")  # ... and retained; active at end
    place_order(B, at=at(2026, 3, 20), total="30")  # active at start, lost
    place_order(C, at=at(2026, 4, 1), total="20")  # new, exactly on the start boundary
    place_order(C, at=at(2026, 6, 30), total="80")  # active at end
    place_order(D, at=at(2026, 3, 1), total="500", status="cancelled")  # never counted
    refunded = place_order(F, at=at(2026, 5, 1), total="70")
    services.order_refund(order=refunded, amount="70")  # fully refunded: never counted
    place_order(G, at=at(2025, 12, 31), total="10")  # just before the start window
    place_order(G, at=at(2026, 7, 1), total="10")  # exactly on the end boundary: outside the period
    place_order(H, at=at(2026, 1, 1), total="200")  # exactly on the start window's first instant: active at start
    partly = place_order(I, at=at(2026, 4, 15), total="100")
    services.order_refund(order=partly, amount="40")  # counted for 60
    return people


def test_retention_matches_the_hand_computed_figures(shop):
    result = metrics.retention(Customer.objects.all(), start=START, end=END)
    assert result.as_dict() == {
        "start": "2026-04-01", "end": "2026-07-01", "window_days": 90,
        "customers_at_start": 3,  # A, B, H
        "retained": 1,  # A
        "churned": 2,  # B, H
        "new_customers": 2,  # C, I
        "customers_at_end": 3,  # A, C, I
        "retention_rate": 0.3333, "churn_rate": 0.6667,
        "crr_classic": 0.3333,  # (3 - 2) / 3
    }


def test_a_segment_is_just_a_queryset_and_a_customer_may_be_in_two(shop):
    first = metrics.retention(Customer.objects.filter(first_name__in=["A", "B"]), start=START, end=END)
    second = metrics.retention(Customer.objects.filter(first_name__in=["A", "C"]), start=START, end=END)
    assert (first.customers_at_start, first.retained, first.retention_rate) == (2, 1, 0.5)
    assert (second.customers_at_start, second.retained, second.new_customers, second.customers_at_end) == (1, 1, 1, 2)
    assert second.retention_rate == 1.0 and second.crr_classic == 1.0


def test_rates_are_null_not_zero_when_nobody_was_active(shop):
    result = metrics.retention(Customer.objects.all(), start=date(2020, 1, 1), end=date(2020, 4, 1))
    assert result.customers_at_start == 0
    assert (result.retention_rate, result.churn_rate, result.crr_classic) == (None, None, None)
    empty = metrics.retention(Customer.objects.none(), start=START, end=END)
    assert empty.customers_at_start == 0 and empty.retention_rate is None


def test_the_window_is_a_parameter(shop):
    result = metrics.retention(Customer.objects.all(), start=START, end=END, window_days=30)
    assert result.customers_at_start == 1  # only B ordered in [2026-03-02, 2026-04-01)
    assert result.window_days == 30


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        metrics.retention(Customer.objects.all(), start=END, end=START)


def test_value_metrics_over_all_time(shop):
    result = metrics.value_metrics(Customer.objects.all())
    assert result.as_dict() == {
        "customers": 8,
        "buyers": 6,  # D and F never had a counted order
        "repeat_purchase_rate": 0.5,  # A, C, G
        "average_order_value": "62.22",  # 560 / 9
        "purchase_frequency": 1.5,  # 9 / 6
        "clv_mean": "93.33",  # 560 / 6
        "clv_median": "80.00",  # (60 + 100) / 2 of 20, 30, 60, 100, 150, 200
        "repeat_revenue_share": 0.4821,  # (150 + 100 + 20) / 560
        "top20_revenue_share": 0.625,  # top ceil(1.2) = 2 buyers: (200 + 150) / 560
    }


def test_value_metrics_over_a_period(shop):
    result = metrics.value_metrics(Customer.objects.all(), start=START, end=END)
    # counted orders in the period: A 50, C 20 + 80, I 60
    assert (result.buyers, result.average_order_value, result.repeat_purchase_rate) == (3, Decimal("52.50"), 0.3333)
    assert result.clv_median == Decimal("60.00")


def test_value_metrics_of_nobody_are_null():
    result = metrics.value_metrics(Customer.objects.none())
    assert result.buyers == 0 and result.average_order_value is None and result.clv_median is None


def test_lifecycle_counts_cover_every_stage(shop):
    counts = metrics.lifecycle_counts(Customer.objects.all(), at=at(2026, 7, 2))
    assert counts == {
        "prospect": 2,  # D, F
        "new": 1,  # I: one order 78 days ago
        "repeat": 3,  # A, C, G
        "loyal": 0,  # no loyalty condition registered in this test
        "at_risk": 1,  # B: last order 104 days ago (between W and 2W)
        "churned": 1,  # H: last order 182 days ago
    }


def test_cohort_matrix(shop):
    rows = {row.cohort: row for row in metrics.cohort_matrix(first=date(2025, 12, 1), months=8, today=date(2026, 7, 15))}
    assert rows[date(2025, 12, 1)].size == 1 and rows[date(2025, 12, 1)].retention[:8] == [1.0, 0, 0, 0, 0, 0, 0, 1.0]
    april = rows[date(2026, 4, 1)]
    assert april.size == 2  # C and I
    assert april.retention[:4] == [1.0, 0.0, 0.5, 0.0]  # C came back in June (k = 2)
    assert april.retention[4:] == [None] * 4  # months that have not happened yet
    assert rows[date(2026, 5, 1)].size == 0  # F's only order was refunded


def test_new_and_returning_customers_of_a_period(shop):
    result = metrics.new_vs_returning(Customer.objects.all(), start=START, end=END)
    assert result.as_dict() == {
        "new_customers": 2,  # C (20 + 80) and I (60): their first counted orders are in the period
        "new_repeat_probability": 0.5,  # C ordered twice in the period
        "new_average_order_value": "53.33",  # (20 + 80 + 60) / 3
        "returning_base": 4,  # A, B, G, H bought before 2026-04-01
        "returning_buyers": 1,  # A; G's order on 2026-07-01 is outside the period
        "returning_order_probability": 0.25,
        "returning_average_order_value": "50.00",
    }


def test_new_and_returning_of_nobody_are_null():
    result = metrics.new_vs_returning(Customer.objects.none(), start=START, end=END)
    assert result.new_customers == 0 and result.returning_order_probability is None
    assert result.new_average_order_value is None

