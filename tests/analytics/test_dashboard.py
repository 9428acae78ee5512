"""The retention dashboard and each segment's analytics page in the admin."""

import re
from datetime import date, datetime, timezone as dt_timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics import tasks
from analytics.models import AnalyticsRun, CustomerScore, PredictionFit, SegmentMetricSnapshot
from analytics.services import snapshots
from analytics.services.scores import rfm_refresh
from campaigns.models import Segment
from campaigns.segments import segment_save
from core.models import StaffPreference
from crm.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "admin:analytics_retentiondashboard_changelist"
QUARTER = {"period": "quarter", "start": "2026-04-01"}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=dt_timezone.utc)


@pytest.fixture
def shop(place_order, settings):
    settings.CRM_ACTIVITY_WINDOW_DAYS = 90
    people = {name: CustomerFactory(first_name=name, city="Tehran" if name in "AB" else "Shiraz") for name in "ABC"}
    place_order(people["A"], at=at(2026, 2, 15), total="100")
    place_order(people["A"], at=at(2026, 5, 10), total="50")
    place_order(people["B"], at=at(2026, 3, 20), total="30")
    place_order(people["C"], at=at(2026, 4, 1), total="20")
    segment_save(slug="tehran", name="Tehran", rules={"all": [{"field": "city", "op": "eq", "value": "Tehran"}]})
    return people


def add_segments(count: int) -> None:
    for n in range(count):
        segment_save(slug=f"city-{n}", name=f"City {n}", rules={"all": [{"field": "city", "op": "eq", "value": f"C{n}"}]})


def test_a_marketer_reads_retention_and_churn_of_every_segment(client, marketing_user, shop):
    snapshots.snapshots_refresh(today=date(2026, 8, 15), periods=2, kinds=["quarter"])
    client.force_login(marketing_user)
    page = client.get(reverse(DASHBOARD), QUARTER)
    assert page.status_code == 200
    html = page.content.decode()
    assert "All customers" in html and "Tehran" in html
    # All customers in Q2 2026: S = A, B; R = A -> 50% retention, 50% churn; Q1: nobody active at its start.
    row = html.split('id="retention-table"')[1]
    assert "50.0%" in row and "<svg" in row
    assert reverse("admin:analytics_dashboard_segment", args=["all"]) in html


def test_the_change_against_the_previous_period_has_an_arrow_a_colour_and_words(client, marketing_user, shop):
    SegmentMetricSnapshot.objects.create(period="quarter", start=date(2026, 1, 1), end=date(2026, 4, 1), window_days=90,
                                         size=3, customers_at_start=4, retained=3, retention_rate=0.75, churn_rate=0.25)
    SegmentMetricSnapshot.objects.create(period="quarter", start=date(2026, 4, 1), end=date(2026, 7, 1), window_days=90,
                                         size=3, customers_at_start=2, retained=1, retention_rate=0.5, churn_rate=0.5)
    client.force_login(marketing_user)
    html = client.get(reverse(DASHBOARD), QUARTER).content.decode()
    assert "change-down" in html and "▼" in html and "down 25.0 points on the previous period" in html


def test_the_dashboard_query_count_does_not_grow_with_the_segments(client, marketing_user, shop, django_assert_num_queries):
    snapshots.snapshots_refresh(today=date(2026, 8, 15), periods=12, kinds=["quarter"])
    client.force_login(marketing_user)
    client.get(reverse(DASHBOARD), QUARTER)  # warm the session and permission caches
    # session, user, permissions (user's and groups'), the snapshots (one query), the segments, the last run
    with django_assert_num_queries(7):
        assert client.get(reverse(DASHBOARD), QUARTER).status_code == 200
    add_segments(6)
    snapshots.snapshots_refresh(today=date(2026, 8, 15), periods=12, kinds=["quarter"])
    assert SegmentMetricSnapshot.objects.filter(period="quarter").count() == 12 * 8
    with django_assert_num_queries(7):
        page = client.get(reverse(DASHBOARD), QUARTER)
    assert page.content.decode().count('<th scope="row">') == 8


@pytest.mark.parametrize("who", ["support_user", "outsider"])
def test_support_and_outsiders_cannot_open_the_dashboard(client, request, who, shop):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse(DASHBOARD)).status_code == 403
    assert client.get(reverse("admin:analytics_dashboard_segment", args=["all"])).status_code == 403
    assert client.post(reverse("admin:analytics_dashboard_recompute")).status_code == 403


