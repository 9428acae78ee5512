"""Every segment at once (analytics.metrics.segments): retention and value figures of many segments from
one statement over their materialized members, equal to the per-segment functions; the snapshots and
`retention --segments` use it."""

import json
from datetime import date, datetime, timezone as dt_timezone
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from analytics import metrics, selectors
from analytics.models import SegmentMetricSnapshot
from analytics.services import snapshots
from campaigns.models import Segment
from campaigns.segments import segment_add_customers, segment_customers, segment_save
from crm import services
from crm.models import Customer
from crm.services import LineInput
from feedback.models import ReturnLine
from feedback.services.returns import LineRequest, return_reject, return_request_create
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

START, END = date(2026, 4, 1), date(2026, 7, 1)
PERIODS = [
    (START, END, 90),  # the quarter, with orders on each boundary
    (START, END, 30),  # a shorter window
    (date(2026, 4, 1), date(2026, 5, 1), 90),  # a month
    (date(2026, 6, 30), date(2026, 7, 2), 1),  # two days around the last boundary, a one-day window
    (date(2025, 12, 31), date(2026, 1, 2), 90),  # the first orders
    (date(2020, 1, 1), date(2020, 4, 1), 90),  # nobody active: rates are null
]


def at(*args) -> datetime:
    return datetime(*args, tzinfo=dt_timezone.utc)


@pytest.fixture
def shop(place_order, settings):
    """The fixture of test_metrics.py, in five segments that overlap (and one that is empty)."""
    settings.CRM_ACTIVITY_WINDOW_DAYS = 90
    people = {name: CustomerFactory(first_name=name, city="Tehran" if name in "ABH" else "Shiraz") for name in "ABCDFGHIJ"}
    A, B, C, D, F, G, H, I, _J = people.values()  # J never ordered
    place_order(A, at=at(2026, 2, 15), total="100")
    place_order(A, at=at(2026, 5, 10), total="50")
    place_order(B, at=at(2026, 3, 20), total="30")
    place_order(C, at=at(2026, 4, 1), total="20")
    place_order(C, at=at(2026, 6, 30), total="80")
    place_order(C, at=at(2026, 6, 30, 23, 59, 59), total="80.01")
    place_order(D, at=at(2026, 3, 1), total="500", status="cancelled")
    refunded = place_order(F, at=at(2026, 5, 1), total="70")
    services.order_refund(order=refunded, amount="70")
    place_order(G, at=at(2025, 12, 31), total="10")
    place_order(G, at=at(2026, 7, 1), total="10")
    place_order(H, at=at(2026, 1, 1), total="200")
    partly = place_order(I, at=at(2026, 4, 15), total="100")
    services.order_refund(order=partly, amount="40")
    segments = [
        segment_save(slug="tehran", name="Tehran", rules={"all": [{"field": "city", "op": "eq", "value": "Tehran"}]})[0],
        segment_save(slug="vip", name="VIP", kind=Segment.Kind.STATIC)[0],
        segment_save(slug="nobody", name="Nobody", rules={"all": [{"field": "city", "op": "eq", "value": "Oslo"}]})[0],
        segment_save(slug="repeaters", name="Repeaters", rules={"any": [
            {"field": "orders_count", "op": "gte", "value": 2}, {"field": "city", "op": "eq", "value": "Tehran"}]})[0],
        segment_save(slug="lapsed", name="Lapsed",
                     rules={"all": [{"field": "days_since_last_order", "op": "gte", "value": 60}]})[0],
    ]
    segment_add_customers(segment=segments[1], customers=Customer.objects.filter(first_name__in=["A", "C", "J"]))
    return [Segment.objects.get(pk=segment.pk) for segment in segments]


@pytest.mark.parametrize("start,end,window", PERIODS)
def test_retention_of_every_segment_equals_the_per_segment_figures(shop, start, end, window):
    sizes = {}
    together = metrics.retention_by_segment(shop, start=start, end=end, window_days=window, include_all=True, sizes=sizes)
    for segment in shop:
        assert together[segment.pk] == metrics.retention(segment_customers(segment), start=start, end=end,
                                                         window_days=window), segment.slug
        assert sizes[segment.pk] == segment_customers(segment).count() == segment.size
    assert together[None] == metrics.retention(Customer.objects.all(), start=start, end=end, window_days=window)
    assert sizes[None] == Customer.objects.count()


@pytest.mark.parametrize("start,end", [(None, None), (START, END), (date(2026, 6, 30), date(2026, 7, 1)),
                                       (date(2020, 1, 1), date(2020, 2, 1))])
def test_value_figures_of_every_segment_equal_the_per_segment_figures(shop, start, end):
    together = metrics.value_by_segment(shop, start=start, end=end, include_all=True)
    for segment in shop:
        assert together[segment.pk] == metrics.value_metrics(segment_customers(segment), start=start, end=end), \
            segment.slug
    assert together[None] == metrics.value_metrics(Customer.objects.all(), start=start, end=end)


def test_the_pass_is_one_query_whatever_the_number_of_segments(shop, django_assert_num_queries):
    with django_assert_num_queries(1):
        metrics.retention_by_segment(shop[:1], start=START, end=END)
    with django_assert_num_queries(1):
        metrics.retention_by_segment(shop, start=START, end=END, include_all=True)
    with django_assert_num_queries(2):  # the buyers' figures, and the sizes
        metrics.value_by_segment(shop[:1], start=START, end=END)
    with django_assert_num_queries(2):
        metrics.value_by_segment(shop, start=START, end=END)


