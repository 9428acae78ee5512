"""The member's club card page (/m/<token>/): signed link, the card in the member's language, redeeming offers."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from club import services
from club.models import Coupon, Membership, Offer, PointsTransaction
from tests.club.helpers import give_points


def fa(text: str, **values) -> str:
    """What the page says in Persian (the member's language in these tests)."""
    with translation.override("fa"):
        return translation.gettext(text) % values if values else translation.gettext(text)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def persian_member(make_member):
    member = make_member(language="fa")
    give_points(member, 300)
    return member


@pytest.fixture
def link(persian_member):
    return services.card_link(persian_member)


def redeem_url(link: str, offer: Offer) -> str:
    return f"{link}redeem/{offer.pk}/"


def confirm_and_redeem(client, link: str, offer: Offer):
    """What a person does: open the confirmation page, then press its button (the form's nonce included)."""
    page = client.get(redeem_url(link, offer))
    assert page.status_code == 200
    return client.post(redeem_url(link, offer), {"nonce": page.context["nonce"]})


class TestTheLink:
    def test_it_is_a_signed_path_under_m(self, persian_member, link):
        assert link.startswith("/m/") and link.endswith("/")
        assert services.member_for_card_link(link.split("/")[2]) == persian_member

    @pytest.mark.parametrize("token", ["nonsense", "eyJtIjoxfQ:1tAAAA:forgedsignature"])
    def test_a_bad_or_forged_token_is_not_found(self, client, persian_member, token):
        assert client.get(reverse("club_card:card", args=[token])).status_code == 404

    def test_a_token_signed_for_another_purpose_is_not_found(self, client, persian_member):
        from django.core import signing

        token = signing.dumps({"m": persian_member.pk}, salt="feedback.return", compress=True)
        assert client.get(reverse("club_card:card", args=[token])).status_code == 404

    def test_it_expires_after_club_card_link_days(self, client, link, settings):
        with time_machine.travel(timezone.now() + timedelta(days=settings.CLUB_CARD_LINK_DAYS - 1)):
            assert client.get(link).status_code == 200
        with time_machine.travel(timezone.now() + timedelta(days=settings.CLUB_CARD_LINK_DAYS + 1)):
            assert client.get(link).status_code == 404
            assert client.get(redeem_url(link, Offer(pk=1))).status_code == 404


class TestTheCard:
    def test_it_shows_number_qr_tier_balance_offers_and_coupons_in_persian_right_to_left(self, client, persian_member, link, offer):
        coupon = services.offer_redeem(member=persian_member, offer=offer)
        page = client.get(link)
        html = page.content.decode()
        assert page.status_code == 200 and 'dir="rtl"' in html and 'lang="fa"' in html
        assert page.headers["Content-Language"] == "fa" and page.headers["Cache-Control"] == "no-store"
        assert services.member_number_format(persian_member.member_number) in html
        assert '<svg role="img"' in html and "<title>" in html and "<script" not in html and "<img" not in html
        assert "Bronze" in html and "Silver" in html  # the tier and the next one
        assert '<dd class="balance">۲۰۰</dd>' in html  # Persian digits for a Persian member
        assert offer.title in html and redeem_url(link, offer) in html
        assert services.coupon_code_format(coupon.code) in html
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]

    def test_the_language_switcher_and_the_preferred_language_choose_the_page_language(self, client, make_member):
        member = make_member(language="en")
        english = client.get(services.card_link(member)).content.decode()
        arabic = client.get(services.card_link(member) + "?lang=ar").content.decode()
        assert 'dir="ltr"' in english and 'lang="en"' in english
        assert 'dir="rtl"' in arabic and 'lang="ar"' in arabic and "?lang=fa" in arabic

    def test_the_qr_code_is_an_accessible_inline_svg_of_the_member_number(self, persian_member):
        svg = services.member_number_qr_svg(persian_member.member_number, title="<b>")
        assert svg.startswith('<svg role="img"') and "<title>&lt;b&gt;</title>" in svg and "style=" not in svg
        number = persian_member.member_number
        assert svg != services.member_number_qr_svg(number[:-1] + str((int(number[-1]) + 1) % 10), title="<b>")

    def test_recent_activity_is_the_last_ten_ledger_rows(self, client, persian_member, link):
        for points in range(1, 13):
            give_points(persian_member, points)
        html = client.get(link).content.decode()
        assert html.count('<td class="points"') == 10 and ">+۱۲<" in html and ">+۲<" not in html

    def test_pending_and_expiring_points_are_shown(self, client, persian_member, settings):
        services.points_award(member=persian_member, points=50, source=PointsTransaction.Source.EVENT,
                              reason="welcome", idempotency_key="test:welcome")
        Membership.objects.filter(pk=persian_member.pk).update(pending_points=40)
        with time_machine.travel(timezone.now() + timedelta(days=settings.CLUB_POINTS_EXPIRY_DAYS - 3)):
            html = client.get(services.card_link(persian_member)).content.decode()
        figures = html[html.index('<dl class="figures">'):html.index("</dl>")]
        assert "<dt>در انتظار</dt><dd>۴۰</dd>" in figures  # pending, under its Persian label
        assert '<dd class="balance">۳۵۰</dd>' in figures and figures.endswith("<dd>۵۰</dd></div>\n  ")  # the earned 50 expire

    def test_an_offer_out_of_reach_of_the_tier_is_not_listed(self, client, link, tiers):
        gold = Offer.objects.create(title="Gold lounge", kind=Offer.Kind.GIFT, points_cost=10, min_tier=tiers["gold"])
        assert gold.title not in client.get(link).content.decode()

    def test_a_member_who_left_gets_a_friendly_page(self, client, persian_member, link, offer):
        services.member_set_status(member=persian_member, status=Membership.Status.LEFT)
        page = client.get(link)
        assert page.status_code == 410 and fa("Club membership ended") in page.content.decode()
        assert client.get(redeem_url(link, offer)).status_code == 410

    def test_it_is_rate_limited_per_link(self, client, link, settings):
        settings.CLUB_CARD_RATE_LIMIT = "3/m"
        assert [client.get(link).status_code for _ in range(4)] == [200, 200, 200, 429]


