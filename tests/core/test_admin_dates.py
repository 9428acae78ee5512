"""One calendar in the admin (core.admin_dates): a Persian reader sees and types Jalali dates on every admin
page, an Arabic or English reader sees exactly what Django writes."""

from datetime import date, datetime, timezone as dt_timezone

import pytest
import time_machine
from django import forms as django_forms
from django.contrib import admin
from django.template import Context, Template
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from campaigns.admin.campaign_forms import ScheduleForm
from club.admin import SetTierForm
from core.date_hierarchy import jalali_date_hierarchy

from crm.models import Customer
from tests.club.helpers import give_points
from tests.factories import CustomerFactory, OrderFactory
from tests.factories.club import MembershipFactory, PointsTransactionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("utc")]

PLACED = datetime(2026, 12, 4, 10, 30, tzinfo=dt_timezone.utc)  # 13 Azar 1405
ORDERS = reverse("admin:crm_order_changelist")
LEDGER = reverse("admin:club_pointstransaction_changelist")


@pytest.fixture
def utc():
    with override_settings(TIME_ZONE="UTC"):
        yield


def _page(client, url, language, **params):
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def _customer_form(customer, **changes):
    return {
        "first_name": customer.first_name, "last_name": customer.last_name, "email": customer.email, "phone": "",
        "external_ref": "", "birth_date": "", "gender": "", "language": "fa", "city": "", "country": "",
        "source": "", "acquired_at_0": "", "acquired_at_1": "", "notes": "", **changes,
    }


def test_it_shows_the_change_list_dates_in_jalali_to_a_persian_reader(admin_client):
    OrderFactory(placed_at=PLACED, order_number="ORD-JALALI")

    html = _page(admin_client, ORDERS, "fa")

    assert "۱۳ آذر ۱۴۰۵، ۱۰:۳۰" in html
    assert "دسامبر" not in html and "2026" not in html.split('id="result_list"')[1].split("</table>")[0]
    # The column keeps its label, its CSS class and its sorting link.
    assert 'class="sortable column-placed_at' in html
    assert 'class="field-placed_at' in html


@pytest.mark.parametrize("language", ["en", "ar"])
def test_it_leaves_the_change_list_dates_as_django_writes_them_in_other_languages(admin_client, language):
    OrderFactory(placed_at=PLACED)

    html = _page(admin_client, ORDERS, language)

    assert "2026" in html and "آذر" not in html and "۱۴۰۵" not in html


def test_sorting_by_a_jalali_date_column_still_sorts_by_the_date(admin_client):
    OrderFactory(placed_at=PLACED, order_number="ORD-LATER")
    OrderFactory(placed_at=PLACED.replace(year=2025), order_number="ORD-EARLIER")
    response = admin_client.get(ORDERS, HTTP_ACCEPT_LANGUAGE="fa")
    column = next(i for i, name in enumerate(response.context["cl"].list_display)
                  if getattr(name, "__name__", name) == "placed_at")

    html = _page(admin_client, ORDERS, "fa", o=str(column))

    assert html.index("ORD-EARLIER") < html.index("ORD-LATER")
    assert "۱۳ آذر ۱۴۰۴" in html


def test_it_shows_read_only_dates_of_a_change_form_in_jalali(admin_client):
    order = OrderFactory(placed_at=PLACED)
    url = reverse("admin:crm_order_change", args=[order.pk])

    assert "۱۳ آذر ۱۴۰۵، ۱۰:۳۰" in _page(admin_client, url, "fa")
    assert "۱۳ آذر" not in _page(admin_client, url, "en")


def test_a_persian_reader_types_a_jalali_birth_date_and_the_gregorian_day_is_stored(admin_client):
    customer = CustomerFactory(birth_date=date(1990, 3, 21))
    url = reverse("admin:crm_customer_change", args=[customer.pk])

    form = _page(admin_client, url, "fa")
    assert 'value="۱۳۶۹/۰۱/۰۱"' in form and 'inputmode="numeric"' in form and 'dir="ltr"' in form

    response = admin_client.post(url, _customer_form(customer, birth_date="۱۳۷۰/۰۶/۳۱"), HTTP_ACCEPT_LANGUAGE="fa")

    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.birth_date == date(1991, 9, 22)


