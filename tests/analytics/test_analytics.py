"""Per-segment analytics (analytics.selectors, analytics.services.snapshots) and the analytics commands, on hand-computed fixtures."""

import json
from datetime import date, datetime, timezone as dt_timezone
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from analytics import dashboard, periods, selectors
from analytics.models import SegmentMetricSnapshot
from analytics.services import snapshots
from campaigns.models import Segment
from campaigns.segments import segment_add_customers, segment_save
from crm import services
from crm.models import Customer
from crm.services import LineInput
from feedback.models import Answer, Question, Response, ReturnLine, Survey
from feedback.services.returns import LineRequest, return_reject, return_request_create
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

START, END = date(2026, 4, 1), date(2026, 7, 1)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=dt_timezone.utc)


@pytest.fixture
def shop(place_order, settings):
    """The fixture of tests/crm/test_metrics.py, with two segments: A is in both."""
    settings.CRM_ACTIVITY_WINDOW_DAYS = 90
    people = {name: CustomerFactory(first_name=name, city="Tehran" if name in "ABH" else "Shiraz") for name in "ABCDFGHI"}
    A, B, C, D, F, G, H, I = people.values()
    place_order(A, at=at(2026, 2, 15), total="100")
    place_order(A, at=at(2026, 5, 10), total="50")
    place_order(B, at=at(2026, 3, 20), total="30")
    place_order(C, at=at(2026, 4, 1), total="20")
    place_order(C, at=at(2026, 6, 30), total="80")
    place_order(D, at=at(2026, 3, 1), total="500", status="cancelled")
    refunded = place_order(F, at=at(2026, 5, 1), total="70")
    services.order_refund(order=refunded, amount="70")
    place_order(G, at=at(2025, 12, 31), total="10")
    place_order(G, at=at(2026, 7, 1), total="10")
    place_order(H, at=at(2026, 1, 1), total="200")
    partly = place_order(I, at=at(2026, 4, 15), total="100")
    services.order_refund(order=partly, amount="40")
    tehran, _ = segment_save(slug="tehran", name="Tehran", rules={"all": [{"field": "city", "op": "eq", "value": "Tehran"}]})
    vip, _ = segment_save(slug="vip", name="VIP", kind=Segment.Kind.STATIC)
    segment_add_customers(segment=vip, customers=Customer.objects.filter(first_name__in=["A", "C"]))
    return {**people, "tehran": tehran, "vip": vip}


# --- return rate and feedback per segment -----------------------------------------------------

def test_return_rate_is_returned_units_over_units_sold_in_the_period(place_order, settings):
    settings.FEEDBACK_RETURN_WINDOW_DAYS = 100000
    alice, bob = CustomerFactory(first_name="Alice"), CustomerFactory(first_name="Bob")
    lines = [LineInput(sku="MUG", product_name="Mug", quantity=4, unit_price=Decimal("10")),
             LineInput(sku="TEA", product_name="Tea", quantity=6, unit_price=Decimal("5"))]
    first = place_order(alice, at=at(2026, 5, 1), total="70", lines=lines)
    place_order(alice, at=at(2026, 3, 1), total="10", lines=[LineInput(sku="MUG", quantity=5, unit_price=Decimal("2"))])
    place_order(alice, at=at(2026, 5, 2), total="30", status="cancelled", lines=[LineInput(sku="MUG", quantity=3, unit_price=Decimal("10"))])
    bobs = place_order(bob, at=at(2026, 5, 3), total="20", lines=[LineInput(sku="MUG", quantity=2, unit_price=Decimal("10"))])
    mug, tea = first.lines.order_by("id")
    return_request_create(order=first, lines=[LineRequest(order_line_id=mug.pk, quantity=2, reason=ReturnLine.Reason.DAMAGED)])
    rejected = return_request_create(order=first, lines=[LineRequest(order_line_id=tea.pk, quantity=6, reason=ReturnLine.Reason.OTHER)])
    return_reject(return_request=rejected)
    return_request_create(order=bobs, lines=[LineRequest(order_line_id=bobs.lines.get().pk, quantity=1, reason=ReturnLine.Reason.OTHER)])

    alices = selectors.return_rate(Customer.objects.filter(pk=alice.pk), start=START, end=END)
    # Sold in the period: 4 mugs + 6 teas (the March order is outside, the cancelled one does not count);
    # returned: 2 mugs (the rejected request does not count).
    assert (alices.units_sold, alices.units_returned, alices.rate) == (10, 2, 0.2)
    everyone = selectors.return_rate(Customer.objects.all(), start=START, end=END)
    assert (everyone.units_sold, everyone.units_returned, everyone.rate) == (12, 3, 0.25)
    assert selectors.return_rate(Customer.objects.all(), start=date(2020, 1, 1), end=date(2020, 2, 1)).rate is None


