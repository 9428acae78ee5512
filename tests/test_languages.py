"""Persian, Arabic and English: dates and digits on customer pages, the admin in each staff member's
language, and messages in the customer's language."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.models import Automation, Message
from club import services as club
from club.models import Offer, PointsTransaction, Tier
from crm import services as crm
from core.direction import FSI, LRI, PDI
from core.middleware import SESSION_KEY
from core.models import StaffPreference
from crm.models import Customer
from crm.services import LineInput
from core.templatetags.localized import local_date, local_number
from feedback.services import invitation_create
from feedback.services.returns import order_return_link
from tests.campaigns.helpers import automation, make_customer
from tests.factories import UserFactory

# Messages go to memory for every test here, as they do in tests/campaigns.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("campaign_settings")]


def gettext_in(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


# --- the filters --------------------------------------------------------------------------------


class TestDatesAndNumbers:
    def test_persian_dates_are_solar_hijri_with_persian_month_names_and_digits(self):
        assert local_date(date(2026, 11, 23), "fa") == "۲ آذر ۱۴۰۵"
        assert local_date(date(2026, 3, 21), "fa") == "۱ فروردین ۱۴۰۵"  # Nowruz: the Persian new year
        assert local_date(date(2026, 3, 20), "fa", "short") == "۱۴۰۴/۱۲/۲۹"

    def test_arabic_and_english_dates_are_gregorian_in_their_own_words(self):
        assert local_date(date(2026, 11, 23), "ar") == "23 نوفمبر، 2026"
        assert local_date(date(2026, 11, 23), "en") == "Nov. 23, 2026"

    def test_an_aware_datetime_is_shown_on_the_day_of_the_site_time_zone(self, settings):
        settings.TIME_ZONE = "Asia/Tehran"
        late_utc = datetime(2026, 3, 20, 22, 0, tzinfo=ZoneInfo("UTC"))  # already 21 March in Tehran
        with timezone.override("Asia/Tehran"):
            assert local_date(late_utc, "fa") == "۱ فروردین ۱۴۰۵"

    def test_an_iso_string_is_read_and_nothing_else_becomes_a_date(self):
        assert local_date("2026-11-23", "fa") == "۲ آذر ۱۴۰۵"
        assert local_date(None, "fa") == local_date("", "fa") == local_date("soon", "fa") == ""

    def test_numbers_are_grouped_in_each_languages_digits(self):
        assert local_number(1250, "fa") == "۱٬۲۵۰" and local_number(Decimal("12.5"), "fa") == "۱۲٫۵۰"
        assert local_number(1250, "ar") == "1,250" and local_number(1250, "en") == "1,250"
        assert local_number(Decimal("300.00"), "fa") == "۳۰۰" and local_number(-40, "fa") == "-۴۰"
        assert local_number("abc", "fa") == "abc" and local_number(None, "fa") == ""


# --- customer pages -----------------------------------------------------------------------------


@pytest.fixture
def ladder(db):
    Tier.objects.create(name="Bronze", rank=1, threshold=0)
    Tier.objects.create(name="Silver", rank=2, threshold=500)


def member_with_points(language: str, points: int = 1250):
    customer = crm.customer_create(first_name="Sara", email=f"sara.{language}@example.com", language=language)
    member = club.member_enroll(customer=customer)
    club.points_adjust(member=member, points=points, reason="gift", by=None)
    return member


class TestTheClubCard:
    @time_machine.travel(datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo("UTC")), tick=False)
    def test_a_persian_member_sees_persian_digits_and_jalali_dates(self, client, ladder, settings):
        member = member_with_points("fa")
        club.points_award(member=member, points=1300, source=PointsTransaction.Source.EVENT, reason="promo",
                          idempotency_key="promo", at=timezone.now() - timedelta(days=settings.CLUB_POINTS_EXPIRY_DAYS - 7))
        offer = Offer.objects.create(title="Free coffee", kind=Offer.Kind.GIFT, points_cost=1000)
        coupon = club.offer_redeem(member=member, offer=offer)
        html = client.get(club.card_link(member)).content.decode()
        assert '<dd class="balance">۱٬۵۵۰</dd>' in html  # 1250 + 1300 - 1000
        assert "۱٬۰۰۰" in html  # the offer's cost
        assert "۱۴۰۵/۰۹/۰۲" in html  # today's activity, in the Jalali calendar
        assert "۳۰۰ امتیاز" in html and "۹ آذر ۱۴۰۵" in html  # what is left of the 1300 expires in a week
        assert local_date(coupon.expires_at, "fa") in html  # the coupon's last day
        number = club.member_number_format(member.member_number)
        assert number.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in html  # read in Persian...
        assert number in html  # ...and once more in Western digits, to type at a till
        assert club.coupon_code_format(coupon.code) in html  # a code to type is never converted

    def test_an_english_member_sees_western_digits_and_gregorian_dates(self, client, ladder):
        member = member_with_points("en")
        html = client.get(club.card_link(member)).content.decode()
        assert '<dd class="balance">1,250</dd>' in html and "member-number-latin" not in html
        assert timezone.localdate().strftime("%m/%d/%Y") in html

    def test_arabic_uses_western_digits_with_arabic_words(self, client, ladder):
        member = member_with_points("ar")
        html = client.get(club.card_link(member)).content.decode()
        assert 'dir="rtl"' in html and '<dd class="balance">1,250</dd>' in html and "۱" not in html


class TestTheReturnPage:
    def place(self, language: str):
        customer = crm.customer_create(first_name="Noura", email=f"noura.{language}@example.com", language=language)
        return crm.order_create(customer=customer, order_number="W-1205", placed_at=timezone.now() - timedelta(days=2),
                                total="1234.50", lines=[LineInput(sku="BEANS", product_name="Beans", quantity=2,
                                                                  unit_price=Decimal("617.25"))])

    def test_the_order_date_and_amounts_are_persian_for_a_persian_customer(self, client):
        order = self.place("fa")
        html = client.get(order_return_link(order)).content.decode()
        assert local_date(order.placed_at, "fa") in html and "۱٬۲۳۴٫۵۰" in html and "۶۱۷٫۲۵" in html
        assert "W-1205" in html  # the order number people quote stays as it is

    def test_arabic_shows_arabic_month_names_with_western_digits(self, client):
        order = self.place("ar")
        html = client.get(order_return_link(order)).content.decode()
        assert local_date(order.placed_at, "ar") in html and "1,234.50" in html and "۱" not in html


class TestTheSurvey:
    def test_the_scale_is_numbered_in_persian_digits_for_a_persian_customer(self, client, survey):  # noqa: F811
        invite = invitation_create(survey=survey, customer=crm.customer_create(first_name="Sara", email="sara.s@example.com", language="fa"))
        html = client.get(invite.path).content.decode()
        assert "<span>۱۰</span>" in html and "<span>10</span>" not in html
        assert 'value="10"' in html  # what the form posts stays a plain number

    def test_an_english_customer_sees_western_digits(self, client, survey):  # noqa: F811
        invite = invitation_create(survey=survey, customer=crm.customer_create(first_name="Emma", email="emma.s@example.com", language="en"))
        assert "<span>10</span>" in client.get(invite.path).content.decode()


# --- the admin in the staff member's language -----------------------------------------------------


@pytest.fixture
def staff(db):
    def make(username: str, language: str = ""):
        user = UserFactory(username=username, is_superuser=True)
        if language:
            StaffPreference.objects.create(user=user, language=language)
        return user

    return make


class TestTheAdminLanguage:
    def test_a_persian_staff_member_gets_the_admin_in_persian_right_to_left(self, client, staff):
        client.force_login(staff("parisa", "fa"))
        html = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert 'lang="fa"' in html and 'dir="rtl"' in html
        assert gettext_in("fa", "Log out") != "Log out" and gettext_in("fa", "Log out") in html
        changelist = client.get(reverse("admin:crm_customer_changelist"), HTTP_ACCEPT_LANGUAGE="en")
        assert changelist.headers["Content-Language"] == "fa" and 'dir="rtl"' in changelist.content.decode()

    def test_an_english_staff_member_gets_english_whatever_the_browser_says(self, client, staff):
        client.force_login(staff("emma", "en"))
        html = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="fa").content.decode()
        assert 'lang="en"' in html and 'dir="ltr"' in html and "Log out" in html

    def test_without_a_preference_the_browser_decides_as_before(self, client, staff):
        client.force_login(staff("nadia"))
        html = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
        assert 'lang="ar"' in html and 'dir="rtl"' in html

    def test_the_preference_does_not_reach_customer_pages(self, client, staff, ladder):
        client.force_login(staff("parisa", "fa"))
        member = member_with_points("en")
        assert 'lang="en"' in client.get(club.card_link(member)).content.decode()

    def test_it_costs_no_query_on_admin_pages(self, client, staff):
        counts = []
        for user in (staff("plain"), staff("persian", "fa")):
            client.force_login(user)
            client.get(reverse("admin:index"))  # warm up whatever is cached per process
            with CaptureQueriesContext(connection) as queries:
                client.get(reverse("admin:index"))
            counts.append(len(queries))
        assert counts[0] == counts[1]

    def test_a_staff_member_sets_their_own_language_on_the_my_language_page(self, client, staff):
        user = staff("omid")
        client.force_login(user)
        url = reverse("admin:core_staffpreference_changelist")
        assert url in client.get(reverse("admin:index")).content.decode()  # listed for every staff member
        assert client.get(url).status_code == 200
        response = client.post(url, {"language": "fa"}, follow=True)
        html = response.content.decode()
        assert StaffPreference.objects.get(user=user).language == "fa" and client.session[SESSION_KEY] == "fa"
        assert 'dir="rtl"' in html and gettext_in("fa", "Your admin language is saved.") in html
        client.post(url, {"language": ""})
        assert StaffPreference.objects.get(user=user).language == "" and client.session[SESSION_KEY] == ""

    def test_an_unknown_language_is_refused_with_a_message(self, client, staff):
        user = staff("omid", "fa")
        client.force_login(user)
        response = client.post(reverse("admin:core_staffpreference_changelist"), {"language": "de"})
        assert response.status_code == 400 and 'class="errorlist' in response.content.decode()
        assert StaffPreference.objects.get(user=user).language == "fa"

    def test_nobody_can_open_or_change_another_staff_members_preference(self, client, staff):
        other = staff("other", "ar")
        client.force_login(staff("omid"))
        preference = StaffPreference.objects.get(user=other)
        assert client.get(f"/admin/core/staffpreference/{preference.pk}/change/").status_code == 404
        client.post(reverse("admin:core_staffpreference_changelist"), {"language": "fa", "user": other.pk})
        assert StaffPreference.objects.get(user=other).language == "ar"

    def test_a_customer_without_staff_rights_is_sent_to_the_login(self, client, db):
        client.force_login(UserFactory(username="shopper", is_staff=False))
        response = client.get(reverse("admin:core_staffpreference_changelist"))
        assert response.status_code == 302 and reverse("admin:login") in response.headers["Location"]


# --- messages in the customer's language ----------------------------------------------------------


def enable(kind: str) -> Automation:
    return automation(kind)


@pytest.mark.usefixtures("celery_eager", "campaign_settings")
class TestMessagesInTheCustomersLanguage:
    def welcome(self, capture, language: str, **fields):
        enable("welcome")
        customer = make_customer(first_name="Sara", language=language, **fields)
        with capture(execute=True):
            club.member_enroll(customer=customer)
        return mail.outbox[-1]

    def test_a_persian_customer_gets_a_persian_welcome(self, ladder, django_capture_on_commit_callbacks):
        email = self.welcome(django_capture_on_commit_callbacks, "fa")
        assert email.subject == f"{FSI}Sara{PDI}، به باشگاه مشتریان خوش آمدید!"  # the name isolated (core.direction)
        assert f"امتیاز شما: {LRI}۰{PDI}." in email.body and 'dir="rtl" lang="fa"' in email.alternatives[0][0]

    def test_an_arabic_customer_gets_an_arabic_welcome(self, ladder, django_capture_on_commit_callbacks):
        email = self.welcome(django_capture_on_commit_callbacks, "ar")
        assert email.subject == f"أهلاً بك في النادي يا {FSI}Sara{PDI}!" and 'dir="rtl" lang="ar"' in email.alternatives[0][0]

    def test_an_unknown_language_falls_back_to_english(self, ladder, django_capture_on_commit_callbacks):
        customer = make_customer(first_name="Hans", language="en")
        Customer.objects.filter(pk=customer.pk).update(language="de")  # e.g. imported before languages were checked
        enable("welcome")
        with django_capture_on_commit_callbacks(execute=True):
            club.member_enroll(customer=Customer.objects.get(pk=customer.pk))
        email = mail.outbox[-1]
        assert email.subject == "Welcome to the club, Hans!" and 'dir="ltr" lang="en"' in email.alternatives[0][0]
        assert Message.objects.get(customer=customer).language == "en"

    @time_machine.travel(datetime(2026, 3, 1, 9, 0, tzinfo=ZoneInfo("UTC")), tick=False)
    def test_a_points_expiry_sms_gives_the_jalali_date_in_persian_digits(self, ladder, settings,
                                                                          django_capture_on_commit_callbacks):
        from campaigns.sms import LocmemBackend
        from core.tasks import run_job

        settings.CLUB_EXPIRY_WARNING_DAYS = 14
        enable("points_expiring")
        customer = make_customer(first_name="Sara", language="fa", email_opt_in=False, sms_opt_in=True)
        member = club.member_enroll(customer=customer)
        earned = timezone.now() - timedelta(days=settings.CLUB_POINTS_EXPIRY_DAYS - 10)  # expire on 11 March 2026
        club.points_award(member=member, points=1300, source="event", reason="promo", idempotency_key="promo", at=earned)
        with django_capture_on_commit_callbacks(execute=True):
            run_job.apply(kwargs={"name": "club.points_expiry", "date_iso": "2026-03-01"}).get()
        texts = [entry["text"] for entry in LocmemBackend.outbox]
        assert any(f"{LRI}۱٬۳۰۰{PDI} امتیاز شما در {FSI}۲۰ اسفند ۱۴۰۴{PDI} منقضی می‌شود." in text for text in texts), texts

    def test_a_survey_invitation_names_the_survey_in_the_customers_language(self, survey,  # noqa: F811
                                                                             django_capture_on_commit_callbacks):
        enable("survey_invitation")
        customer = make_customer(first_name="Sara", language="fa")
        with translation.override("en"), django_capture_on_commit_callbacks(execute=True):  # a staff member's request
            invitation_create(survey=survey, customer=customer)
        email = mail.outbox[-1]
        assert email.subject == f"{FSI}Sara{PDI}، نظرتان درباره ما چیست؟"
        assert "نظر شما چیست؟" in email.alternatives[0][0] and "How did we do?" not in email.alternatives[0][0]

    def test_a_number_still_compares_as_a_number_in_a_marketers_template(self):
        from campaigns import rendering
        from campaigns.services.content import LocalNumber

        text = rendering.render("{% if points_balance > 1000 %}VIP {{ points_balance }}{% endif %}",
                                {"points_balance": LocalNumber(1250, "fa")}, autoescape=False)
        assert text == "VIP ۱٬۲۵۰"
