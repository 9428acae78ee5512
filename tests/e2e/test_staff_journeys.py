"""A support agent's and a marketer's day, clicked and typed in Chromium, in each admin language.

Support: find a customer by email, by a national phone number and by a Persian name typed with either
letter form; log a call with a follow-up and see it on the home page; copy the return link from an
order and the card link from a membership. Marketing: build a segment with the rule builder and save
it; read the retention dashboard and a segment's page. (Sending and scheduling a campaign:
tests/e2e/test_campaigns.py.) Never a POST to a URL: every action is a click on what the page shows.
"""

import re
from datetime import date, datetime, timezone as dt_timezone

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from analytics.services import snapshots
from campaigns.models import Segment
from campaigns.segments import segment_save
from club import services as club
from club.card import member_for_card_link
from crm import services as crm
from crm.models import Interaction
from feedback.services.returns import order_for_return_link
from tests.e2e.test_campaigns import sign_in
from tests.factories import CustomerFactory, TierFactory

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]
LANGUAGES = ["en", "fa", "ar"]
TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩٫٬", "01234567890123456789.,")


def _(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def ascii_text(text: str) -> str:
    return text.translate(TO_ASCII)


@pytest.fixture
def staff(browser):
    """A desktop page that may use the clipboard (the copy buttons write to it; the test reads it back)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    yield page
    context.close()


def search_customers(page, live_server, term: str) -> list[str]:
    page.goto(live_server.url + reverse("admin:crm_customer_changelist"))
    page.fill("#searchbar", term)
    with page.expect_navigation():
        page.press("#searchbar", "Enter")
    return page.locator("#result_list tbody tr th a, #result_list tbody tr td.field-display_name a").all_inner_texts()


@pytest.mark.parametrize("language", LANGUAGES)
def test_support_finds_a_customer_by_email_national_phone_and_persian_name(live_server, staff, shot, support_user,
                                                                          settings, language):
    settings.PHONENUMBER_DEFAULT_REGION = "IR"
    # Stored with the Arabic letters (ك, ي), as many imports write Persian names.
    kian = crm.customer_create(first_name="كيان", last_name="رضايي", email="kian@example.com", phone="+989121234567")
    crm.customer_create(first_name="Other", email="other@example.com", phone="+989350000000")
    sign_in(staff, live_server, support_user, language)
    for term in ("KIAN@example.com", "0912 123 4567", "کیان", "كيان", "کیان رضا"):
        found = search_customers(staff, live_server, term)
        assert len(found) == 1 and "كيان" in found[0], (term, found)
    shot(staff, f"support-search-{language}")
    staff.locator("#result_list tbody tr a").first.click()
    assert staff.locator("#id_email").input_value() == kian.email


@pytest.mark.parametrize("language", LANGUAGES)
def test_support_logs_a_call_and_sees_the_follow_up_on_the_home_page(live_server, staff, shot, support_user, language):
    customer = crm.customer_create(first_name="Sara", last_name="Ahmadi", email="sara@example.com")
    sign_in(staff, live_server, support_user, language)
    search_customers(staff, live_server, "sara@example.com")
    staff.locator("#result_list tbody tr a").first.click()
    staff.select_option("#id_interaction-channel", "phone")
    staff.fill("#id_interaction-subject", "Asked about her refund")
    staff.fill("#id_interaction-body", "Call back once the warehouse confirms.")
    staff.select_option("#id_interaction-status", "open")
    staff.fill("#id_interaction-follow_up_on", timezone.localdate().isoformat())
    shot(staff, f"support-log-call-{language}")
    with staff.expect_navigation():
        staff.locator("#crm-log-interaction input[type=submit]").click()
    expect(staff.locator("#crm-timeline").get_by_text("Asked about her refund").first).to_be_visible()
    interaction = Interaction.objects.get()
    assert (interaction.customer, interaction.channel, interaction.status, interaction.staff) == \
        (customer, "phone", "open", support_user)
    assert interaction.follow_up_on == timezone.localdate()

    staff.goto(live_server.url + reverse("admin:index"))
    follow_ups = staff.locator("#crm-follow-ups")
    expect(follow_ups.get_by_role("link", name="Asked about her refund")).to_be_visible()
    expect(follow_ups.get_by_text(_(language, "today"), exact=True)).to_be_visible()
    shot(staff, f"support-home-follow-up-{language}")


def copied(page, key: str, language: str) -> str:
    """Click the copy button of a link and return what the clipboard holds."""
    row = page.locator(f".customer-link[data-link={key}]")
    # The button works once its deferred script has run (static/admin-links/copy-link.js): a click before that, on a
    # page still loading, did nothing and the status stayed empty (seen once in CI, under load).
    page.wait_for_function("window.customerLinksReady === true")
    row.get_by_role("button").click()
    expect(row.locator(".customer-link-status")).to_have_text(_(language, "Copied"))  # the script answers after the copy
    text = page.evaluate("navigator.clipboard.readText()")
    assert text == row.locator("input").input_value()
    return text


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_support_copies_the_return_link_of_an_order_and_the_card_link_of_a_membership(live_server, staff, shot,
                                                                                      support_user, language):
    TierFactory(name="Bronze", rank=1, threshold=0)
    customer = crm.customer_create(first_name="Nima", email="nima@example.com")
    order = crm.order_create(customer=customer, order_number="W-1001", placed_at=timezone.now(), total="40.00")
    member = club.member_enroll(customer=customer)
    sign_in(staff, live_server, support_user, language)

    staff.goto(live_server.url + reverse("admin:crm_order_changelist"))
    staff.get_by_role("link", name="W-1001").click()
    assert order_for_return_link(token_of(copied(staff, "return", language))) == order
    shot(staff, f"support-order-return-link-{language}")

    staff.goto(live_server.url + reverse("admin:club_membership_changelist"))
    staff.locator("#result_list tbody tr a").first.click()
    assert member_for_card_link(token_of(copied(staff, "card", language))) == member
    shot(staff, f"support-membership-card-link-{language}")

    staff.goto(live_server.url + reverse("admin:crm_customer_change", args=[customer.pk]))  # the customer page has both
    assert member_for_card_link(token_of(copied(staff, "card", language))) == member
    assert order_for_return_link(token_of(copied(staff, "return", language))) == order


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_marketer_builds_a_segment_with_the_rule_builder_and_sees_who_is_in_it(live_server, staff, shot,
                                                                                marketing_user, language):
    shiraz = [CustomerFactory(first_name=name, city="Shiraz") for name in ("Laleh", "Omid")]
    CustomerFactory(first_name="Tara", city="Tabriz")
    sign_in(staff, live_server, marketing_user, language)
    staff.goto(live_server.url + reverse("admin:campaigns_segment_changelist"))
    staff.locator(".object-tools a.addlink").click()
    staff.fill("#id_name", "Shiraz")
    builder = staff.locator(".rule-builder")
    builder.get_by_role("button", name=_(language, "+ Condition")).click()
    condition = builder.locator(".condition").first
    condition.get_by_label(_(language, "Field")).select_option(label=_(language, "City"))
    operator = condition.get_by_label(_(language, "Condition"))
    assert _(language, "is one of") in operator.locator("option").all_inner_texts()  # words, not "in"
    operator.select_option(label=_(language, "is"))
    condition.locator("input[type=text]").fill("Shiraz")
    sample = builder.locator(".rule-builder-sample tbody tr")
    result = builder.locator(".rule-builder-result")
    expect(result).to_have_text(re.compile(r"^[2۲] "))  # the latest rules' answer, whatever answered first
    assert sample.count() == 2
    shot(staff, f"segment-builder-{language}")
    with staff.expect_navigation():
        staff.locator("input[name=_continue]").click()

    segment = Segment.objects.get(name="Shiraz")
    assert segment.rules == {"all": [{"field": "city", "op": "eq", "value": "Shiraz"}]} and segment.size == 2
    expect(result).to_have_text(re.compile(r"^[2۲] "))  # after saving, the preview shows who is in it
    assert sorted(sample.locator("td:first-child").all_inner_texts()) == sorted(str(c.first_name) + " " + c.last_name
                                                                                 for c in shiraz)
    shot(staff, f"segment-saved-{language}")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=dt_timezone.utc)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_marketer_reads_the_retention_dashboard_and_a_segments_page(live_server, staff, shot, marketing_user, settings,
                                                                      language):
    settings.CRM_ACTIVITY_WINDOW_DAYS = 90
    people = {name: CustomerFactory(first_name=name, city="Tehran" if name in "AB" else "Shiraz") for name in "ABC"}
    for name, when, total in (("A", at(2026, 2, 15), "100"), ("A", at(2026, 5, 10), "50"), ("B", at(2026, 3, 20), "30"),
                              ("C", at(2026, 4, 1), "20")):
        crm.order_create(customer=people[name], order_number=f"D-{name}-{when:%m}", placed_at=when, total=total)
    segment_save(slug="tehran", name="Tehran", rules={"all": [{"field": "city", "op": "eq", "value": "Tehran"}]})
    snapshots.snapshots_refresh(today=date(2026, 8, 15), periods=2, kinds=["quarter"])
    sign_in(staff, live_server, marketing_user, language)
    staff.goto(live_server.url + reverse("admin:analytics_retentiondashboard_changelist") + "?period=quarter&start=2026-04-01")
    table = staff.locator("#retention-table")
    everyone = table.locator("tbody tr").first
    # All customers in Q2 2026: A and B active at its start, A ordered again: 50% retention, 50% churn.
    assert "50" in ascii_text(everyone.inner_text())
    expect(table.get_by_role("link", name="Tehran")).to_be_visible()
    shot(staff, f"retention-dashboard-{language}")
    table.get_by_role("link", name="Tehran").click()
    assert "Tehran" in staff.locator("#content").inner_text()
    figures = ascii_text(" ".join(staff.locator(".figure-card").all_inner_texts()))
    assert "50" in figures  # Tehran is A and B: the same 50% retention
    shot(staff, f"segment-page-{language}")
