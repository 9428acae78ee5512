"""Every snapshot figure for all periods and segments at once (analytics.metrics.snapshot_figures): equal, figure
for figure, to the per-period functions (metrics.retention, selectors.period_extras) on a varied shop, on SQLite
and PostgreSQL; and snapshots_refresh, which uses it, stores the rows the former per-period path stored."""

import random
from datetime import date, datetime, timedelta, timezone as dt_timezone
from decimal import Decimal

import pytest

from analytics import metrics, selectors
from analytics.metrics import all_periods
from analytics.models import SegmentMetricSnapshot
from analytics.periods import closed_periods
from analytics.services import snapshots
from campaigns.models import Segment
from campaigns.segments import segment_add_customers, segment_customers, segment_save
from crm import services
from crm.models import Customer, Order
from crm.services import LineInput
from feedback.models import Answer, Question, Response, ReturnLine, Survey
from feedback.services.returns import LineRequest, return_reject, return_request_create
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 7, 2)
CITIES = ["Tehran", "Shiraz", "Dubai"]


def at(day: date, seconds: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=dt_timezone.utc) + timedelta(seconds=seconds)


@pytest.fixture
def shop(place_order, settings):
    """40 customers ordering over 2024-2026 (some exactly on period bounds, some cancelled, refunded in full or in
    part), order lines with returns (some rejected, one on an order cancelled later), NPS and CSAT answers (one
    anonymous, one unanswered number), and six segments: overlapping, static, empty, and one never materialized."""
    settings.FEEDBACK_RETURN_WINDOW_DAYS = 100000
    rng = random.Random(17)
    bounds = [start for kind in ("month", "quarter") for start, _end in closed_periods(kind, TODAY, 12)]
    people = [CustomerFactory(first_name=f"P{n}", city=CITIES[n % 3]) for n in range(40)]
    orders = []
    for n, person in enumerate(people[:34]):  # six never order
        for _ in range(rng.choice([1, 1, 2, 3, 5, 8])):
            if rng.random() < 0.3:  # on a bound, or one second before it
                placed = at(rng.choice(bounds), rng.choice([0, -1]))
            else:
                placed = at(date(2024, 1, 1), rng.randrange(0, 915 * 86400))
            status = rng.choice(["fulfilled"] * 6 + ["cancelled", "paid", "refunded"])
            lines = [LineInput(sku=f"SKU{rng.randrange(5)}", quantity=rng.randrange(1, 4), unit_price=Decimal("10"))
                     for _ in range(rng.randrange(0, 3))]
            order = place_order(person, at=placed, total=str(10 * sum(line.quantity for line in lines) or 15),
                                status=status, lines=lines)
            if status == "fulfilled" and rng.random() < 0.2:
                services.order_refund(order=order, amount="5")
            orders.append(order)
    returned = 0
    for order in orders:
        line = order.lines.order_by("pk").first()
        if line is None or order.status in ("cancelled", "refunded") or rng.random() < 0.6:
            continue
        request = return_request_create(order=order, lines=[LineRequest(order_line_id=line.pk, quantity=1,
                                                                        reason=ReturnLine.Reason.DAMAGED)])
        returned += 1
        if returned % 3 == 0:
            return_reject(return_request=request)
        elif returned % 5 == 0:
            Order.objects.filter(pk=order.pk).update(status="cancelled")  # cancelled after the return
    survey = Survey.objects.create(title="How did we do?", kind=Survey.Kind.NPS, trigger=Survey.Trigger.MANUAL)
    nps = Question.objects.create(survey=survey, position=1, type=Question.Type.NPS, scores=Question.Score.NPS, text="N?")
    csat = Question.objects.create(survey=survey, position=2, type=Question.Type.RATING, scores=Question.Score.CSAT,
                                   text="C?")
    other = Question.objects.create(survey=survey, position=3, type=Question.Type.RATING, text="Other?")
    for n in range(60):
        customer = None if n == 7 else rng.choice(people)
        response = Response.objects.create(survey=survey, customer=customer,
                                           submitted_at=at(date(2024, 1, 1), rng.randrange(0, 915 * 86400)))
        Answer.objects.create(response=response, question=nps, number=None if n == 11 else rng.randrange(0, 11))
        Answer.objects.create(response=response, question=csat, number=rng.randrange(1, 6))
        Answer.objects.create(response=response, question=other, number=rng.randrange(1, 6))
    segments = [
        segment_save(slug="tehran", name="Tehran", rules={"all": [{"field": "city", "op": "eq", "value": "Tehran"}]})[0],
        segment_save(slug="repeaters", name="Repeaters", rules={"any": [
            {"field": "orders_count", "op": "gte", "value": 2}, {"field": "city", "op": "eq", "value": "Tehran"}]})[0],
        segment_save(slug="vip", name="VIP", kind=Segment.Kind.STATIC)[0],
        segment_save(slug="nobody", name="Nobody", rules={"all": [{"field": "city", "op": "eq", "value": "Oslo"}]})[0],
        segment_save(slug="dubai", name="Dubai", rules={"all": [{"field": "city", "op": "eq", "value": "Dubai"}]})[0],
        segment_save(slug="lapsed", name="Lapsed",
                     rules={"all": [{"field": "days_since_last_order", "op": "gte", "value": 60}]})[0],
    ]
    segment_add_customers(segment=segments[2], customers=Customer.objects.filter(pk__in=[p.pk for p in people[::4]]))
    Segment.objects.filter(pk=segments[5].pk).update(members_computed_at=None)  # never materialized
    return [Segment.objects.get(pk=segment.pk) for segment in segments]