def test_the_dashboard_is_linked_from_the_admin_index_and_the_segment_list(client, marketing_user, shop):
    snapshots.snapshots_refresh(today=timezone_today(), periods=1, kinds=["quarter"])
    client.force_login(marketing_user)
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse(DASHBOARD) in index and "Retention dashboard" in index
    segments = client.get(reverse("admin:campaigns_segment_changelist")).content.decode()
    tehran = Segment.objects.get(slug="tehran")
    assert reverse("admin:analytics_dashboard_segment", args=[tehran.pk]) in segments
    assert "retention (last quarter)" in segments.lower()


def test_the_segment_list_reads_the_latest_snapshot_in_one_query(client, marketing_user, shop, django_assert_max_num_queries):
    SegmentMetricSnapshot.objects.create(segment=Segment.objects.get(slug="tehran"), period="quarter", start=date(2026, 4, 1),
                                         end=date(2026, 7, 1), window_days=90, retention_rate=0.4, churn_rate=0.6)
    SegmentMetricSnapshot.objects.create(segment=Segment.objects.get(slug="tehran"), period="quarter", start=date(2026, 1, 1),
                                         end=date(2026, 4, 1), window_days=90, retention_rate=0.9, churn_rate=0.1)
    client.force_login(marketing_user)
    html = client.get(reverse("admin:campaigns_segment_changelist")).content.decode()
    assert "40.0%" in html and "60.0%" in html and "90.0%" not in html
    add_segments(5)
    client.get(reverse("admin:campaigns_segment_changelist"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("admin:campaigns_segment_changelist"))
    add_segments(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("admin:campaigns_segment_changelist"))


def test_a_segment_page_shows_its_charts_cohorts_rfm_grid_and_likely_churners(client, marketing_user, shop, settings):
    settings.ANALYTICS_LIKELY_CHURN_P_ALIVE = 0.5
    snapshots.snapshots_refresh(today=date(2026, 8, 15), periods=3, kinds=["quarter"])
    rfm_refresh()
    CustomerScore.objects.filter(customer=shop["B"]).update(p_alive=0.1)
    tehran = Segment.objects.get(slug="tehran")
    client.force_login(marketing_user)
    page = client.get(reverse("admin:analytics_dashboard_segment", args=[tehran.pk]), QUARTER)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="cohort-heatmap"' in html and "background:hsl(" in html
    assert 'id="rfm-grid"' in html and "Champions" in html
    churners = html.split('id="churners"')[1]
    assert reverse("admin:crm_customer_change", args=[shop["B"].pk]) in churners
    assert reverse("admin:crm_customer_change", args=[shop["A"].pk]) not in churners
    assert html.count("<svg") >= 4  # retention, churn, active customers, lifecycle
    assert reverse("admin:analytics_dashboard_winback", args=[tehran.pk]) in html
    assert client.get(reverse("admin:analytics_dashboard_segment", args=["999999"])).status_code == 404
    assert client.get(reverse("admin:analytics_dashboard_segment", args=["all"]), QUARTER).status_code == 200


def test_win_back_makes_a_static_segment_of_the_likely_churners(client, marketing_user, shop, settings):
    settings.ANALYTICS_LIKELY_CHURN_P_ALIVE = 0.5
    CustomerScore.objects.create(customer=shop["A"], p_alive=0.9)
    CustomerScore.objects.create(customer=shop["B"], p_alive=0.2)
    CustomerScore.objects.create(customer=shop["C"], p_alive=0.1)  # not in Tehran
    tehran = Segment.objects.get(slug="tehran")
    client.force_login(marketing_user)
    reply = client.post(reverse("admin:analytics_dashboard_winback", args=[tehran.pk]))
    assert reply.status_code == 302
    created = Segment.objects.get(kind=Segment.Kind.STATIC, slug__startswith=f"win-back-{tehran.pk}-")
    assert list(Customer.objects.filter(segment_memberships__segment=created)) == [shop["B"]]
    assert f"segments={created.pk}" in reply["Location"] or reply["Location"].endswith(f"/{created.pk}/change/")


def test_recompute_now_runs_in_the_background_and_reports_progress(client, marketing_user, shop, settings,
                                                                     django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app

    app.conf.task_always_eager = True
    client.force_login(marketing_user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        reply = client.post(reverse("admin:analytics_dashboard_recompute") + "?period=quarter")
    assert reply.status_code == 302 and len(callbacks) == 1
    run = AnalyticsRun.objects.get()
    assert run.status == AnalyticsRun.Status.DONE and run.requested_by == marketing_user
    assert run.total == run.done == SegmentMetricSnapshot.objects.count() > 0
    status = client.get(reverse("admin:analytics_dashboard_run", args=[run.pk])).json()
    assert status == {"status": "done", "done": run.done, "total": run.total, "percent": 100, "error": ""}
    page = client.get(reverse(DASHBOARD)).content.decode()
    assert "Recompute now" in page and "Done" in page


def test_a_run_is_claimed_once(shop):
    run = AnalyticsRun.objects.create()
    first = tasks.recompute_snapshots(run.pk)
    assert "computed" in first
    assert tasks.recompute_snapshots(run.pk) == {"skipped": run.pk}


def test_a_custom_period_without_snapshots_says_so(client, marketing_user, shop):
    client.force_login(marketing_user)
    html = client.get(reverse(DASHBOARD), {"period": "custom", "start": "2026-04-01", "end": "2026-05-15"}).content.decode()
    assert "Not computed yet: figures for custom dates are computed only on request" in html
    table = html.split('id="retention-table"')[1].split("</table>")[0]
    assert "<svg" not in table and "Retention rate, last" not in table and "not computed yet" in table
    assert '<bdi dir="ltr">2026-04-01 – 2026-05-15</bdi>' in html  # keeps its order in a right-to-left sentence
    bad = client.get(reverse(DASHBOARD), {"period": "custom", "start": "2026-04-01", "end": "2026-03-01"}, follow=True)
    assert "The end must be after the start." in bad.content.decode()


def timezone_today():
    from django.utils import timezone

    return timezone.localdate()


def test_a_second_click_while_a_run_is_pending_queues_nothing(shop, marketing_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = snapshots.analytics_run_request(by=marketing_user)
        second = snapshots.analytics_run_request(by=marketing_user)
    assert first.pk == second.pk and AnalyticsRun.objects.count() == 1 and len(callbacks) == 1


def test_a_persian_marketer_reads_the_period_options_and_chart_titles_in_persian(client, marketing_user, shop):
    snapshots.snapshots_refresh(today=date(2026, 8, 15), periods=3, kinds=["quarter"])
    client.force_login(marketing_user)
    dashboard = client.get(reverse(DASHBOARD), QUARTER, HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    for english in (">Month<", ">Quarter<", ">Year<", ">Custom dates<"):
        assert english not in dashboard
    assert ">ماه<" in dashboard and ">فصل<" in dashboard
    tehran = Segment.objects.get(slug="tehran")
    page = client.get(reverse("admin:analytics_dashboard_segment", args=[tehran.pk]), QUARTER,
                      HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    shown = re.sub(r'value="[^"]*"', "", page)  # a random CSRF token may hold "Q2"
    assert "by quarter" not in shown and "Q2" not in shown
    assert "فصل ۲ سال ۲۰۲۶" in page or "فصل 2 سال 2026" in page
    assert '<h2><bdi dir="auto">فصل ۲ سال ۲۰۲۶</bdi></h2>' in page  # in Persian digits, as the dates beside it


def header_cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell).strip() for head in re.findall(r"<thead>(.*?)</thead>", html, re.S)
            for cell in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


def test_it_shows_no_chart_and_no_stray_caption_before_the_figures_are_computed(client, marketing_user, shop):
    client.force_login(marketing_user)
    dashboard_html = client.get(reverse(DASHBOARD), QUARTER).content.decode()
    table = dashboard_html.split('id="retention-table"')[1].split("</table>")[0]
    assert "<svg" not in table and "Retention rate, last" not in table
    assert "Not computed yet: closed months, quarters and years are computed every night" in dashboard_html
    segment_html = client.get(reverse("admin:analytics_dashboard_segment", args=["all"]), QUARTER).content.decode()
    assert "Not computed yet" in segment_html and 'id="figures-by-period"' not in segment_html
    assert "Retention rate" not in segment_html and "Churn rate" not in segment_html
    assert segment_html.count('<svg class="chart"') == 1  # the lifecycle stages of today, which need no snapshot


def test_the_tables_name_every_column_in_plain_words_and_explain_them(client, marketing_user, shop):
    snapshots.snapshots_refresh(today=date(2026, 8, 15), periods=2, kinds=["quarter"])
    client.force_login(marketing_user)
    dashboard_html = client.get(reverse(DASHBOARD), QUARTER).content.decode()
    headers = header_cells(dashboard_html)
    assert {"Active at the start", "Ordered again", "Active at the end", "Retention", "Churn"} <= set(headers)
    assert 'id="why-active-differs"' in dashboard_html and 'id="why-segment-differs"' in dashboard_html
    assert "last counted order between 90 and 180 days ago" in dashboard_html
    # All customers in Q2 2026: 3 customers; S = A, B; R = A; E = A (C's order of April 1 is 91 days before July 1).
    row = dashboard_html.split('id="retention-table"')[1].split("</tr>")[1]
    assert re.findall(r'<td class="num">(\d+)</td>', row)[:4] == ["3", "2", "1", "1"]
    assert "<title>2026 Q2: 50%</title>" in row  # the sparkline says each period's value on hover
    tehran = Segment.objects.get(slug="tehran")
    segment_html = client.get(reverse("admin:analytics_dashboard_segment", args=[tehran.pk]), QUARTER).content.decode()
    headers = header_cells(segment_html)
    assert {"New customers", "Classic retention rate"} <= set(headers)
    assert not {"S", "R", "N", "E", "Classic CRR", "R \\ F", "P(alive)", "M0"} & set(headers)
    assert "It can pass 100% because customers who come back after a pause" in segment_html
    assert 'id="why-segment-differs"' in segment_html  # a segment by rules: its members are today's


def test_the_dashboard_in_persian_has_no_english_column_names(client, marketing_user, shop):
    snapshots.snapshots_refresh(today=date(2026, 8, 15), periods=2, kinds=["quarter"])
    rfm_refresh()
    StaffPreference.objects.create(user=marketing_user, language="fa")
    client.force_login(marketing_user)
    for url in (reverse(DASHBOARD), reverse("admin:analytics_dashboard_segment", args=["all"])):
        html = client.get(url, QUARTER).content.decode()
        assert '<html lang="fa" dir="rtl">' in html
        headers = header_cells(html)
        assert headers and not [text for text in headers if re.search("[A-Za-z]", text)], headers
        assert "What the columns mean" not in html and " Q2" not in html
        assert 'dir="ltr"' in html.split('<svg class="chart', 1)[1][:200]  # the charts stay left to right


@pytest.mark.parametrize("language", ["fa", "ar"])
def test_the_likely_churners_read_in_plain_words_without_model_codes(client, marketing_user, shop, settings, language):
    settings.ANALYTICS_LIKELY_CHURN_P_ALIVE = 0.5
    rfm_refresh()
    CustomerScore.objects.filter(customer=shop["B"]).update(p_alive=0.1)
    PredictionFit.objects.create(calibration_end=datetime(2026, 8, 1, tzinfo=dt_timezone.utc), customers=3)
    StaffPreference.objects.create(user=marketing_user, language=language)
    client.force_login(marketing_user)
    html = client.get(reverse("admin:analytics_dashboard_segment", args=["all"]), QUARTER).content.decode()
    churners = html.split('id="churners"')[0].rsplit("<section", 1)[1] + html.split('id="churners"')[1]
    assert 'id="rfm-grid"' in html
    page = html.split("<body", 1)[1]  # what the marketer sees, tooltips included
    assert not [code for code in ("P(alive)", "CLV", "RFM", "BG/NBD") if code in page]
    assert {"fa": "احتمال ادامه خرید کمتر از", "ar": "احتمال الاستمرار في الشراء أقل من"}[language] in churners


def test_a_persian_reader_chooses_a_custom_period_in_the_persian_calendar(client, marketing_user):
    client.force_login(marketing_user)
    client.cookies["django_language"] = "fa"
    # 1 Farvardin to 1 Tir 1405: 21 March to 22 June 2026.
    page = client.get(reverse(DASHBOARD), {"period": "custom", "start": "۱۴۰۵/۰۱/۰۱", "end": "1405/04/01"},
                      HTTP_ACCEPT_LANGUAGE="fa")

    selection = page.context["selection"]
    assert (selection.start, selection.end) == (date(2026, 3, 21), date(2026, 6, 22))
    html = page.content.decode()
    assert 'value="۱۴۰۵/۰۱/۰۱"' in html and 'value="۱۴۰۵/۰۴/۰۱"' in html and 'inputmode="numeric"' in html
    heading = html.split("<h2>", 1)[1].split("</h2>", 1)[0]
    assert "۱۴۰۵/۰۱/۰۱ – ۱۴۰۵/۰۴/۰۱" in heading and "۱ فروردین ۱۴۰۵" in heading and "2026" not in heading
    # An ISO date (a bookmark) still works; a day that does not exist says how to write one.
    iso = client.get(reverse(DASHBOARD), {"period": "custom", "start": "2026-03-21", "end": "2026-06-22"},
                     HTTP_ACCEPT_LANGUAGE="fa")
    assert (iso.context["selection"].start, iso.context["selection"].end) == (date(2026, 3, 21), date(2026, 6, 22))
    bad = client.get(reverse(DASHBOARD), {"period": "custom", "start": "۱۴۰۵/۱۳/۰۱", "end": "1405/04/01"},
                     HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    assert "یک تاریخ درست وارد کنید، مثلاً ۱۴" in bad


def test_an_english_reader_keeps_the_browsers_date_boxes(client, marketing_user):
    client.force_login(marketing_user)
    html = client.get(reverse(DASHBOARD), {"period": "custom", "start": "2026-03-21", "end": "2026-06-22"},
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'type="date" name="start" value="2026-03-21"' in html and 'type="date" name="end" value="2026-06-22"' in html


def test_a_persian_marketer_reads_every_figure_in_persian_digits(client, marketing_user, shop):
    # (Arabic is written with Western digits here, as Django's ar locale does: core.templatetags.localized.)
    snapshots.snapshots_refresh(today=date(2026, 8, 15), periods=2, kinds=["quarter"])
    rfm_refresh()
    StaffPreference.objects.create(user=marketing_user, language="fa")
    client.force_login(marketing_user)
    dashboard_html = client.get(reverse(DASHBOARD), QUARTER).content.decode()
    # All customers in Q2 2026: 3 customers; 2 active at the start, 1 ordered again, 1 active at the end: 50% retention.
    row = dashboard_html.split('id="retention-table"')[1].split("</tr>")[1].split('<td class="trend">')[0]
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r'<td class="num[^"]*"[^>]*>(.*?)</td>', row, re.S)]
    digits = "۰۱۲۳۴۵۶۷۸۹"
    assert cells[:4] == [digits[3], digits[2], digits[1], digits[1]]
    assert cells[4].startswith(digits[5] + digits[0]) and not re.search("[0-9]", "".join(cells[:6]))
    segment_html = client.get(reverse("admin:analytics_dashboard_segment", args=["all"]), QUARTER).content.decode()
    figures = segment_html.split('class="figure-cards"')[1].split('<div class="analytics-panels">')[0]
    table = segment_html.split('id="figures-by-period"')[1].split("</table>")[0]
    rfm = segment_html.split('<table class="rfm-grid"')[1].split("</table>")[0]
    cohorts = segment_html.split('id="cohort-heatmap"')[1].split("</table>")[0]
    assert "۱۰۰%" in cohorts  # the cohort of February's first month
    for part in (figures, table.split("</thead>")[1], re.sub(r'style="[^"]*"', "", rfm),
                 re.sub(r'style="[^"]*"', "", cohorts)):
        assert not re.search("[0-9]", re.sub(r"<[^>]+>", "", part)), part


@pytest.mark.parametrize("language, back, forward", [("en", "&larr;", "&rarr;"), ("fa", "&rarr;", "&larr;"), ("ar", "&rarr;", "&larr;")])
def test_the_previous_and_next_arrows_point_the_way_the_page_reads(client, marketing_user, shop, language, back, forward):
    StaffPreference.objects.create(user=marketing_user, language=language)
    client.force_login(marketing_user)
    html = client.get(reverse(DASHBOARD), QUARTER).content.decode()
    previous = re.search(r'id="previous-period">(.*?)</a>', html).group(1)
    following = re.search(r'id="next-period">(.*?)</a>', html).group(1)
    assert previous.startswith(back) and following.endswith(forward)