def test_the_segment_return_rate_and_feedbacks_rate_by_category_are_one_definition(place_order, settings):
    """analytics reads feedback's return rate: summed over the categories, feedback's figures
    are the segment's (every customer's), and restricted to customers they follow them."""
    from feedback import selectors as feedback_selectors

    settings.FEEDBACK_RETURN_WINDOW_DAYS = 100000
    alice, bob = CustomerFactory(first_name="Alice"), CustomerFactory(first_name="Bob")
    first = place_order(alice, at=at(2026, 5, 1), total="70", lines=[
        LineInput(sku="MUG", category="kitchen", quantity=4, unit_price=Decimal("10")),
        LineInput(sku="TEA", category="tea", quantity=6, unit_price=Decimal("5"))])
    place_order(bob, at=at(2026, 5, 2), total="30", status="cancelled", lines=[
        LineInput(sku="MUG", category="kitchen", quantity=3, unit_price=Decimal("10"))])
    bobs = place_order(bob, at=at(2026, 5, 3), total="20", lines=[
        LineInput(sku="POT", category="kitchen", quantity=2, unit_price=Decimal("10"))])
    return_request_create(order=first, lines=[LineRequest(order_line_id=first.lines.get(sku="MUG").pk, quantity=2,
                                                          reason=ReturnLine.Reason.DAMAGED)])
    return_request_create(order=bobs, lines=[LineRequest(order_line_id=bobs.lines.get().pk, quantity=1,
                                                         reason=ReturnLine.Reason.OTHER)])
    start, end = timezone.make_aware(datetime(2026, 4, 1)), timezone.make_aware(datetime(2026, 7, 1))

    rows = feedback_selectors.return_rate_by_category(start=start, end=end)
    everyone = selectors.return_rate(Customer.objects.all(), start=START, end=END)
    assert {row["category"]: (row["sold"], row["returned"], row["rate"]) for row in rows} == {
        "kitchen": (6, 3, 0.5), "tea": (6, 0, 0.0)}  # the cancelled order does not count
    assert (everyone.units_sold, everyone.units_returned) == (sum(r["sold"] for r in rows), sum(r["returned"] for r in rows))
    bobs_rows = feedback_selectors.return_rate_by_category(customers=Customer.objects.filter(pk=bob.pk), start=start, end=end)
    bobs_rate = selectors.return_rate(Customer.objects.filter(pk=bob.pk), start=START, end=END)
    assert bobs_rows == [{"category": "kitchen", "sold": 2, "returned": 1, "rate": 0.5}]
    assert (bobs_rate.units_sold, bobs_rate.units_returned, bobs_rate.rate) == (2, 1, 0.5)


def test_nps_and_csat_per_segment_come_from_the_segments_answers(shop):
    survey = Survey.objects.create(title="How did we do?", kind=Survey.Kind.NPS, trigger=Survey.Trigger.MANUAL)
    nps = Question.objects.create(survey=survey, position=1, type=Question.Type.NPS, scores=Question.Score.NPS, text="NPS?")
    csat = Question.objects.create(survey=survey, position=2, type=Question.Type.RATING, scores=Question.Score.CSAT, text="CSAT?")

    def answer(customer, nps_value, csat_value, when=at(2026, 5, 5)):
        response = Response.objects.create(survey=survey, customer=customer, submitted_at=when)
        Answer.objects.create(response=response, question=nps, number=nps_value)
        Answer.objects.create(response=response, question=csat, number=csat_value)

    answer(shop["A"], 10, 5)  # promoter, satisfied
    answer(shop["B"], 6, 3)  # detractor
    answer(shop["H"], 9, 4)  # promoter, satisfied
    answer(shop["C"], 3, 1)  # Shiraz: not in the Tehran segment
    answer(shop["A"], 0, 1, when=at(2026, 8, 1))  # after the period
    tehran = selectors.feedback_scores(selectors.customers_for("tehran")[1], start=START, end=END)
    assert (tehran["nps"], tehran["nps_answers"], tehran["csat"]) == (33, 3, 66.7)  # (2 - 1) / 3; 2 of 3
    vip = selectors.feedback_scores(selectors.customers_for("vip")[1], start=START, end=END)
    assert (vip["nps"], vip["csat"]) == (0, 50.0)  # A 10 and C 3: (1 - 1) / 2


