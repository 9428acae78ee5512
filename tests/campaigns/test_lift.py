"""The lift of a campaign over its holdout, every figure against a hand computation."""

from datetime import datetime, timedelta, timezone as dt_timezone
from decimal import Decimal

import pytest

from campaigns.models import Message
from campaigns.selectors.lift import automation_lift, campaign_lift
from crm.models import Order
from tests.factories import CampaignFactory, CustomerFactory, MessageFactory, OrderFactory

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=dt_timezone.utc)
HELD_OUT, SENT = Message.Status.HELD_OUT, Message.Status.SENT


def row(campaign, status, orders=(), **fields):
    """A frozen row (as the campaign's start writes it, at T0) and the customer's orders:
    (days after T0, total, extra order fields)."""
    customer = CustomerFactory()
    message = MessageFactory(campaign=campaign, customer=customer, status=status, created_at=T0, **fields)
    for days, total, extra in orders:
        OrderFactory(customer=customer, placed_at=T0 + timedelta(days=days), total=Decimal(total), **extra)
    return message


@pytest.fixture
def hand_case(db):
    """Recipients (4): 150 in two orders; 60 on day 29; an order only after the window (and one before
    it, so still active); a cancelled order. Holdout (3): 30; nothing; a fully refunded order."""
    campaign = CampaignFactory()
    row(campaign, SENT, [(1, "100.00", {}), (10, "50.00", {})])
    row(campaign, SENT, [(29, "60.00", {})])
    row(campaign, Message.Status.FAILED, [(31, "80.00", {}), (-5, "40.00", {})])  # intent to treat: still a recipient
    row(campaign, SENT, [(2, "200.00", {"status": Order.Status.CANCELLED})])
    row(campaign, HELD_OUT, [(5, "30.00", {})])
    row(campaign, HELD_OUT)
    row(campaign, HELD_OUT, [(3, "100.00", {"refunded_amount": Decimal("100.00")})])
    row(campaign, Message.Status.CANCELLED, [(1, "999.00", {})])  # never meant to be sent any more: in no group
    return campaign


def test_every_figure_is_the_hand_computation(hand_case, django_assert_num_queries):
    with django_assert_num_queries(1):
        lift = campaign_lift(hand_case, window_days=30)

    # Recipients: revenue per customer [150, 60, 0, 0]; holdout [30, 0, 0].
    assert (lift.treated.customers, lift.treated.converted, lift.treated.orders) == (4, 2, 3)
    assert (lift.holdout.customers, lift.holdout.converted, lift.holdout.orders) == (3, 1, 1)
    assert (lift.treated.revenue, lift.holdout.revenue) == (Decimal("210"), Decimal("30"))
    # Active at the end of the window (a counted order in the 90 days before T0 + 30):
    # the first three recipients (the third by its order 5 days before T0), the first holdout customer.
    assert (lift.treated.retained, lift.holdout.retained) == (3, 1)
    # Variances: (150^2 + 60^2 - 210^2/4) / 3 = 5025 and (30^2 - 30^2/3) / 2 = 300.
    assert lift.treated.revenue_variance == pytest.approx(5025)
    assert lift.holdout.revenue_variance == pytest.approx(300)

    data = lift.as_dict()
    assert data["treated_rate"] == 0.5
    assert data["holdout_rate"] == 0.333333
    assert data["lift"] == 0.166667
    # Wilson 2/4 = (0.150039, 0.849961), 1/3 = (0.061492, 0.792340);
    # low = 1/6 - sqrt((0.5 - 0.150039)^2 + (0.792340 - 1/3)^2) = -0.410534,
    # high = 1/6 + sqrt((0.849961 - 0.5)^2 + (1/3 - 0.061492)^2) = 0.609804.
    assert data["lift_ci_low"] == pytest.approx(-0.410534, abs=2e-6)
    assert data["lift_ci_high"] == pytest.approx(0.609804, abs=2e-6)
    assert (data["treated_revenue_per_customer"], data["holdout_revenue_per_customer"]) == ("52.50", "10.00")
    assert data["revenue_per_customer_difference"] == "42.50"
    # Welch: se = sqrt(5025/4 + 300/3) = 36.827978, df = 3.46370, t(0.975, 3.46370) = 2.9545:
    # the interval is 42.5 -/+ t * se, wide enough to include zero.
    low, high = Decimal(data["revenue_per_customer_ci_low"]), Decimal(data["revenue_per_customer_ci_high"])
    assert low + high == pytest.approx(Decimal("85.00"), abs=Decimal("0.011"))
    assert Decimal("2.9") * Decimal("36.827978") < high - Decimal("42.5") < Decimal("3.1") * Decimal("36.827978")
    assert data["incremental_revenue"] == "170.00"  # 42.50 x 4
    assert data["incremental_orders"] == 0.67  # 1/6 x 4
    assert (data["treated_retention_rate"], data["holdout_retention_rate"]) == (0.75, 0.333333)
    assert data["measurable"] is False
    assert data["sentence"].startswith("No measurable effect")
    assert data["window_ends"] == (T0 + timedelta(days=30)).isoformat()


