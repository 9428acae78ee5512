"""A club manager, in each admin language, reads what the club's points are worth, recomputes them and looks at
another day, by clicking in Chromium (issue 18: "finance reads what the club's points are worth today")."""

from datetime import timedelta

import pytest
from django.utils import formats, timezone, translation
from playwright.sync_api import expect

from club import services as club
from club.models import PointsLiabilitySnapshot, Tier
from core.templatetags.localized import local_date
from crm import services as crm
from tests.e2e.test_campaigns import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration, pytest.mark.usefixtures("celery_eager")]


def figure(value: int, language: str) -> str:
    """As the admin writes a figure in this language (Django's formats, grouped)."""
    with translation.override(language):
        return formats.number_format(value, 0, force_grouping=True)


def _(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.mark.parametrize("language", ["en", "fa", "ar"])
def test_a_club_manager_reads_recomputes_and_looks_back_at_the_points_liability(
        live_server, desktop, shot, club_manager, settings, language):
    settings.CLUB_POINT_VALUE = 2
    Tier.objects.create(name="Bronze", rank=1, threshold=0)
    for number, points in ((1, 1200), (2, 300)):
        member = club.member_enroll(customer=crm.customer_create(first_name=f"M{number}", email=f"m{number}@example.com"))
        club.points_adjust(member=member, points=points, reason="welcome", by=None)
    sign_in(desktop, live_server, club_manager, language)

    desktop.goto(live_server.url + "/admin/")
    desktop.get_by_role("link", name=_(language, "Points liability")).first.click()
    expect(desktop.get_by_role("heading", name=_(language, "Points liability"), exact=True)).to_be_visible()
    yesterday = timezone.localdate() - timedelta(days=1)  # nothing stored yet: yesterday's, as the nightly job would
    expect(desktop.locator("#liability-source")).to_contain_text(local_date(yesterday, language))
    expect(desktop.locator("#liability-totals .value").nth(1)).to_have_text(figure(0, language))  # earned today
    expect(desktop.locator("svg").first).to_be_visible()  # the trend over 12 month ends

    desktop.get_by_role("button", name=_(language, "Recompute now")).click()  # today's figures, from the ledger
    expect(desktop.locator(".messagelist li")).to_be_visible()
    expect(desktop.locator("#liability-source")).to_contain_text(local_date(timezone.localdate(), language))
    expect(desktop.locator("#liability-totals .value").nth(1)).to_have_text(figure(1500, language))
    expect(desktop.locator("#liability-totals .value").first).to_have_text(figure(3000, language))  # 2 a point
    assert PointsLiabilitySnapshot.objects.filter(day=timezone.localdate(), total=True, outstanding_points=1500).exists()
    shot(desktop, f"liability-{language}")

    desktop.fill("#id_as_of", yesterday.isoformat())  # another day: computed live from the ledger, and said so
    desktop.get_by_role("button", name=_(language, "Show")).click()
    expect(desktop.locator("#liability-source")).to_contain_text(
        _(language, "Computed live from the ledger for the day you chose (exact, as the ledger stands now)."))
    expect(desktop.locator("#liability-totals .value").nth(1)).to_have_text(figure(0, language))
    shot(desktop, f"liability-{language}-live")
