"""A marketer reads the retention dashboard and a segment's page in Chromium, in each admin language.

The page is opened by clicking (the admin index, then the segment's link); the test asserts what a
person reads on it (plain column names, the legend, charts with axes) and saves screenshots."""

import random
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from django.urls import reverse
from django.utils import timezone

from analytics.services import snapshots
from campaigns.segments import segment_save
from tests.e2e.test_campaigns import LANGUAGES, _, sign_in
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


@pytest.fixture
def shop(place_order):
    """Thirty customers ordering now and then over two years; snapshots of the last six quarters."""
    rng = random.Random(15)
    now = timezone.now()
    for index in range(30):
        customer = CustomerFactory(city="Tehran" if index % 3 else "Shiraz")
        day = rng.randint(30, 720)
        while day > 1:
            place_order(customer, at=now - timedelta(days=day), total=str(rng.randint(20, 200)))
            day -= rng.randint(20, 200)
    segment_save(slug="tehran", name="Tehran", rules={"all": [{"field": "city", "op": "eq", "value": "Tehran"}]})
    segment_save(slug="at-risk", name="At risk", rules={"all": [{"field": "lifecycle_stage", "op": "eq", "value": "at_risk"}]})
    snapshots.snapshots_refresh(today=timezone.localdate(), periods=6, kinds=["quarter"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_marketer_reads_the_retention_dashboard_and_a_segment_page(live_server, desktop, shot, marketing_user, shop,
                                                                      language):
    page = desktop  # checks that every page it loads is a sound HTML5 document
    sign_in(page, live_server, marketing_user, language)
    page.goto(live_server.url + reverse("admin:index"))
    page.get_by_role("link", name=_(language, "Retention dashboard"), exact=True).first.click()
    expect(page.locator("#retention-table thead th").first).to_be_visible()  # the page has loaded
    headers = [text.strip() for text in page.locator("#retention-table thead th").all_text_contents()]
    for name in ("Active at the start", "Ordered again", "Active at the end", "Retention", "Churn"):
        assert _(language, name) in headers
    assert page.locator("#why-active-differs").is_visible() and page.locator("#why-segment-differs").is_visible()
    sparkline = page.locator("#retention-table svg.sparkline").first
    assert sparkline.bounding_box()["width"] >= 120  # a trend a person can read, not 25 px
    assert sparkline.locator("g.point title").count() > 0  # each period's value on hover
    shot(page, f"retention-dashboard-{language}")
    heading = page.locator("#content h2").first
    first_heading = heading.inner_text()
    page.get_by_role("link", name=_(language, "previous"), exact=False).first.click()  # the quarter before
    expect(heading).not_to_have_text(first_heading)
    if language == "fa":  # the period's name in the digits of the Jalali dates beside it ("فصل ۳ سال ۲۰۲۶")
        assert not re.search("[0-9]", first_heading + heading.inner_text()), first_heading
    shot(page, f"retention-dashboard-previous-{language}")

    page.locator("#retention-table").get_by_role("link", name="Tehran").click()
    chart = page.locator("svg.chart:not(.sparkline)").first
    assert chart.get_attribute("dir") == "ltr" and chart.locator("text.tick").count() >= 3
    assert page.locator("#figures-by-period thead th").all_text_contents()[1].strip() == _(language, "Active at the start")
    shot(page, f"retention-segment-{language}")

    page.goto(live_server.url + reverse("admin:analytics_retentiondashboard_changelist")
              + "?period=custom&start=2020-01-01&end=2020-02-01")
    expect(page.locator("#not-computed")).to_be_visible()
    assert page.locator("#retention-table svg").count() == 0
    shot(page, f"retention-dashboard-not-computed-{language}")