def test_a_shorter_window_counts_fewer_orders(hand_case):
    lift = campaign_lift(hand_case, window_days=7)
    # Within 7 days: recipient 1's first order (100) only; holdout customer 1's 30.
    assert (lift.treated.converted, lift.treated.revenue, lift.holdout.converted) == (1, Decimal("100"), 1)


def test_an_empty_holdout_gives_nulls(db):
    campaign = CampaignFactory()
    row(campaign, SENT, [(1, "10.00", {})])
    data = campaign_lift(campaign).as_dict()
    assert (data["treated"], data["holdout"], data["treated_rate"], data["holdout_rate"]) == (1, 0, 1.0, None)
    for key in ("lift", "lift_ci_low", "lift_ci_high", "holdout_revenue_per_customer", "incremental_revenue",
                "revenue_per_customer_ci_low", "incremental_orders"):
        assert data[key] is None, key
    assert data["sentence"].startswith("Not measurable")


def test_a_campaign_without_rows_gives_nulls_everywhere(db):
    data = campaign_lift(CampaignFactory()).as_dict()
    assert (data["treated"], data["holdout"], data["treated_rate"], data["lift"], data["window_ends"]) == (0, 0, None, None, None)


def test_a_zero_conversion_holdout(db):
    """Recipients 3 of 4 (each 20.00), holdout 0 of 4: lift 0.75; Wilson 3/4 = (0.300642, 0.954413),
    0/4 = (0, 0.489891): low = 0.75 - sqrt((0.75 - 0.300642)^2 + 0.489891^2) = 0.085233,
    high = 0.75 + sqrt((0.954413 - 0.75)^2 + 0) = 0.954413. Welch: means 15 and 0, variances
    (3 x 400 - 60^2/4) / 3 = 100 and 0: se = sqrt(100/4) = 5, df = 3, t = 3.182446: 15 -/+ 15.912231."""
    campaign = CampaignFactory()
    for index in range(4):
        row(campaign, SENT, [(1, "20.00", {})] if index < 3 else [])
        row(campaign, HELD_OUT)
    data = campaign_lift(campaign).as_dict()
    assert (data["treated_rate"], data["holdout_rate"], data["lift"]) == (0.75, 0.0, 0.75)
    assert data["lift_ci_low"] == pytest.approx(0.085233, abs=2e-6)
    assert data["lift_ci_high"] == pytest.approx(0.954413, abs=2e-6)
    assert (data["revenue_per_customer_ci_low"], data["revenue_per_customer_ci_high"]) == ("-0.91", "30.91")
    assert data["incremental_revenue"] == "60.00"
    assert data["measurable"] is True
    assert data["sentence"].startswith("Measurable effect: recipients converted +75.0 percentage points")


