"""A Persian staff member reads and types one calendar, the Jalali one, everywhere in the admin (core.admin_dates):
a date typed by keyboard on a change form is saved as the right day and read back in the change list, and the
dashboard's custom period is chosen with Jalali dates. In Chromium, by clicking and typing."""

from datetime import date

import pytest
from django.urls import reverse

from crm.models import Interaction
from tests.e2e.test_campaigns import _, sign_in
from tests.factories import CustomerFactory, InteractionFactory

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def test_a_persian_support_agent_types_a_jalali_follow_up_day_and_reads_it_in_the_list(live_server, desktop, shot,
                                                                                        support_user):
    InteractionFactory(customer=CustomerFactory(first_name="Sara"), subject="Asked about her refund", status="open")
    sign_in(desktop, live_server, support_user, "fa")

    desktop.goto(live_server.url + reverse("admin:crm_interaction_changelist"))
    desktop.locator("#result_list").get_by_role("link", name="Asked about her refund").click()
    box = desktop.locator("#id_follow_up_on")
    assert (box.get_attribute("type"), box.get_attribute("dir"), box.get_attribute("inputmode")) == ("text", "ltr", "numeric")
    assert box.get_attribute("placeholder").startswith("۱۴")  # today, written as the box wants it
    assert desktop.locator("#id_occurred_at_0").input_value().startswith("۱۴")  # the moment it happened, in Jalali

    box.fill("")
    box.press_sequentially("۱۴۰۵/۱۳/۰۱")  # a thirteenth month: refused, with an example to copy
    desktop.locator("input[name=_save]").click()
    expect(desktop.locator(".errorlist").first).to_contain_text("یک تاریخ درست وارد کنید، مثلاً ۱۴")
    assert Interaction.objects.get().follow_up_on is None

    box = desktop.locator("#id_follow_up_on")
    box.fill("")
    box.press_sequentially("۱۴۰۵/۱۰/۰۱")
    shot(desktop, "jalali-follow-up-typed-fa")
    desktop.locator("input[name=_save]").click()

    expect(desktop.locator("#result_list td.field-follow_up_on").first).to_have_text("۱ دی ۱۴۰۵")
    assert Interaction.objects.get().follow_up_on == date(2026, 12, 22)  # 1 Dey 1405
    assert "2026" not in desktop.locator("#result_list").inner_text()
    shot(desktop, "jalali-follow-up-in-the-list-fa")


def test_a_persian_marketer_chooses_the_dashboards_custom_period_in_jalali(live_server, desktop, shot, marketing_user):
    sign_in(desktop, live_server, marketing_user, "fa")
    desktop.goto(live_server.url + reverse("admin:index"))
    desktop.get_by_role("link", name=_("fa", "Retention dashboard"), exact=True).first.click()

    desktop.select_option("#id_period", "custom")
    for selector, typed in (("#id_start", "۱۴۰۵/۰۱/۰۱"), ("#id_end", "1405/04/01")):  # Persian or ASCII digits
        desktop.locator(selector).fill("")
        desktop.locator(selector).press_sequentially(typed)
    # The month beside the box opens at the day typed, in Jalali; its arrows walk the Jalali months.
    desktop.locator("#id_end ~ .local-date-picker-open").click()
    month = desktop.locator("#id_end ~ .local-date-picker")
    expect(month.locator("strong")).to_have_text("تیر ۱۴۰۵")
    expect(month.locator("[aria-pressed=true]")).to_have_text("۱")
    month.get_by_role("button", name=_("fa", "Next month")).click()
    expect(month.locator("strong")).to_have_text("مرداد ۱۴۰۵")
    assert month.locator("tbody button").count() == 31
    shot(desktop, "jalali-dashboard-month-fa")
    month.get_by_role("button", name="۱۴۰۵/۰۵/۰۱").click()
    expect(desktop.locator("#id_end")).to_have_value("۱۴۰۵/۰۵/۰۱")
    with desktop.expect_navigation():
        desktop.locator("form.analytics-filters input[type=submit]").click()

    expect(desktop.locator("#id_start")).to_have_value("۱۴۰۵/۰۱/۰۱")
    expect(desktop.locator("#id_end")).to_have_value("۱۴۰۵/۰۵/۰۱")  # 1 Mordad 1405: 23 July 2026
    assert desktop.locator("#id_period").input_value() == "custom"
    shot(desktop, "jalali-dashboard-custom-period-fa")
