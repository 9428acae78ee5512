"""A member redeems an offer on their club card, on a phone, in a real browser, in Persian, Arabic and English."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect
from django.utils import timezone, translation

from club import services as club
from club.models import Coupon, Offer, Tier
from crm import services as crm
from core.templatetags.localized import local_date, local_digits, local_number

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def _(language: str, text: str, **values) -> str:
    with translation.override(language):
        text = translation.gettext(text)
    return text % values if values else text


NAMES = {"fa": ("سارا", "هدیه", "قهوه رایگان"), "ar": ("نورة", "هدية", "قهوة مجانية"), "en": ("Sara", "Gift", "Free coffee")}


@pytest.mark.parametrize("language", ["fa", "ar", "en"])
def test_a_member_redeems_an_offer_on_the_club_card(live_server, phone, shot, language):
    name, gift, title = NAMES[language]
    Tier.objects.create(name="Bronze", rank=1, threshold=0)
    Tier.objects.create(name="Silver", rank=2, threshold=5000)
    customer = crm.customer_create(first_name=name, email="sara@example.com", language=language)
    member = club.member_enroll(customer=customer)
    club.points_adjust(member=member, points=1250, reason=gift, by=None)
    offer = Offer.objects.create(title=title, kind=Offer.Kind.PERCENT, value=Decimal("20"), points_cost=500)

    phone.goto(live_server.url + club.card_link(member))
    direction = "ltr" if language == "en" else "rtl"
    assert phone.get_attribute("html", "dir") == direction and phone.get_attribute("html", "lang") == language
    expect(phone.get_by_role("heading", name=_(language, "Your club card"))).to_be_visible()
    assert phone.locator("dd.balance").inner_text() == local_number(1250, language)
    if language == "fa":
        assert local_number(1250, language) == "۱٬۲۵۰"  # Persian digits, Persian thousands separator
    today = local_date(timezone.now(), language, "short")  # fa: e.g. ۱۴۰۵/۰۹/۰۲, the Solar Hijri calendar
    assert not language == "fa" or today.startswith("۱۴")
    expect(phone.locator("table.activity td", has_text=today).first).to_be_visible()
    assert phone.locator(".member-number").first.inner_text() == local_digits(
        club.member_number_format(member.member_number), language)
    expect(phone.locator(".qr-box svg")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing runs off the phone's screen
    shot(phone, f"club-card-{language}")

    phone.get_by_role("link", name=_(language, "Redeem %(title)s", title=offer.title)).click()
    expect(phone.get_by_role("heading", name=_(language, "Redeem an offer"))).to_be_visible()
    after = local_number(750, language)
    expect(phone.get_by_text(_(language, "Your balance afterwards: %(balance)s.", balance=after))).to_be_visible()
    shot(phone, f"club-card-{language}-confirm")
    assert not Coupon.objects.exists()  # nothing happens before the member confirms
    phone.get_by_role("button", name=_(language, "Yes, redeem it")).click()

    expect(phone.get_by_role("heading", name=_(language, "Your coupon"))).to_be_visible()
    coupon = Coupon.objects.get(member=member, offer=offer)
    code = club.coupon_code_format(coupon.code)
    assert phone.locator(".coupon-code").inner_text() == code  # the code to type at the till: as issued
    assert phone.get_by_role("status").inner_text() == _(language, "Your points balance is now %(balance)s.", balance=after)
    shot(phone, f"club-card-{language}-coupon")

    phone.get_by_role("link", name=_(language, "Back to my card")).click()
    expect(phone.locator("dd.balance")).to_have_text(after)
    expect(phone.locator(".coupon .coupon-code", has_text=code)).to_be_visible()
    member.refresh_from_db()
    assert member.points_balance == 750