class TestRedeeming:
    def test_the_confirmation_page_changes_nothing(self, client, persian_member, link, offer):
        page = client.get(redeem_url(link, offer))
        html = page.content.decode()
        assert page.status_code == 200 and 'dir="rtl"' in html and "csrfmiddlewaretoken" in html and 'method="post"' in html
        assert fa("Your balance afterwards: %(balance)s.", balance="۲۰۰") in html
        persian_member.refresh_from_db()
        assert persian_member.points_balance == 300 and not Coupon.objects.exists()

    def test_confirming_issues_one_coupon_and_spends_the_points(self, client, persian_member, link, offer):
        page = confirm_and_redeem(client, link, offer)
        coupon = Coupon.objects.get()
        html = page.content.decode()
        assert page.status_code == 200 and services.coupon_code_format(coupon.code) in html and 'dir="rtl"' in html
        assert fa("Your points balance is now %(balance)s.", balance="۲۰۰") in html
        persian_member.refresh_from_db()
        assert coupon.member == persian_member and coupon.offer == offer and persian_member.points_balance == 200

    def test_posting_the_same_form_twice_redeems_once(self, client, persian_member, link, offer):
        nonce = client.get(redeem_url(link, offer)).context["nonce"]
        first = client.post(redeem_url(link, offer), {"nonce": nonce})
        second = client.post(redeem_url(link, offer), {"nonce": nonce})
        code = services.coupon_code_format(Coupon.objects.get().code)
        assert code in first.content.decode() and code in second.content.decode()
        persian_member.refresh_from_db()
        assert persian_member.points_balance == 200

    def test_a_second_redemption_beyond_the_member_limit_gets_a_friendly_message(self, client, persian_member, link, offer):
        Offer.objects.filter(pk=offer.pk).update(per_member_limit=1)
        assert confirm_and_redeem(client, link, offer).status_code == 200
        again = client.post(redeem_url(link, offer), {"nonce": "another-form-nonce-123"})
        assert again.status_code == 409 and "شما از این پیشنهاد ویژه به تعداد دفعات مجاز استفاده کرده‌اید." in again.content.decode()
        assert client.get(redeem_url(link, offer)).status_code == 409
        persian_member.refresh_from_db()
        assert Coupon.objects.count() == 1 and persian_member.points_balance == 200

    def test_not_enough_points_gets_a_friendly_message(self, client, persian_member, link):
        dear = Offer.objects.create(title="Big gift", kind=Offer.Kind.GIFT, points_cost=1000)
        page = client.get(redeem_url(link, dear))
        assert page.status_code == 409 and fa("This offer costs %(cost)s points; you have %(balance)s.", cost="۱٬۰۰۰", balance="۳۰۰") in page.content.decode()
        posted = client.post(redeem_url(link, dear))
        assert posted.status_code == 409 and 'role="alert"' in posted.content.decode()
        persian_member.refresh_from_db()
        assert not Coupon.objects.exists() and persian_member.points_balance == 300

    def test_an_ineligible_offer_gets_a_friendly_page(self, client, persian_member, link, tiers):
        gold = Offer.objects.create(title="Gold lounge", kind=Offer.Kind.GIFT, points_cost=10, min_tier=tiers["gold"])
        for page in (client.get(redeem_url(link, gold)), client.post(redeem_url(link, gold))):
            assert page.status_code == 409 and "این پیشنهاد ویژه مخصوص اعضای سطح Gold و بالاتر است." in page.content.decode()
        assert not Coupon.objects.exists()

    def test_an_unknown_offer_gets_a_friendly_not_found_page(self, client, link):
        page = client.get(f"{link}redeem/999999/")
        assert page.status_code == 404 and fa("This offer is not available.") in page.content.decode()

    def test_the_post_needs_a_csrf_token(self, persian_member, link, offer):
        browser = Client(enforce_csrf_checks=True)
        assert browser.get(redeem_url(link, offer)).status_code == 200
        assert browser.post(redeem_url(link, offer), {"nonce": "a-nonce-without-csrf-1"}).status_code == 403
        persian_member.refresh_from_db()
        assert not Coupon.objects.exists() and persian_member.points_balance == 300

    def test_the_post_with_its_csrf_token_works_in_a_real_form(self, persian_member, link, offer):
        browser = Client(enforce_csrf_checks=True)
        page = browser.get(redeem_url(link, offer))
        token = browser.cookies["csrftoken"].value
        posted = browser.post(redeem_url(link, offer), {"nonce": page.context["nonce"], "csrfmiddlewaretoken": token})
        assert posted.status_code == 200 and Coupon.objects.count() == 1

    def test_the_card_page_refuses_a_post(self, client, link):
        assert client.post(link).status_code == 405


def test_a_free_offer_needs_no_points(client, make_member):
    member = make_member()
    free = Offer.objects.create(title="Free coffee", kind=Offer.Kind.GIFT, value=Decimal("0"), points_cost=0)
    page = confirm_and_redeem(client, services.card_link(member), free)
    assert page.status_code == 200 and Coupon.objects.filter(member=member, offer=free).count() == 1