def expected(segment: Segment | None, start: date, end: date, window: int):
    customers = segment_customers(segment) if segment else Customer.objects.all()
    return (metrics.retention(customers, start=start, end=end, window_days=window), customers.count(),
            selectors.period_extras(customers, start, end))


PERIODS = {
    "12 quarters": closed_periods("quarter", TODAY, 12),
    "12 months": closed_periods("month", TODAY, 12),
    "3 years": closed_periods("year", TODAY, 3),
    "overlapping and custom": [(date(2025, 12, 31), date(2026, 1, 2)), (date(2026, 1, 1), date(2026, 4, 1)),
                               (date(2020, 1, 1), date(2020, 4, 1))],
}


@pytest.mark.parametrize("window", [90, 30, 400])
@pytest.mark.parametrize("name", PERIODS)
def test_every_figure_of_every_period_and_segment_equals_the_per_period_functions(shop, name, window):
    periods = PERIODS[name]
    figures = metrics.snapshot_figures(shop, periods, window_days=window)
    for start, end in periods:
        for segment in [None, *[segment for segment in shop if segment.members_computed_at is not None]]:
            found = figures[(segment.pk if segment else None, start, end)]
            assert (found.retention, found.size, found.extra) == expected(segment, start, end, window), (
                segment and segment.slug, start, end)
    assert figures[(None, *periods[0])].extra.keys() == selectors.period_extras(Customer.objects.all(), *periods[0]).keys()
    assert not any(key[0] == shop[5].pk for key in figures)  # the segment never materialized is left to the caller


def test_the_data_set_has_what_the_comparison_needs(shop):
    figures = metrics.snapshot_figures(shop, PERIODS["12 quarters"], window_days=90)
    everyone = [figures[(None, *period)] for period in PERIODS["12 quarters"]]
    assert sum(row.retention.retained for row in everyone) > 0 and sum(row.retention.churned for row in everyone) > 0
    assert sum(row.extra["units_returned"] for row in everyone) > 0 and sum(row.extra["nps_answers"] for row in everyone) > 0
    assert any(row.retention.retention_rate is None for row in everyone)  # before the first orders: null, not 0


def test_more_periods_and_segments_than_one_pass_holds_give_the_same_figures(shop, monkeypatch):
    periods = PERIODS["12 months"]
    together = metrics.snapshot_figures(shop, periods, window_days=90)
    monkeypatch.setattr(all_periods, "MAX_INTERVALS", 5)
    monkeypatch.setattr(all_periods, "SEGMENTS_PER_PASS", 2)
    assert metrics.snapshot_figures(shop, periods, window_days=90) == together


def test_the_statements_do_not_grow_with_the_periods(shop, django_assert_num_queries):
    # The customers counted, the segments' sizes, then retention, return rate and scores: 5 queries.
    with django_assert_num_queries(5):
        metrics.snapshot_figures(shop, PERIODS["12 quarters"], window_days=90)
    with django_assert_num_queries(5):
        metrics.snapshot_figures(shop[:1], PERIODS["12 quarters"][:1], window_days=90)


def test_a_period_that_ends_before_it_starts_is_refused(shop):
    with pytest.raises(ValueError, match="must end after it starts"):
        metrics.snapshot_figures(shop, [(date(2026, 4, 1), date(2026, 4, 1))], window_days=90)


def test_the_refresh_stores_the_rows_of_the_per_period_path(shop):
    def stored(*fields):
        return sorted(SegmentMetricSnapshot.objects.values_list(
            "segment_id", "period", "start", "end", "window_days", "size", "customers_at_start", "retained", "churned",
            "new_customers", "customers_at_end", "retention_rate", "churn_rate", "crr_classic", "extra", *fields),
            key=lambda row: (row[0] or 0, row[1:4]))

    kinds = [SegmentMetricSnapshot.Period.MONTH, SegmentMetricSnapshot.Period.QUARTER]
    summary = snapshots.snapshots_refresh(today=TODAY, window_days=90, periods=12, kinds=kinds,
                                          custom=(date(2026, 2, 10), date(2026, 5, 20)), per_period=True)
    assert summary["computed"] == 25 * (len(shop) + 1)
    before = stored("pk")
    SegmentMetricSnapshot.objects.update(retained=999, extra={})
    snapshots.snapshots_refresh(today=TODAY, window_days=90, periods=12, kinds=kinds,
                                custom=(date(2026, 2, 10), date(2026, 5, 20)), force=True)
    assert stored("pk") == before  # replaced in place: the same rows under the same ids, no duplicates
    SegmentMetricSnapshot.objects.all().delete()
    snapshots.snapshots_refresh(today=TODAY, window_days=90, periods=12, kinds=kinds,
                                custom=(date(2026, 2, 10), date(2026, 5, 20)))
    assert stored() == [row[:-1] for row in before]


def test_the_refresh_still_skips_the_closed_periods_it_has(shop, django_assert_max_num_queries):
    snapshots.snapshots_refresh(today=TODAY, window_days=90, periods=4, kinds=["quarter"])
    with django_assert_max_num_queries(3):
        assert snapshots.snapshots_refresh(today=TODAY, window_days=90, periods=4, kinds=["quarter"])["computed"] == 0


def test_a_run_reports_its_progress_period_by_period(shop, admin_user):
    run = snapshots.AnalyticsRun.objects.create(requested_by=admin_user, force=True)
    snapshots.snapshots_refresh(today=TODAY, window_days=90, periods=3, kinds=["quarter"], run=run)
    run.refresh_from_db()
    assert (run.total, run.done) == (3 * (len(shop) + 1), 3 * (len(shop) + 1))