def test_a_segment_not_yet_materialized_is_computed_live(shop):
    tehran = shop[0]
    Segment.objects.filter(pk=tehran.pk).update(members_computed_at=None)
    tehran.refresh_from_db()
    tehran.customer_rows.all().delete()
    result = metrics.retention_by_segment([tehran], start=START, end=END)
    assert result[tehran.pk] == metrics.retention(segment_customers(tehran), start=START, end=END)
    assert result[tehran.pk].customers_at_start == 3  # A, B and H


def test_the_snapshots_hold_the_per_segment_figures(shop, django_assert_max_num_queries):
    targets = snapshots.snapshot_targets(today=date(2026, 7, 2), window_days=90, kinds=[SegmentMetricSnapshot.Period.QUARTER],
                                         periods=2)
    assert len(targets) == 2 * (len(shop) + 1)
    summary = snapshots.snapshots_refresh(today=date(2026, 7, 2), window_days=90, periods=2,
                                          kinds=[SegmentMetricSnapshot.Period.QUARTER])
    assert summary["computed"] == len(targets)
    for target in targets:
        row = SegmentMetricSnapshot.objects.get(segment=target.segment, period=target.period, start=target.start,
                                                window_days=90)
        customers = segment_customers(target.segment) if target.segment else Customer.objects.all()
        expected = metrics.retention(customers, start=target.start, end=target.end, window_days=90)
        assert (row.customers_at_start, row.retained, row.churned, row.new_customers, row.customers_at_end) == (
            expected.customers_at_start, expected.retained, expected.churned, expected.new_customers,
            expected.customers_at_end)
        assert (row.retention_rate, row.churn_rate, row.crr_classic) == (
            expected.retention_rate, expected.churn_rate, expected.crr_classic)
        assert row.size == customers.count()
        assert row.extra == selectors.period_extras(customers, target.start, target.end)


def test_the_return_rate_of_every_segment_is_two_queries_and_equals_each_ones(place_order, settings,
                                                                             django_assert_num_queries):
    settings.FEEDBACK_RETURN_WINDOW_DAYS = 100000
    alice, bob = CustomerFactory(first_name="Alice", city="Tehran"), CustomerFactory(first_name="Bob", city="Shiraz")
    first = place_order(alice, at=at(2026, 5, 1), total="70", lines=[
        LineInput(sku="MUG", quantity=4, unit_price=Decimal("10")), LineInput(sku="TEA", quantity=6, unit_price=Decimal("5"))])
    place_order(alice, at=at(2026, 3, 1), total="10", lines=[LineInput(sku="MUG", quantity=5, unit_price=Decimal("2"))])
    place_order(bob, at=at(2026, 5, 2), total="30", status="cancelled",
                lines=[LineInput(sku="MUG", quantity=3, unit_price=Decimal("10"))])
    bobs = place_order(bob, at=at(2026, 5, 3), total="20", lines=[LineInput(sku="MUG", quantity=2, unit_price=Decimal("10"))])
    mug, tea = first.lines.order_by("id")
    return_request_create(order=first, lines=[LineRequest(order_line_id=mug.pk, quantity=2, reason=ReturnLine.Reason.DAMAGED)])
    rejected = return_request_create(order=first, lines=[LineRequest(order_line_id=tea.pk, quantity=6,
                                                                     reason=ReturnLine.Reason.OTHER)])
    return_reject(return_request=rejected)
    return_request_create(order=bobs, lines=[LineRequest(order_line_id=bobs.lines.get().pk, quantity=1,
                                                         reason=ReturnLine.Reason.OTHER)])
    segments = [
        segment_save(slug="tehran", name="Tehran", rules={"all": [{"field": "city", "op": "eq", "value": "Tehran"}]})[0],
        segment_save(slug="everyone", name="Everyone", rules={"all": []})[0],
        segment_save(slug="nobody", name="Nobody", rules={"all": [{"field": "city", "op": "eq", "value": "Oslo"}]})[0],
    ]
    with django_assert_num_queries(2):
        rates = selectors.return_rate_by_segment(segments, start=START, end=END)
    for segment in segments:
        assert rates[segment.pk] == selectors.return_rate(segment_customers(segment), start=START, end=END)
    assert (rates[segments[0].pk].units_sold, rates[segments[0].pk].units_returned) == (10, 2)
    assert (rates[segments[1].pk].units_sold, rates[segments[1].pk].units_returned) == (12, 3)
    assert rates[segments[2].pk].rate is None


# --- retention --segments ---------------------------------------------------------------------------

def run(*args) -> str:
    out = StringIO()
    call_command("retention", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_one_object_per_segment_with_the_keys_of_a_single_one(shop):
    listed = json.loads(run("--segments", "vip,tehran,all", "--start", "2026-04-01", "--end", "2026-07-01", "--json"))
    assert [row["segment"] for row in listed] == ["vip", "tehran", "all"]
    for row in listed:
        single = json.loads(run("--segment", row["segment"], "--start", "2026-04-01", "--end", "2026-07-01", "--json"))
        assert row == single


def test_every_segment_and_the_window(shop):
    listed = json.loads(run("--segments", "every", "--start", "2026-04-01", "--end", "2026-07-01", "--window", "30",
                            "--json"))
    assert [row["segment"] for row in listed] == sorted(segment.slug for segment in shop)
    assert {row["window_days"] for row in listed} == {30}
    assert "tehran" in run("--segments", "every", "--start", "2026-04-01", "--end", "2026-07-01")


@pytest.mark.parametrize("args,message", [
    (["--segments", "tehran,ghost,spirit"], "no segment with the slug 'ghost', 'spirit'"),
    (["--segments", " , "], "give segment slugs"),
    ([], "Name the segment"),
    (["--segment", "tehran", "--segments", "vip"], "not both"),
    (["--segment", "ghost"], "No segment with the slug 'ghost'"),
])
def test_the_command_refuses_bad_segments_clearly(shop, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args, "--start", "2026-04-01", "--end", "2026-07-01", "--json")
