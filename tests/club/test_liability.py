"""The club's points liability (club.selectors.liability, `club_liability`, the admin report) against a small
ledger computed by hand. Every row is written through the real services at a frozen moment."""

import json
import random
import re
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from club import services
from django.test import Client

from club.dates import day_end
from club.models import PointsLiabilitySnapshot, PointsTransaction
from club.selectors.ledger import credit_remaining, credits_with_remaining
from club.tasks import liability_snapshot_store as liability_task
from club.selectors.liability import club_liability, liability_snapshots, liability_trend, month_ends
from core.jobs import run_job
from core.models import StaffPreference
from core.templatetags.localized import local_datetime
from crm.services import order_refund
from tests.factories import CustomerFactory
from tests.helpers import local

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)
REPORT = "admin:club_pointsliability_changelist"
KEYS = ["as_of", "outstanding_points", "pending_points", "expiring_30d", "expiring_60d", "expiring_90d", "liability_value",
        "redemption_rate", "breakage_rate", "tiers"]


@pytest.fixture
def ledger(tiers, purchase_rule, place_order, settings, time_machine):
    """Three members; at the end of 30 June 2026 (the trailing 12 months start on 1 July 2025):

    Ann (Silver since her order of 15 March 2026 qualified her):
      1 Mar 2025 earn 100 (A1, before the window, expires 1 Mar 2026)   1 Aug 2025 earn 200 (A2, expires 1 Aug 2026)
      1 Sep 2025 redeem 50 (FIFO: from A1)                               2 Mar 2026 the job expires A1's other 50
      15 Mar 2026 order of 300 earns 300 (A3)                            10 May 2026 the order is refunded: reverse 300
      after: 5 Jul 2026 earn 1000, redeem 10
      -> balance 200 (A2), expiring within 60 and 90 days; earned 200 + 300 - 300 = 200, redeemed 50, expired 50.
    Ben (Bronze):
      20 Jul 2025 earn 80 (B1, expires 20 Jul 2026)    10 Jan 2026 staff +40    1 Feb 2026 staff -30 (FIFO: from B1)
      25 Apr 2026 order of 20 held pending 14 days, released on 10 May 2026 (earn 20)
      25 Jun 2026 order of 60 held pending, released on 10 July 2026 (after the day)
      -> balance 80 + 40 - 30 + 20 = 110, pending 60; B1's 50 left expire within 30 days; earned 100.
    Cleo (Bronze on the day, Gold by hand on 2 July 2026):
      30 Jun 2026 23:30 earn 10 (in); 1 Jul 2026 00:00:01 earn 5 (out).
    """
    move = lambda *moment: time_machine.move_to(local(*moment), tick=False)  # noqa: E731
    settings.CLUB_PENDING_DAYS = 0
    move(2025, 1, 1, 12)
    ann = services.member_enroll(customer=CustomerFactory(first_name="Ann"))
    ben = services.member_enroll(customer=CustomerFactory(first_name="Ben"))
    cleo = services.member_enroll(customer=CustomerFactory(first_name="Cleo"))

    def earn(member, points, key):
        return services.points_award(member=member, points=points, source="event", idempotency_key=key)

    move(2025, 3, 1, 12)
    earn(ann, 100, "a1")
    move(2025, 7, 20, 12)
    earn(ben, 80, "b1")
    move(2025, 8, 1, 12)
    earn(ann, 200, "a2")
    move(2025, 9, 1, 12)
    services.points_spend(member=ann, points=50, idempotency_key="a-redeem")
    move(2026, 1, 10, 12)
    services.points_adjust(member=ben, points=40, reason="goodwill", by=None)
    move(2026, 2, 1, 12)
    services.points_adjust(member=ben, points=-30, reason="correction", by=None)
    move(2026, 3, 2, 3)
    assert services.points_expire_due(run_date=date(2026, 3, 2))["points"] == 50
    move(2026, 3, 15, 12)
    order = place_order(ann.customer, at=local(2026, 3, 15, 12), total="300.00")
    settings.CLUB_PENDING_DAYS = 14
    move(2026, 4, 25, 12)
    place_order(ben.customer, at=local(2026, 4, 25, 12), total="20.00")
    move(2026, 5, 10, 3)
    assert services.points_release_pending(run_date=date(2026, 5, 10))["points"] == 20
    move(2026, 5, 10, 12)
    order_refund(order=order, amount="300.00")
    move(2026, 6, 25, 12)
    place_order(ben.customer, at=local(2026, 6, 25, 12), total="60.00")
    move(2026, 6, 30, 23, 30)
    earn(cleo, 10, "c1")
    move(2026, 7, 1, 0, 0, 1)
    earn(cleo, 5, "c2")
    move(2026, 7, 2, 12)
    services.tier_set(member=cleo, tier=tiers["gold"], by=None, note="promotion")
    move(2026, 7, 5, 12)
    earn(ann, 1000, "a4")
    services.points_spend(member=ann, points=10, idempotency_key="a-redeem-2")
    move(2026, 7, 10, 3)
    assert services.points_release_pending(run_date=date(2026, 7, 10))["points"] == 60
    move(2026, 7, 15, 12)
    ann.refresh_from_db()
    assert ann.tier == tiers["silver"]
    assert PointsTransaction.objects.filter(kind="reverse", member=ann).get().points == -300
    return {"ann": ann, "ben": ben, "cleo": cleo}


