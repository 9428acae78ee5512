"""recommendations_evaluate: metrics computed by hand on a tiny history, and the command's contract.

Before the cutoff u1 and u2 bought P1 and P2 ten days before it, u3 bought P1 (lasts 30 days) sixty
days before it, u4 bought P3. In the 30 days from the cutoff u3 bought P1, P2 and P4, u4 bought P4,
and u5 (no order before) bought P1. With k = 2:
- evaluated: u3 and u4 (u5 has no order before the cutoff; u1, u2 none in the window);
- u3's picks: P1 (due again), P2 (bought with P1) -> 2 hits of 3 bought; u4's: P1, P2 (bestsellers) -> 0;
- baseline: u3 gets P2, P3 (P1 bought) -> 1 hit; u4 gets P1, P2 -> 0.
"""

import json
from datetime import date, datetime, timedelta, timezone as dt_timezone
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from crm.models import Recommendation
from crm.recommend import recommendations_evaluate
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory

CUTOFF = date(2026, 3, 1)
START = datetime(2026, 3, 1, tzinfo=dt_timezone.utc)


def buy(customer, day_offset, *products):
    order = OrderFactory(customer=customer, placed_at=START + timedelta(days=day_offset, hours=10))
    for product in products:
        OrderLineFactory(order=order, product=product, sku=product.sku)


@pytest.fixture
def history(db, settings):
    settings.RECOMMEND_MIN_SUPPORT = 1
    p1, p2, p3, p4 = (ProductFactory(sku=f"P{n}", replenishment_days=30 if n == 1 else None) for n in range(1, 5))
    u1, u2, u3, u4, u5 = (CustomerFactory(city="Tehran") for _ in range(5))
    buy(u1, -10, p1, p2)
    buy(u2, -10, p1, p2)
    buy(u3, -60, p1)
    buy(u4, -20, p3)
    buy(u3, 5, p1, p2, p4)
    buy(u4, 6, p4)
    buy(u5, 7, p1)
    buy(u1, 40, p3)  # after the window: not counted


def test_the_metrics_equal_a_hand_computation(history):
    figures = recommendations_evaluate(cutoff=CUTOFF, k=2, days=30)

    assert figures == {
        "cutoff": "2026-03-01", "k": 2, "days": 30, "customers": 2,
        "hit_rate": 0.5, "precision": 0.5, "recall": round((2 / 3) / 2, 4),
        "baseline_hit_rate": 0.5, "baseline_precision": 0.25, "baseline_recall": round((1 / 3) / 2, 4),
    }


def test_it_writes_no_recommendation(history):
    recommendations_evaluate(cutoff=CUTOFF, k=2, days=30)

    assert not Recommendation.objects.exists()


def test_with_no_customer_to_evaluate_the_rates_are_null_not_zero(history):
    figures = recommendations_evaluate(cutoff=date(2020, 1, 1), k=5, days=30)

    assert figures["customers"] == 0 and figures["hit_rate"] is None and figures["baseline_recall"] is None


def test_the_command_prints_one_json_object_with_exactly_the_documented_keys(history):
    out = StringIO()
    call_command("recommendations_evaluate", "--cutoff", "2026-03-01", "--k", "2", "--days", "30", "--json", stdout=out)

    figures = json.loads(out.getvalue())
    assert list(figures) == ["cutoff", "k", "days", "customers", "hit_rate", "precision", "recall",
                             "baseline_hit_rate", "baseline_precision", "baseline_recall"]
    assert figures["customers"] == 2


def test_the_command_prints_a_table_for_people(history):
    out = StringIO()
    call_command("recommendations_evaluate", "--cutoff", "2026-03-01", stdout=out)

    assert "recommender" in out.getvalue() and "popularity" in out.getvalue()


@pytest.mark.parametrize("args, message", [
    (["--cutoff", "March"], "is not a date"),
    (["--cutoff", "2026-03-01", "--k", "0"], "--k"),
    (["--cutoff", "2026-03-01", "--days", "0"], "--days"),
])
def test_the_command_refuses_bad_arguments_clearly(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("recommendations_evaluate", *args)


def test_the_refresh_command_reports_what_it_stored(history):
    out = StringIO()
    call_command("recommendations_refresh", "--json", stdout=out)

    summary = json.loads(out.getvalue())
    assert summary["recommendations"] == Recommendation.objects.count() > 0
    assert summary["customers"] == 5


def test_the_nightly_job_is_registered_on_the_analytics_queue():
    from core.jobs import get_job

    assert get_job("crm.recommendations_refresh").queue == "analytics"