# --- periods ------------------------------------------------------------------------------------

def test_closed_periods_end_before_today():
    assert periods.closed_periods("quarter", date(2026, 8, 15), 2) == [
        (date(2026, 1, 1), date(2026, 4, 1)), (date(2026, 4, 1), date(2026, 7, 1))]
    assert periods.closed_periods("month", date(2026, 1, 1), 1) == [(date(2025, 12, 1), date(2026, 1, 1))]
    assert periods.closed_periods("year", date(2026, 3, 3), 1) == [(date(2025, 1, 1), date(2026, 1, 1))]
    assert periods.period_label("quarter", date(2026, 4, 1)) == "2026 Q2"


# --- snapshots ----------------------------------------------------------------------------------

def test_snapshots_hold_the_retention_figures_of_each_segment(shop):
    summary = snapshots.snapshots_refresh(today=date(2026, 8, 15), periods=2, kinds=["quarter"])
    assert summary == {"computed": 6, "window_days": 90}  # 2 quarters x (all customers + 2 segments)
    q2 = {s.segment.slug if s.segment else "all": s for s in SegmentMetricSnapshot.objects.filter(start=START)}
    assert (q2["all"].customers_at_start, q2["all"].retained, q2["all"].new_customers, q2["all"].customers_at_end) == (3, 1, 2, 3)
    assert (q2["all"].retention_rate, q2["all"].churn_rate, q2["all"].size) == (0.3333, 0.6667, 8)
    # Tehran = A, B, H: S = 3, only A retained; VIP = A and C: A is in both segments.
    assert (q2["tehran"].customers_at_start, q2["tehran"].retained, q2["tehran"].size) == (3, 1, 3)
    assert (q2["vip"].customers_at_start, q2["vip"].retained, q2["vip"].new_customers, q2["vip"].crr_classic) == (1, 1, 1, 1.0)
    assert q2["vip"].extra["return_rate"] is None and "nps" in q2["vip"].extra
    q1 = SegmentMetricSnapshot.objects.get(segment=None, start=date(2026, 1, 1))
    # S = G (ordered 2025-12-31), who did not come back in Q1; H, A and B are new in Q1.
    assert (q1.customers_at_start, q1.retained, q1.new_customers, q1.retention_rate) == (1, 0, 3, 0.0)


def test_history_stays_when_the_rules_change_unless_forced(shop):
    snapshots.snapshots_refresh(today=date(2026, 8, 15), periods=1, kinds=["quarter"])
    segment_save(slug="tehran", name="Tehran", rules={"all": [{"field": "city", "op": "eq", "value": "Shiraz"}]})
    again = snapshots.snapshots_refresh(today=date(2026, 8, 15), periods=1, kinds=["quarter"])
    assert again["computed"] == 0
    tehran = SegmentMetricSnapshot.objects.get(segment=shop["tehran"], start=START)
    assert tehran.size == 3  # as computed, under the old rules
    snapshots.snapshots_refresh(today=date(2026, 8, 15), periods=1, kinds=["quarter"], force=True)
    tehran.refresh_from_db()
    assert tehran.size == 5  # C, D, F, G, I live in Shiraz


def test_a_period_with_nobody_active_stores_null_rates(shop):
    snapshots.snapshots_refresh(today=date(2020, 5, 1), periods=1, kinds=["month"])
    snapshot = SegmentMetricSnapshot.objects.get(segment=None)
    assert snapshot.customers_at_start == 0 and snapshot.retention_rate is None and snapshot.churn_rate is None


def test_dashboard_rows_give_the_change_and_the_trend(shop, django_assert_num_queries):
    snapshots.snapshots_refresh(today=date(2026, 8, 15), periods=3, kinds=["quarter"])
    selection = dashboard.Selection("quarter", START, END, 90)
    with django_assert_num_queries(2):
        rows = dashboard.dashboard_rows(selection)
    assert [row.name for row in rows] == ["All customers", "Tehran", "VIP"]
    everyone = rows[0]
    assert everyone.current.retention_rate == 0.3333 and everyone.previous.retention_rate == 0.0
    assert everyone.change == 33.3  # percentage points
    assert everyone.trend[-3:] == [None, 0.0, 0.3333]  # Q4 2025: nobody active at its start
    assert len(everyone.trend) == 12 and rows[2].current.customers_at_start == 1