def tier_row(liability, name):
    return next(row for row in liability.as_dict()["tiers"] if row["tier"] == name)


def test_it_computes_every_figure_as_of_a_past_day_per_tier_and_in_total(ledger, settings):
    settings.CLUB_POINT_VALUE = Decimal("0.05")
    liability = club_liability(as_of=AS_OF)
    data = liability.as_dict()
    assert tier_row(liability, "Silver") == {
        "tier": "Silver", "slug": "silver", "outstanding_points": 200, "pending_points": 0, "expiring_30d": 0,
        "expiring_60d": 200, "expiring_90d": 200, "liability_value": "10.00", "redemption_rate": 0.25, "breakage_rate": 0.25,
    }
    assert tier_row(liability, "Bronze") == {
        "tier": "Bronze", "slug": "bronze", "outstanding_points": 120, "pending_points": 60, "expiring_30d": 50,
        "expiring_60d": 50, "expiring_90d": 50, "liability_value": "9.00", "redemption_rate": 0.0, "breakage_rate": 0.0,
    }
    for name in ("Gold", "Platinum"):
        row = tier_row(liability, name)
        assert row["outstanding_points"] == row["pending_points"] == row["expiring_90d"] == 0
        assert row["redemption_rate"] is None and row["breakage_rate"] is None and row["liability_value"] == "0.00"
    assert [row["tier"] for row in data["tiers"]] == ["Bronze", "Silver", "Gold", "Platinum"]
    assert {key: data[key] for key in KEYS if key != "tiers"} == {
        "as_of": "2026-06-30", "outstanding_points": 320, "pending_points": 60, "expiring_30d": 50, "expiring_60d": 250,
        "expiring_90d": 250, "liability_value": "19.00", "redemption_rate": 50 / 310, "breakage_rate": 50 / 310,
    }
    assert (liability.total.earned_points, liability.total.redeemed_points, liability.total.expired_points) == (310, 50, 50)


def test_it_counts_later_rows_and_tiers_as_of_a_later_day(ledger):
    data = club_liability(as_of=date(2026, 7, 15)).as_dict()
    # Ann +1000 -10; Ben's 60 released; Cleo's 5; Cleo is Gold now.
    assert data["outstanding_points"] == 320 + 990 + 60 + 5
    assert data["pending_points"] == 0
    assert tier_row(club_liability(as_of=date(2026, 7, 15)), "Gold")["outstanding_points"] == 15


