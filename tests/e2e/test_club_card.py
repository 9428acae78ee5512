"""A Persian member redeems an offer on their club card, on a phone, in a real browser."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect
from django.utils import timezone, translation

from club import services as club
from club.models import Coupon, Offer, Tier
from crm import services as crm
from core.templatetags.localized import local_date

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def _(language: str, text: str, **values) -> str:
    with translation.override(language):
        text = translation.gettext(text)
    return text % values if values else text


def test_a_member_redeems_an_offer_on_the_club_card_in_persian(live_server, phone, shot):
    Tier.objects.create(name="Bronze", rank=1, threshold=0)
    Tier.objects.create(name="Silver", rank=2, threshold=5000)
    customer = crm.customer_create(first_name="سارا", email="sara@example.com", language="fa")
    member = club.member_enroll(customer=customer)
    club.points_adjust(member=member, points=1250, reason="هدیه", by=None)
    offer = Offer.objects.create(title="قهوه رایگان", kind=Offer.Kind.PERCENT, value=Decimal("20"), points_cost=500)

    phone.goto(live_server.url + club.card_link(member))
    assert phone.get_attribute("html", "dir") == "rtl" and phone.get_attribute("html", "lang") == "fa"
    expect(phone.get_by_role("heading", name=_("fa", "Your club card"))).to_be_visible()
    assert phone.locator("dd.balance").inner_text() == "۱٬۲۵۰"  # Persian digits, Persian thousands separator
    today = local_date(timezone.now(), "fa", "short")  # e.g. ۱۴۰۵/۰۹/۰۲: the Solar Hijri calendar
    assert today.startswith("۱۴") and phone.locator("table.activity td", has_text=today).first.is_visible()
    assert phone.locator(".member-number").first.inner_text() == club.member_number_format(member.member_number).translate(
        str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    expect(phone.locator(".qr-box svg")).to_be_visible()
    shot(phone, "club-card-fa")

    phone.get_by_role("link", name=_("fa", "Redeem %(title)s", title=offer.title)).click()
    expect(phone.get_by_role("heading", name=_("fa", "Redeem an offer"))).to_be_visible()
    expect(phone.get_by_text(_("fa", "Your balance afterwards: %(balance)s.", balance="۷۵۰"))).to_be_visible()
    shot(phone, "club-card-fa-confirm")
    assert not Coupon.objects.exists()  # nothing happens before the member confirms
    phone.get_by_role("button", name=_("fa", "Yes, redeem it")).click()

    expect(phone.get_by_role("heading", name=_("fa", "Your coupon"))).to_be_visible()
    coupon = Coupon.objects.get(member=member, offer=offer)
    code = club.coupon_code_format(coupon.code)
    assert phone.locator(".coupon-code").inner_text() == code  # the code to type at the till: as issued
    assert phone.get_by_role("status").inner_text() == _("fa", "Your points balance is now %(balance)s.", balance="۷۵۰")
    shot(phone, "club-card-fa-coupon")

    phone.get_by_role("link", name=_("fa", "Back to my card")).click()
    assert phone.locator("dd.balance").inner_text() == "۷۵۰"
    expect(phone.locator(".coupon .coupon-code", has_text=code)).to_be_visible()
    member.refresh_from_db()
    assert member.points_balance == 750
