"""Where a customer's picks appear, in Chromium: support staff find a customer and read the Recommendations
panel of their page; a member opens their club card on a phone, in Persian, and sees "Picked for you"."""

import pytest
from django.urls import reverse
from django.utils import translation

from club import services as club
from crm import services as crm
from crm.models import Recommendation
from tests.e2e.test_campaigns import sign_in
from tests.factories import TierFactory
from tests.factories.recommendations import give_picks, product

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def _(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture
def picks_of_sara(db):
    sara = crm.customer_create(first_name="سارا", last_name="Ahmadi", email="sara.picks@example.com", language="fa")
    items = [
        product("GRIND", "Hand grinder", price="1250", url="https://shop.example/grinder"),
        product("FILT", "فیلتر کاغذی ۱۰۰ عددی", price="12.5"),
        product("BEANS", "Beans 250g", price="9"),
        product("OLD", "Old kettle", active=False),
    ]
    give_picks(sara, items[0], items[3], items[1], items[2], reason=Recommendation.Reason.BOUGHT_TOGETHER)
    return sara


@pytest.mark.parametrize("language", ["en", "fa"])
def test_support_opens_a_customer_and_reads_their_recommendations(live_server, desktop, shot, support_user,
                                                                   picks_of_sara, language):
    sign_in(desktop, live_server, support_user, language)
    desktop.goto(live_server.url + reverse("admin:crm_customer_changelist"))
    desktop.fill("#searchbar", "sara.picks@example.com")
    with desktop.expect_navigation():
        desktop.press("#searchbar", "Enter")
    with desktop.expect_navigation():
        desktop.locator("#result_list tbody tr a").first.click()

    panel = desktop.locator("#crm-recommendations")
    expect(panel.get_by_role("heading", name=_(language, "Recommendations"))).to_be_visible()
    rows = panel.locator("tr.crm-recommendation")
    expect(rows).to_have_count(3)  # the kettle is off sale
    expect(rows.nth(0)).to_contain_text("Hand grinder")
    expect(rows.nth(0)).to_contain_text(_(language, "Bought together with their products"))
    expect(rows.nth(0).get_by_role("link", name="Hand grinder")).to_have_attribute("href", "https://shop.example/grinder")
    expect(rows.nth(1)).to_contain_text("فیلتر کاغذی")
    expect(panel).not_to_contain_text("Old kettle")
    shot(desktop, f"customer-recommendations-{language}")


def test_a_member_sees_picked_for_you_on_the_club_card_on_a_phone_in_persian(live_server, phone, shot, picks_of_sara):
    TierFactory(name="Bronze", rank=1, threshold=0)
    member = club.member_enroll(customer=picks_of_sara)
    phone.goto(live_server.url + club.card_link(member))
    assert phone.get_attribute("html", "dir") == "rtl" and phone.get_attribute("html", "lang") == "fa"

    section = phone.locator("section.picks")
    heading = section.get_by_role("heading", name=_("fa", "Picked for you"))
    heading.scroll_into_view_if_needed()
    expect(heading).to_be_visible()
    picks = section.locator("li.pick")
    expect(picks).to_have_count(3)
    expect(picks.nth(0).get_by_role("link", name="Hand grinder")).to_have_attribute("href", "https://shop.example/grinder")
    expect(picks.nth(0).locator(".price")).to_have_text("۱٬۲۵۰")  # Persian digits and separator
    expect(picks.nth(1).locator(".price")).to_have_text("۱۲٫۵۰")
    expect(section).not_to_contain_text("Old kettle")

    # Right to left on a phone: each name starts at the right edge, its price sits at the left, and nothing
    # makes the page scroll sideways.
    name_box, price_box = picks.nth(0).locator("h3").bounding_box(), picks.nth(0).locator(".price").bounding_box()
    assert price_box["x"] + price_box["width"] <= name_box["x"]
    assert phone.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shot(phone, "club-card-picks-fa")