def test_the_trend_reads_each_month_end_as_it_stood(ledger):
    trend = {point.day: point for point in liability_trend(as_of=AS_OF)}
    assert list(trend) == month_ends(AS_OF) == [date(2025, 7, 31), date(2025, 8, 31), date(2025, 9, 30), date(2025, 10, 31),
                                                date(2025, 11, 30), date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28),
                                                date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30)]
    figures = {day: (point.outstanding_points, point.pending_points) for day, point in trend.items()}
    assert figures[date(2025, 7, 31)] == (100 + 80, 0)
    assert figures[date(2025, 8, 31)] == (380, 0)
    assert figures[date(2026, 2, 28)] == (250 + 90, 0)
    assert figures[date(2026, 4, 30)] == (500 + 90, 20)  # Ben's first order still held
    assert figures[date(2026, 5, 31)] == (200 + 110, 0)
    assert figures[date(2026, 6, 30)] == (320, 60)


def test_an_empty_club_reads_zeros_and_no_rates(db):
    data = club_liability(as_of=AS_OF).as_dict()
    assert data == {"as_of": "2026-06-30", "outstanding_points": 0, "pending_points": 0, "expiring_30d": 0, "expiring_60d": 0,
                    "expiring_90d": 0, "liability_value": "0", "redemption_rate": None, "breakage_rate": None, "tiers": []}
    assert [point.outstanding_points for point in liability_trend(as_of=AS_OF)] == [0] * 12