def test_an_automation_measures_each_entry_from_its_own_date(db):
    """Two entries of the same kind, a month apart: each has its own window."""
    from tests.campaigns.helpers import automation

    win_back = automation("win_back")
    customer, held = CustomerFactory(), CustomerFactory()
    first, second = T0, T0 + timedelta(days=40)
    MessageFactory(campaign=None, automation=win_back, customer=customer, occasion="a", status=SENT, created_at=first)
    MessageFactory(campaign=None, automation=win_back, customer=customer, occasion="b", status=SENT, created_at=second)
    MessageFactory(campaign=None, automation=win_back, customer=held, occasion="a", status=HELD_OUT, created_at=second)
    MessageFactory(campaign=None, automation=win_back, customer=held, occasion="x", status=Message.Status.SKIPPED,
                   created_at=second)
    OrderFactory(customer=customer, placed_at=second + timedelta(days=2), total=Decimal("50.00"))
    OrderFactory(customer=held, placed_at=first + timedelta(days=2), total=Decimal("70.00"))  # before its entry
    lift = automation_lift(win_back, start=T0, end=T0 + timedelta(days=60), window_days=30)
    assert (lift.treated.customers, lift.treated.converted, lift.treated.revenue) == (2, 1, Decimal("50"))
    assert (lift.holdout.customers, lift.holdout.converted) == (1, 0)
    only_first = automation_lift(win_back, start=T0, end=T0 + timedelta(days=1))
    assert (only_first.treated.customers, only_first.treated.converted, only_first.holdout.customers) == (1, 0, 0)


def test_the_command_prints_exactly_the_documented_keys(hand_case):
    import io
    import json

    from django.core.management import call_command

    out = io.StringIO()
    call_command("campaign_lift", str(hand_case.pk), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert list(data) == ["campaign", "window_days", "treated", "holdout", "treated_converted", "holdout_converted",
                          "treated_rate", "holdout_rate", "lift", "lift_ci_low", "lift_ci_high",
                          "treated_revenue_per_customer", "holdout_revenue_per_customer", "incremental_revenue"]
    assert (data["campaign"], data["window_days"], data["treated"], data["holdout"], data["lift"]) == (
        hand_case.pk, 30, 4, 3, 0.166667)
    out = io.StringIO()
    call_command("campaign_lift", str(hand_case.pk), "--window-days", "7", stdout=out)
    text = out.getvalue()
    assert "Lift (95% CI)" in text and "No measurable effect" in text


@pytest.mark.parametrize("arguments, message", [
    (["999999"], "No campaign"), (["abc"], "No campaign"), (["1", "--window-days", "0"], "--window-days"),
    (["1", "--window-days", "many"], "--window-days"),
])
def test_the_command_refuses_bad_arguments(db, arguments, message):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=message):
        call_command("campaign_lift", *arguments)


def test_the_report_page_shows_the_lift_with_a_chart(hand_case, admin_client):
    from django.urls import reverse

    url = reverse("admin:campaigns_campaign_report", args=[hand_case.pk])
    page = admin_client.get(url).content.decode()
    assert "Holdout and lift" in page and "No measurable effect" in page
    assert "<svg" in page and "52.50" in page and "16.7" in page
    bad = admin_client.get(url + "?window_days=0")
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    persian = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    assert "<svg" in persian


def test_the_automation_report_shows_the_lift_of_recent_entries(db, admin_client):
    from django.urls import reverse
    from django.utils import timezone

    from tests.campaigns.helpers import automation

    win_back = automation("win_back")
    MessageFactory(campaign=None, automation=win_back, status=SENT, created_at=timezone.now() - timedelta(days=3))
    page = admin_client.get(reverse("admin:campaigns_automation_report", args=[win_back.pk])).content.decode()
    assert "Holdout and lift" in page and "Not measurable" in page
