"""A club manager, in each admin language, creates a tier and an offer in English and Persian and adjusts a
member's points, by clicking in Chromium; the Persian member then reads all of it on their card, in Persian."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from django.utils import translation

from club import services as club
from club.models import Offer, PointsTransaction, Tier
from crm import services as crm
from tests.e2e.test_campaigns import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]
LANGUAGES = ["en", "fa", "ar"]


def _(language: str, text: str, **values) -> str:
    with translation.override(language):
        text = translation.gettext(text)
    return text % values if values else text


def save(page):
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()  # waits for the page the save leads to


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_club_manager_creates_a_tier_and_an_offer_in_two_languages_and_adjusts_points(
    live_server, desktop, phone, shot, club_manager, language
):
    Tier.objects.create(name="Bronze", name_fa="برنزی", rank=1, threshold=0)
    customer = crm.customer_create(first_name="سارا", email="sara@example.com", language="fa")
    member = club.member_enroll(customer=customer)
    sign_in(desktop, live_server, club_manager, language)

    desktop.goto(live_server.url + reverse("admin:club_tier_add"))
    desktop.fill("#id_name_en", "Gold")
    desktop.fill("#id_name_fa", "طلایی")
    desktop.fill("#id_rank", "2")
    desktop.fill("#id_threshold", "1000")
    shot(desktop, f"club-manager-tier-{language}")
    save(desktop)
    gold = Tier.objects.get(rank=2)
    assert (gold.name_en, gold.name_fa) == ("Gold", "طلایی")

    desktop.goto(live_server.url + reverse("admin:club_offer_add"))
    desktop.fill("#id_title_en", "A free pastry")
    desktop.fill("#id_title_fa", "یک شیرینی رایگان")
    desktop.fill("#id_description_en", "With any coffee")
    desktop.fill("#id_description_fa", "با هر قهوه")
    desktop.select_option("#id_kind", "gift")
    desktop.fill("#id_points_cost", "100")
    shot(desktop, f"club-manager-offer-{language}")
    save(desktop)
    assert Offer.objects.get().title_fa == "یک شیرینی رایگان"

    desktop.goto(live_server.url + reverse("admin:club_membership_change", args=[member.pk]))
    desktop.get_by_role("link", name=_(language, "Adjust points")).click()
    desktop.get_by_label(_(language, "Points")).fill("300")
    desktop.get_by_label(_(language, "Reason")).fill("هدیهٔ وفاداری")
    shot(desktop, f"club-manager-adjust-{language}")
    desktop.locator("input[type=submit].default").click()
    expect(desktop.locator(".messagelist .success")).to_be_visible()
    row = PointsTransaction.objects.get(member=member)
    assert (row.points, row.kind, row.created_by) == (300, "adjust", club_manager)

    phone.goto(live_server.url + club.card_link(member))
    assert phone.get_attribute("html", "lang") == "fa"
    assert phone.locator("p.tier-name").inner_text() == "برنزی"
    expect(phone.get_by_text(_("fa", "Progress to %(next)s", next="طلایی"))).to_be_visible()
    expect(phone.get_by_role("heading", name="یک شیرینی رایگان")).to_be_visible()
    expect(phone.get_by_text("با هر قهوه")).to_be_visible()
    expect(phone.locator("table.activity td", has_text="هدیهٔ وفاداری")).to_be_visible()
    card = phone.locator("main").inner_text()
    for english in ("Gold", "A free pastry", "With any coffee", "Bronze"):
        assert english not in card
    shot(phone, f"club-manager-card-fa-{language}")