def test_the_command_prints_exactly_the_published_keys(ledger, settings):
    settings.CLUB_POINT_VALUE = Decimal("0.05")
    out = StringIO()
    call_command("club_liability", "--as-of", "2026-06-30", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert list(data) == KEYS
    assert data["outstanding_points"] == 320 and data["liability_value"] == "19.00"
    assert list(data["tiers"][0]) == ["tier", "slug"] + KEYS[1:-1]
    table = StringIO()
    call_command("club_liability", "--as-of", "2026-06-30", stdout=table)
    assert "All members" in table.getvalue() and "Silver" in table.getvalue() and "16.1%" in table.getvalue()


@pytest.mark.parametrize("value, message", [("2026-02-30", "is not a date"), ("tomorrow", "is not a date"),
                                            ("2999-01-01", "in the future")])
def test_the_command_refuses_a_bad_day_naming_the_option(db, value, message):
    with pytest.raises(CommandError, match=f"--as-of: .*{message}"):
        call_command("club_liability", "--as-of", value)


@pytest.mark.parametrize("language, title", [("en", "Points liability"), ("fa", "تعهد امتیازها"), ("ar", "التزامات النقاط")])
def test_the_report_shows_the_figures_to_a_club_manager(ledger, client, club_manager, language, title):
    StaffPreference.objects.create(user=club_manager, language=language)
    client.force_login(club_manager)
    page = client.get(reverse(REPORT), {"as_of": "2026-06-30"})
    assert page.status_code == 200
    html = page.content.decode()
    assert title in html
    assert '<bdi dir="ltr">320</bdi>' in html and '<bdi dir="ltr">60</bdi>' in html
    assert html.count('<svg class="chart"') == 1 and 'dir="ltr"' in html.split('<svg class="chart', 1)[1][:200]
    if language != "en":
        assert f'<html lang="{language}" dir="rtl">' in html
        report = html.split('id="content-main"', 1)[1]  # the report, not the admin's navigation
        headers = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', report)
        assert headers and not [text for text in headers if re.search("[A-Za-z]", text)], headers


def test_the_report_refuses_a_bad_day_with_a_400_naming_the_field(db, client, club_manager):
    client.force_login(club_manager)
    page = client.get(reverse(REPORT), {"as_of": "2026-13-01"})
    assert page.status_code == 400
    assert "As of" in page.content.decode() and "is not a date" in page.content.decode()


def test_the_report_is_forbidden_without_the_permission(db, client, marketing_user, support_user):
    for user in (marketing_user, support_user):
        client.force_login(user)
        assert client.get(reverse(REPORT)).status_code == 403


def test_the_report_takes_the_same_queries_whatever_the_size_of_the_club(
    ledger, client, club_manager, django_assert_num_queries, make_member
):
    client.force_login(club_manager)
    client.get(reverse(REPORT))  # warm the session and permission caches (and store the snapshots it reads)
    # session, user, permissions (user's and groups'), the latest snapshot's day, the snapshots (with their tiers)
    with django_assert_num_queries(6):
        assert client.get(reverse(REPORT)).status_code == 200
    for index in range(5):
        member = make_member(first_name=f"More {index}")
        services.points_adjust(member=member, points=10 + index, reason="test", by=None)
    services.liability_snapshot_store(day=date(2026, 7, 14))
    with django_assert_num_queries(6):
        assert client.get(reverse(REPORT)).status_code == 200


# --- The nightly snapshot the admin page reads (club.services.liability) ------------------------------------------

RECOMPUTE = "admin:club_pointsliability_recompute"


def _all_figures(liability):
    """Every figure of every row, the published ones and the 12-month counts behind the rates."""
    def figures(part):
        return {**part.figures(), "earned": part.earned_points, "redeemed": part.redeemed_points, "expired": part.expired_points}

    return {"as_of": liability.as_of, "total": figures(liability.total),
            "tiers": [(row.tier, figures(row.figures)) for row in liability.tiers]}


def test_the_nightly_job_stores_yesterday_exactly_as_the_live_report_per_tier_and_in_total(ledger, settings):
    settings.CLUB_POINT_VALUE = Decimal("0.05")
    result = run_job("club.liability_snapshot", date(2026, 7, 1))
    assert result["day"] == "2026-06-30" and result["outstanding_points"] == 320
    stored = liability_snapshots([AS_OF])[AS_OF]
    assert _all_figures(stored.liability) == _all_figures(club_liability(as_of=AS_OF))
    assert stored.liability.as_dict() == club_liability(as_of=AS_OF).as_dict()
    total = PointsLiabilitySnapshot.objects.get(day=AS_OF, total=True)
    assert (total.tier, total.outstanding_points, total.liability_value, total.redemption_rate) == (
        None, 320, Decimal("19.00"), 50 / 310)
    assert total.audit_source.startswith("job")
    # The month ends before it are stored too, each once, each as the live report reads it.
    assert result["month_ends_filled"] == [day.isoformat() for day in month_ends(AS_OF)[:-1]]
    for day in (date(2025, 8, 31), date(2026, 4, 30)):
        assert _all_figures(liability_snapshots([day])[day].liability) == _all_figures(club_liability(as_of=day))
    assert run_job("club.liability_snapshot", date(2026, 7, 1))["month_ends_filled"] == []


def test_re_running_a_day_replaces_its_rows(ledger, settings):
    settings.CLUB_POINT_VALUE = Decimal("0.05")
    today = date(2026, 7, 15)
    services.liability_snapshot_store(day=today)
    rows = PointsLiabilitySnapshot.objects.filter(day=today).count()
    services.points_adjust(member=ledger["ben"], points=1000, reason="goodwill", by=None)
    services.liability_snapshot_store(day=today)
    assert PointsLiabilitySnapshot.objects.filter(day=today).count() == rows == 1 + 4  # every member, four tiers
    assert liability_snapshots([today])[today].liability.as_dict() == club_liability(as_of=today).as_dict()
    assert PointsLiabilitySnapshot.objects.get(day=today, total=True).outstanding_points == 1375 + 1000


def test_the_command_stores_a_day_with_store(ledger):
    out = StringIO()
    call_command("club_liability", "--as-of", "2026-06-30", "--json", "--store", stdout=out)
    assert json.loads(out.getvalue())["outstanding_points"] == 320
    row = PointsLiabilitySnapshot.objects.get(day=AS_OF, total=True)
    assert row.outstanding_points == 320 and row.audit_source == "command: club_liability"
    call_command("club_liability", "--as-of", "2026-06-30", stdout=StringIO())  # without --store: reads only
    assert PointsLiabilitySnapshot.objects.filter(day=AS_OF).count() == 5


def test_the_report_shows_the_stored_snapshot_and_when_it_was_computed(ledger, client, club_manager):
    services.liability_snapshot_store(day=date(2026, 7, 14))
    PointsLiabilitySnapshot.objects.filter(day=date(2026, 7, 14), total=True).update(outstanding_points=123456)
    client.force_login(club_manager)
    html = client.get(reverse(REPORT)).content.decode()
    assert '<bdi dir="ltr">123,456</bdi>' in html  # what was stored, not the ledger
    assert "As of" in html and f"<bdi>{local_datetime(PointsLiabilitySnapshot.objects.get(day=date(2026, 7, 14), total=True).computed_at)}</bdi>" in html
    assert "Computed live" not in html
    # The trend's month ends were computed once and stored.
    assert set(PointsLiabilitySnapshot.objects.filter(total=True).values_list("day", flat=True)) == set(
        month_ends(date(2026, 7, 14)))
    # The recompute form is a form of its own, not inside the day's form.
    day_form = html.split('<form method="get"', 1)[1].split("</form>", 1)[0]
    assert "<form" not in day_form and 'id="liability-recompute"' in html and "csrfmiddlewaretoken" in html


def test_the_report_stores_yesterday_when_nothing_is_stored_yet(ledger, client, club_manager):
    client.force_login(club_manager)
    html = client.get(reverse(REPORT)).content.decode()
    assert "<bdi>July 14, 2026</bdi>" in html  # the day in the reader's language and calendar
    assert PointsLiabilitySnapshot.objects.filter(day=date(2026, 7, 14), total=True).exists()


def test_another_day_is_computed_live_from_the_ledger_and_says_so(ledger, client, club_manager):
    services.liability_snapshot_store(day=date(2026, 7, 14))
    PointsLiabilitySnapshot.objects.update(outstanding_points=123456)
    client.force_login(club_manager)
    html = client.get(reverse(REPORT), {"as_of": "2026-06-30"}).content.decode()
    assert "Computed live from the ledger" in html and '<bdi dir="ltr">320</bdi>' in html and "123,456" not in html
    assert 'id="liability-recompute"' not in html
    assert not PointsLiabilitySnapshot.objects.filter(day=AS_OF).exists()  # nothing stored for a chosen day


def test_a_club_manager_recomputes_today_with_a_post_on_the_analytics_queue(ledger, client, club_manager, celery_eager):
    services.liability_snapshot_store(day=date(2026, 7, 14))
    client.force_login(club_manager)
    assert client.get(reverse(RECOMPUTE)).status_code == 405
    response = client.post(reverse(RECOMPUTE))
    assert response.status_code == 302 and response["Location"] == reverse(REPORT)
    row = PointsLiabilitySnapshot.objects.get(day=date(2026, 7, 15), total=True)
    assert (row.outstanding_points, row.computed_by, row.audit_source) == (
        1375, club_manager, "task: club.tasks.liability_snapshot_store")
    html = client.get(reverse(REPORT)).content.decode()
    assert "<bdi>July 15, 2026</bdi>" in html and "as of July 15, 2026" in html and "in the background" in html


def test_the_report_reads_in_the_persian_calendar_for_a_persian_reader(ledger, client, club_manager):
    services.liability_snapshot_store(day=date(2026, 7, 14))
    client.force_login(club_manager)
    client.cookies["django_language"] = "fa"
    html = client.get(reverse(REPORT), HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    assert "<bdi>۲۳ تیر ۱۴۰۵</bdi>" in html  # 14 July 2026 is 23 Tir 1405
    assert "2026-07-14" not in html and 'value="۱۴۰۵/۰۴/۲۳"' in html  # the date box too: one calendar on the page


def test_a_persian_reader_chooses_the_day_in_the_persian_calendar(ledger, client, club_manager):
    client.force_login(club_manager)
    client.cookies["django_language"] = "fa"
    html = client.get(reverse(REPORT), {"as_of": "۱۴۰۵/۰۴/۲۰"}, HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    assert "<bdi>۲۰ تیر ۱۴۰۵</bdi>" in html and 'value="۱۴۰۵/۰۴/۲۰"' in html  # 11 July 2026
    assert client.get(reverse(REPORT), {"as_of": "2026-07-11"}, HTTP_ACCEPT_LANGUAGE="fa").context["as_of"] == date(2026, 7, 11)

    response = client.get(reverse(REPORT), {"as_of": "۱۴۰۴/۱۲/۳۰"}, HTTP_ACCEPT_LANGUAGE="fa")  # 1404 is no leap year
    assert response.status_code == 400
    assert "یک تاریخ درست وارد کنید، مثلاً ۱۴" in response.content.decode()
    assert 'value="۱۴۰۴/۱۲/۳۰"' in response.content.decode()  # what was typed, to correct


def test_recomputing_with_the_broker_down_stores_it_in_the_request(ledger, client, club_manager, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(liability_task, "delay", down)
    client.force_login(club_manager)
    response = client.post(reverse(RECOMPUTE), follow=True)
    assert response.status_code == 200 and "was recomputed from the ledger" in response.content.decode()
    row = PointsLiabilitySnapshot.objects.get(day=date(2026, 7, 15), total=True)
    assert (row.outstanding_points, row.computed_by, row.audit_source) == (1375, club_manager, "admin")


def test_recomputing_needs_the_permission_and_the_csrf_token(ledger, client, club_manager, marketing_user, support_user):
    for user in (marketing_user, support_user):
        client.force_login(user)
        assert client.post(reverse(RECOMPUTE)).status_code == 403
    assert not PointsLiabilitySnapshot.objects.exists()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(club_manager)
    assert strict.post(reverse(RECOMPUTE)).status_code == 403
    assert not PointsLiabilitySnapshot.objects.exists()


def test_the_expiring_figures_match_the_fifo_of_every_credit_on_a_random_ledger(make_member, settings, time_machine):
    """The one pass sums max(0, credits expiring before the horizon - the member's spending) per member; the
    reference is what is left of each credit, FIFO, as the expiry job reads it (`credits_with_remaining`)."""
    rng = random.Random(18)
    start = date(2026, 1, 1)
    time_machine.move_to(local(2026, 1, 1, 8), tick=False)
    members = [make_member(first_name=f"Random {index}") for index in range(4)]
    for offset in range(150):
        day = start + timedelta(days=offset)
        time_machine.move_to(local(day.year, day.month, day.day, 3), tick=False)
        if offset % 5 == 0:
            services.points_expire_due(run_date=day)
        time_machine.move_to(local(day.year, day.month, day.day, 12), tick=False)
        for index, member in enumerate(members):
            member.refresh_from_db()
            roll = rng.random()
            if roll < 0.3:
                # Expiries out of the order of earning, so FIFO (by expiry) is not the order of the rows.
                settings.CLUB_POINTS_EXPIRY_DAYS = rng.choice([20, 45, 75, 120])
                services.points_award(member=member, points=rng.randint(1, 90), source="event",
                                      idempotency_key=f"r{offset}-{index}")
            elif roll < 0.45 and member.points_balance > 0:
                services.points_spend(member=member, points=rng.randint(1, max(1, member.points_balance // 3)),
                                      idempotency_key=f"s{offset}-{index}")
            elif roll < 0.5 and member.points_balance > 0:
                services.points_adjust(member=member, points=-rng.randint(1, max(1, member.points_balance // 4)),
                                      reason="fix", by=None)
        if offset % 25 == 24:  # the end of the day: every row is in
            data = club_liability(as_of=day).as_dict()
            for days in (30, 60, 90):
                end = day_end(day + timedelta(days=days))
                expected = sum(credit_remaining(credit) for credit in credits_with_remaining()
                               if credit.expires_at is not None and credit.expires_at < end)
                assert data[f"expiring_{days}d"] == expected, (day, days)
            assert data["outstanding_points"] == sum(
                PointsTransaction.objects.values_list("points", flat=True))
    assert PointsTransaction.objects.filter(kind="expire").exists()
