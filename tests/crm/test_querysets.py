from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Customer
from core.customers import loyalty_condition_registry
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stages(place_order, settings):
    settings.CRM_ACTIVITY_WINDOW_DAYS = 90
    prospect = CustomerFactory(first_name="prospect")
    new = CustomerFactory(first_name="new")
    place_order(new, days_ago=10)
    repeat = CustomerFactory(first_name="repeat")
    place_order(repeat, days_ago=100)
    place_order(repeat, days_ago=5)
    at_risk = CustomerFactory(first_name="at_risk")
    place_order(at_risk, days_ago=120)
    churned = CustomerFactory(first_name="churned")
    place_order(churned, days_ago=181)
    cancelled_only = CustomerFactory(first_name="cancelled_only")
    place_order(cancelled_only, days_ago=3, status="cancelled")
    return {c.first_name: c for c in (prospect, new, repeat, at_risk, churned, cancelled_only)}


def _stage_by_name(**kwargs):
    return dict(Customer.objects.with_lifecycle_stage(**kwargs).values_list("first_name", "lifecycle_stage"))


def test_it_gives_each_customer_the_stage_of_the_design(stages):
    assert _stage_by_name() == {
        "prospect": "prospect", "new": "new", "repeat": "repeat", "at_risk": "at_risk", "churned": "churned",
        "cancelled_only": "prospect",  # a cancelled order is not a counted order
    }


def test_the_window_is_a_parameter(stages):
    assert _stage_by_name(window_days=200)["churned"] == "new"


def test_an_order_exactly_w_days_ago_is_still_inside_the_window(place_order, settings):
    # Active at t means a counted order in [t - W, t): the start is included.
    settings.CRM_ACTIVITY_WINDOW_DAYS = 90
    now = timezone.now()
    customer = CustomerFactory(first_name="edge")
    place_order(customer, at=now - timedelta(days=90))
    assert _stage_by_name(at=now)["edge"] == "new"
    assert _stage_by_name(at=now + timedelta(microseconds=1))["edge"] == "at_risk"


def test_it_filters_by_stage_in_sql(stages, django_assert_num_queries):
    with django_assert_num_queries(1):
        names = list(Customer.objects.in_lifecycle_stage("repeat").values_list("first_name", flat=True))
    assert names == ["repeat"]


def test_a_registered_loyalty_condition_makes_active_customers_loyal(stages):
    from django.db.models import Q

    def condition():
        return Q(first_name="repeat")

    with loyalty_condition_registry.override({**loyalty_condition_registry, "test": condition}):
        assert _stage_by_name()["repeat"] == "loyal"
        assert _stage_by_name()["at_risk"] == "at_risk"  # loyalty never hides a lapsing customer


class TestSearch:
    def test_it_finds_a_customer_by_each_identifier(self, customer, place_order):
        customer.external_ref = "EXT-9"
        customer.save()
        place_order(customer, order_number="SHOP-123")
        CustomerFactory(first_name="Someone", last_name="Else")
        for term in ["sara@EXAMPLE.com", "+98 912 123 4567", "+989121234567", "EXT-9", "SHOP-123", "sar", "ahm", "Sara Ahm"]:
            assert list(Customer.objects.search(term)) == [customer], term

    def test_it_finds_nothing_for_a_stranger(self, customer):
        assert not Customer.objects.search("nobody@example.com").exists()
        assert not Customer.objects.search("zzz").exists()