def test_a_jalali_moment_and_an_iso_date_are_read_too(admin_client):
    customer = CustomerFactory()
    url = reverse("admin:crm_customer_change", args=[customer.pk])

    response = admin_client.post(url, _customer_form(customer, birth_date="1990-03-21", acquired_at_0="1405/09/13",
                                                     acquired_at_1="۱۴:۰۵"), HTTP_ACCEPT_LANGUAGE="fa")

    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.birth_date == date(1990, 3, 21)
    assert customer.acquired_at == datetime(2026, 12, 4, 14, 5, tzinfo=dt_timezone.utc)


@pytest.mark.parametrize("typed", ["۱۴۰۵/۱۳/۰۱", "1404/12/30", "tomorrow"])
def test_a_date_that_does_not_exist_is_refused_with_an_example_to_copy(admin_client, typed):
    customer = CustomerFactory(birth_date=date(1990, 3, 21))
    url = reverse("admin:crm_customer_change", args=[customer.pk])

    response = admin_client.post(url, _customer_form(customer, birth_date=typed), HTTP_ACCEPT_LANGUAGE="fa")

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["birth_date"]
    assert errors[0].startswith("یک تاریخ درست وارد کنید، مثلاً ۱۴")
    assert f'value="{typed}"' in response.content.decode()
    customer.refresh_from_db()
    assert customer.birth_date == date(1990, 3, 21)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_other_languages_keep_the_admin_date_widgets(admin_client, language):
    customer = CustomerFactory(birth_date=date(1990, 3, 21))
    url = reverse("admin:crm_customer_change", args=[customer.pk])

    html = _page(admin_client, url, language)

    assert 'class="vDateField"' in html and 'value="1990-03-21"' in html
    response = admin_client.post(url, _customer_form(customer, birth_date="1991-09-22"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).birth_date == date(1991, 9, 22)


def test_the_date_hierarchy_walks_jalali_years_months_and_days(admin_client):
    member = MembershipFactory()
    for moment in (datetime(2026, 3, 20, 12, tzinfo=dt_timezone.utc),  # 29 Esfand 1404
                   datetime(2026, 3, 21, 12, tzinfo=dt_timezone.utc),  # 1 Farvardin 1405
                   PLACED):
        with time_machine.travel(moment, tick=False):
            PointsTransactionFactory(member=member)

    years = admin_client.get(LEDGER, HTTP_ACCEPT_LANGUAGE="fa").context
    titles = [choice["title"] for choice in _hierarchy(years)["choices"]]
    assert titles == ["۱۴۰۴", "۱۴۰۵"]

    year_1405 = admin_client.get(LEDGER + _hierarchy(years)["choices"][1]["link"], HTTP_ACCEPT_LANGUAGE="fa").context
    assert year_1405["cl"].result_count == 2
    assert [choice["title"] for choice in _hierarchy(year_1405)["choices"]] == ["فروردین ۱۴۰۵", "آذر ۱۴۰۵"]

    azar = admin_client.get(LEDGER + _hierarchy(year_1405)["choices"][1]["link"], HTTP_ACCEPT_LANGUAGE="fa").context
    assert azar["cl"].result_count == 1
    assert [choice["title"] for choice in _hierarchy(azar)["choices"]] == ["۱۳ آذر"]
    assert _hierarchy(azar)["back"]["title"] == "۱۴۰۵"


def test_the_date_hierarchy_stays_gregorian_in_english(admin_client):
    with time_machine.travel(PLACED, tick=False):
        PointsTransactionFactory()

    html = _page(admin_client, LEDGER, "en")

    assert "created_at__year=2026" in html and "created_at__gte" not in html


def _hierarchy(context):
    with translation.override("fa"):
        return jalali_date_hierarchy(context["cl"])


def test_the_history_page_writes_its_moments_in_jalali(admin_client):
    customer = CustomerFactory()
    admin_client.post(reverse("admin:crm_customer_change", args=[customer.pk]),
                      _customer_form(customer, city="Yazd"), HTTP_ACCEPT_LANGUAGE="fa")

    html = _page(admin_client, reverse("admin:crm_customer_history", args=[customer.pk]), "fa")

    assert "۱۴۰" in html and "2026" not in html.split('id="change-history"')[-1]


def test_our_own_admin_forms_read_a_jalali_follow_up_day(client, support_user):
    customer = CustomerFactory()
    client.force_login(support_user)
    url = reverse("admin:crm_customer_change", args=[customer.pk])
    page = _page(client, url, "fa")
    assert 'name="interaction-follow_up_on"' in page and 'type="date" name="interaction-follow_up_on"' not in page

    response = client.post(reverse("admin:crm_customer_log_interaction", args=[customer.pk]), {
        "interaction-channel": "phone", "interaction-direction": "inbound", "interaction-subject": "Call back",
        "interaction-status": "open", "interaction-follow_up_on": "۱۴۲۰/۰۱/۰۱",
    }, HTTP_ACCEPT_LANGUAGE="fa")

    assert response.status_code == 302
    assert customer.interactions.get().follow_up_on == date(2041, 3, 20)
    assert 'type="date" name="interaction-follow_up_on"' in _page(client, url, "en")


def test_every_change_list_and_add_form_of_the_site_opens_in_persian(admin_client):
    """Every admin on the site gets the Jalali columns and inputs (ours and the installed apps'): none breaks."""
    OrderFactory(placed_at=PLACED)
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        response = admin_client.get(reverse("admin:%s_%s_changelist" % info), HTTP_ACCEPT_LANGUAGE="fa")
        assert response.status_code in (200, 302, 403), (model, response.status_code)
        if model_admin.has_add_permission(response.wsgi_request):
            add = admin_client.get(reverse("admin:%s_%s_add" % info), HTTP_ACCEPT_LANGUAGE="fa")
            assert add.status_code in (200, 302, 403), (model, add.status_code)


@pytest.mark.parametrize(("language", "month_starts", "year_starts"), [
    ("fa", "2026-11-22", "2026-03-21"),  # 1 Azar and 1 Farvardin 1405
    ("en", "2026-12-01", "2026-01-01"),
])
def test_this_month_and_this_year_of_a_date_filter_are_the_readers(admin_client, language, month_starts, year_starts):
    with time_machine.travel(PLACED, tick=False):
        response = admin_client.get(reverse("admin:axes_accessattempt_changelist"), HTTP_ACCEPT_LANGUAGE=language)
    spec = next(spec for spec in response.context["cl"].filter_specs if spec.field_path == "attempt_time")
    links = dict(spec.links)
    assert str(links[_in(language, "This month")][spec.lookup_kwarg_since]).startswith(month_starts)
    assert str(links[_in(language, "This year")][spec.lookup_kwarg_since]).startswith(year_starts)


def _in(language, text):
    with translation.override(language):
        return translation.gettext(text)


@pytest.mark.parametrize(("language", "short", "moment"), [
    ("fa", "۱۴۰۵/۰۹/۱۳", "۱۳ آذر ۱۴۰۵، ۱۰:۳۰"),
    ("en", "12/04/2026", "Dec. 4, 2026, 10:30 a.m."),
])
def test_our_admin_templates_write_dates_in_the_readers_calendar(language, short, moment):
    template = Template('{% load admin_dates %}{{ at|admin_date:"SHORT_DATE_FORMAT" }}|{{ at|admin_moment }}')
    with translation.override(language):
        assert template.render(Context({"at": PLACED})) == f"{short}|{moment}"


def test_a_form_of_our_own_takes_jalali_dates_and_moments_in_persian_and_keeps_its_fields_elsewhere():
    with translation.override("fa"):
        form = ScheduleForm({"at_0": "۱۴۰۵/۱۰/۰۱", "at_1": "۰۹:۳۰"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["at"] == datetime(2026, 12, 22, 9, 30, tzinfo=dt_timezone.utc)
        tier = SetTierForm({"frozen_until": "1405/12/30", "note": "x"})  # 1405 is no leap year either
        assert not tier.is_valid() and tier.errors["frozen_until"][0].startswith("یک تاریخ درست وارد کنید")
    with translation.override("en"):
        assert type(ScheduleForm().fields["at"]) is django_forms.SplitDateTimeField
        assert type(SetTierForm().fields["frozen_until"]) is django_forms.DateField


MEMBERS = reverse("admin:club_membership_changelist")


def test_a_persian_reader_reads_the_change_lists_number_columns_in_persian_digits(admin_client):
    give_points(MembershipFactory(), 12500)

    html = _page(admin_client, MEMBERS, "fa")
    row = html.split('id="result_list"')[1].split("</table>")[0]

    assert "۱۲٬۵۰۰" in row and "12500" not in row and "12,500" not in row
    # The column keeps its label, its CSS class and its sorting link.
    assert 'class="sortable column-points_balance' in html and 'class="field-points_balance' in html
    assert "?o=" in html.split('column-points_balance')[1][:400]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_other_readers_read_the_numbers_as_django_writes_them(admin_client, language):
    give_points(MembershipFactory(), 12500)

    row = _page(admin_client, MEMBERS, language).split('id="result_list"')[1].split("</table>")[0]

    assert "12500" in row or "12,500" in row