# --- commands -----------------------------------------------------------------------------------

RETENTION_KEYS = ["segment", "start", "end", "window_days", "customers_at_start", "retained", "churned", "new_customers",
                  "customers_at_end", "retention_rate", "churn_rate", "crr_classic"]
VALUE_KEYS = ["customers", "buyers", "repeat_purchase_rate", "average_order_value", "purchase_frequency", "clv_mean",
              "clv_median", "repeat_revenue_share", "top20_revenue_share"]


def run_json(capsys, *args) -> dict:
    call_command(*args, "--json")
    return json.loads(capsys.readouterr().out)


def test_the_retention_command_prints_the_contract(shop, capsys):
    data = run_json(capsys, "retention", "--segment", "all", "--start", "2026-04-01", "--end", "2026-07-01")
    assert list(data) == RETENTION_KEYS
    assert data == {"segment": "all", "start": "2026-04-01", "end": "2026-07-01", "window_days": 90,
                    "customers_at_start": 3, "retained": 1, "churned": 2, "new_customers": 2, "customers_at_end": 3,
                    "retention_rate": 0.3333, "churn_rate": 0.6667, "crr_classic": 0.3333}
    vip = run_json(capsys, "retention", "--segment", "vip", "--start", "2026-04-01", "--end", "2026-07-01", "--window", "30")
    assert (vip["segment"], vip["window_days"], vip["customers_at_start"]) == ("vip", 30, 0)
    assert vip["retention_rate"] is None
    call_command("retention", "--segment", "tehran", "--start", "2026-04-01", "--end", "2026-07-01")
    assert "Retention rate R/S     33.3%" in capsys.readouterr().out


def test_the_customer_metrics_command_prints_the_contract(shop, capsys):
    data = run_json(capsys, "customer_metrics", "--segment", "all")
    assert list(data) == VALUE_KEYS
    assert (data["customers"], data["buyers"], data["average_order_value"]) == (8, 6, "62.22")
    period = run_json(capsys, "customer_metrics", "--segment", "vip", "--start", "2026-04-01", "--end", "2026-07-01")
    assert (period["customers"], period["buyers"], period["repeat_purchase_rate"]) == (2, 2, 0.5)  # A 50; C 20 + 80


def test_the_cohorts_command_prints_the_matrix(shop, capsys):
    data = run_json(capsys, "cohorts", "--from", "2026-04", "--months", "3")
    assert list(data) == ["segment", "from", "months", "cohorts"]
    april = data["cohorts"][0]
    assert april["cohort"] == "2026-04" and april["size"] == 2 and april["retention"][:3] == [1.0, 0.0, 0.5]
    call_command("cohorts", "--from", "2026-04", "--months", "3")
    assert "2026-04" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["retention", "--segment", "nope", "--start", "2026-04-01", "--end", "2026-07-01"], "No segment with the slug 'nope'"),
    (["retention", "--segment", "all", "--start", "2026-07-01", "--end", "2026-07-01"], "must be after"),
    (["retention", "--segment", "all", "--start", "2026-04-31", "--end", "2026-07-01"], "is not a date"),
    (["retention", "--segment", "all", "--start", "2026-04-01", "--end", "2026-07-01", "--window", "0"], "--window"),
    (["customer_metrics", "--segment", "nope"], "No segment"),
    (["customer_metrics", "--segment", "all", "--start", "2026-07-01", "--end", "2026-01-01"], "must be after"),
    (["cohorts", "--from", "2026-13"], "is not a month"),
    (["cohorts", "--months", "30"], "between 1 and 24"),
])
def test_bad_input_is_a_clear_error_with_exit_status_1(db, capsys, argv, message):
    from django.core.management import load_command_class

    command = load_command_class("analytics", argv[0])
    with pytest.raises(SystemExit) as exit_info:
        command.run_from_argv(["manage.py", *argv])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_the_snapshot_job_is_registered():
    from core import jobs

    names = {job.name for job in jobs.registered_jobs()}
    assert {"campaigns.segment_snapshots", "crm.rfm_scores", "crm.predict_churn"} <= names
    assert timezone.now()  # the job itself is exercised through snapshots_refresh above
