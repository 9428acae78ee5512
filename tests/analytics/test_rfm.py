"""RFM scores and segments against a hand-computed fixture (analytics.rfm)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import metrics, rfm
from analytics.models import CustomerScore
from analytics.services.scores import rfm_refresh
from campaigns.rules import customers_matching
from crm import services
from crm.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

# name: [(days ago, total), ...] -- orders_count, recency and total_spent all rise from A to J.
ORDERS = {
    "A": [(300, "10")],
    "B": [(250, "20")],
    "C": [(200, "30")],
    "D": [(150, "40")],
    "E": [(120, "25"), (100, "25")],
    "F": [(85, "30"), (80, "30")],
    "G": [(70, "20"), (65, "20"), (60, "30")],
    "H": [(50, "30"), (45, "30"), (40, "20")],
    "I": [(35, "20"), (30, "20"), (25, "20"), (20, "30")],
    "J": [(25, "20"), (20, "20"), (15, "20"), (10, "20"), (5, "20")],
}


@pytest.fixture
def scored(place_order, settings):
    settings.CRM_ACTIVITY_WINDOW_DAYS = 90
    people = {}
    for name, orders in ORDERS.items():
        people[name] = CustomerFactory(first_name=name)
        for days_ago, total in orders:
            place_order(people[name], days_ago=days_ago, total=total)
    people["K"] = CustomerFactory(first_name="K")  # only a cancelled order: not scored
    place_order(people["K"], days_ago=3, total="500", status="cancelled")
    people["L"] = CustomerFactory(first_name="L")  # no order at all
    rfm_refresh()
    return people


def scores_by_name() -> dict[str, tuple]:
    rows = CustomerScore.objects.values_list("customer__first_name", "rfm_r", "rfm_f", "rfm_m", "rfm_segment")
    return {name: tuple(rest) for name, *rest in rows}


def test_it_scores_quintiles_and_names_the_segments(scored):
    # 10 scored customers: NTILE(5) puts two in each fifth. Frequency 1 spans the first two
    # fifths (A-D), so all four get F = 1: equal values never get different scores.
    assert scores_by_name() == {
        "A": (1, 1, 1, "lost"),
        "B": (1, 1, 1, "lost"),
        "C": (2, 1, 2, "hibernating"),
        "D": (2, 1, 2, "hibernating"),
        "E": (3, 3, 3, "need_attention"),
        "F": (3, 3, 3, "need_attention"),
        "G": (4, 4, 4, "loyal"),
        "H": (4, 4, 4, "loyal"),
        "I": (5, 5, 5, "champions"),
        "J": (5, 5, 5, "champions"),
    }


def test_it_scores_in_two_statements_and_a_rerun_changes_nothing(scored):
    before = scores_by_name()
    with CaptureQueriesContext(connection) as queries:
        result = rfm_refresh()
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 2  # one INSERT ... SELECT ... ON CONFLICT, one UPDATE
    assert result == {"scored": 10, "cleared": 0}
    assert scores_by_name() == before


def test_a_customer_whose_orders_are_all_refunded_loses_their_scores(scored):
    order = scored["A"].orders.get()
    services.order_refund(order=order, amount=order.total)
    result = rfm_refresh()
    assert result["cleared"] == 1
    score = CustomerScore.objects.get(customer=scored["A"])
    assert (score.rfm_r, score.rfm_segment) == (None, None)
    assert scores_by_name()["B"][3] == "lost"  # B now shares the bottom fifth with C


def test_the_grid_maps_every_cell_to_exactly_one_segment():
    expected = {  # R row: segments for F = 1..5
        5: ["new", "potential_loyalist", "potential_loyalist", "champions", "champions"],
        4: ["promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"],
        3: ["about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"],
        2: ["hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose_them"],
        1: ["lost", "hibernating", "at_risk", "at_risk", "cannot_lose_them"],
    }
    assert {r: [rfm.segment_for(r, f) for f in range(1, 6)] for r in range(1, 6)} == expected
    assert {segment for row in expected.values() for segment in row} == set(CustomerScore.RfmSegment.values)


def test_the_sql_case_agrees_with_the_python_grid(scored):
    # Put every customer in every cell in turn is heavy; instead check the CASE on all 25 cells at once.
    cases = " UNION ALL ".join(f"SELECT {r} AS r, {f} AS f" for r in range(1, 6) for f in range(1, 6))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT r, f, {rfm.segment_case_sql()} FROM ({cases}) cells")
        rows = cursor.fetchall()
    assert {(r, f): segment for r, f, segment in rows} == {(r, f): rfm.segment_for(r, f) for r in range(1, 6) for f in range(1, 6)}


def test_rfm_segment_is_a_segment_rule_field(scored):
    champions = customers_matching({"all": [{"field": "rfm_segment", "op": "eq", "value": "champions"}]})
    assert sorted(champions.values_list("first_name", flat=True)) == ["I", "J"]
    unscored = customers_matching({"all": [{"field": "rfm_segment", "op": "is_not_set"}]})
    assert sorted(unscored.values_list("first_name", flat=True)) == ["K", "L"]
    not_lost = customers_matching({"all": [{"field": "rfm_segment", "op": "ne", "value": "lost"}]})
    assert "A" not in set(not_lost.values_list("first_name", flat=True)) and not_lost.count() == 10


def test_champions_and_loyal_active_customers_are_loyal_in_the_lifecycle(scored):
    counts = metrics.lifecycle_counts(Customer.objects.all())
    assert counts == {
        "prospect": 2,  # K (cancelled only), L
        "new": 0,
        "repeat": 1,  # F: need attention, active
        "loyal": 4,  # G, H (Loyal) and I, J (Champions), all active
        "at_risk": 2,  # D (150 days), E (100 days)
        "churned": 3,  # A, B, C: more than 180 days
    }


def test_the_grid_counts_customers_per_cell(scored):
    assert rfm.rfm_grid() == {(1, 1): 2, (2, 1): 2, (3, 3): 2, (4, 4): 2, (5, 5): 2}
    assert rfm.rfm_grid(Customer.objects.filter(first_name__in=["A", "J"])) == {(1, 1): 1, (5, 5): 1}
