"""A marketer sends, schedules and sends an offer campaign by clicking, in Chromium, in each admin language.

Never a POST to a URL: every action is a click on what the page shows, so a form nested inside the
change form (which a browser submits as the change form) cannot pass."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.models import Campaign, Message
from club import services as club
from crm.models import Customer
from tests.campaigns.helpers import make_campaign, static_segment
from tests.factories import CustomerFactory, OfferFactory, TierFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration, pytest.mark.usefixtures("celery_eager")]
LANGUAGES = ["en", "fa", "ar"]
DIGITS = {"fa": "۰۱۲۳۴۵۶۷۸۹", "ar": "٠١٢٣٤٥٦٧٨٩"}


def _(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def as_number(text: str) -> int:
    for digits in DIGITS.values():
        text = text.translate(str.maketrans(digits, "0123456789"))
    return int(text.strip())


def sign_in(page, live_server, user, language: str):
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", user.username)
    page.fill("#id_password", "correct horse battery staple")
    page.locator("input[type=submit]").click()
    page.goto(live_server.url + reverse("admin:core_staffpreference_changelist"))
    page.select_option("select[name=language]", language)
    page.locator("input[type=submit].default").click()
    assert page.get_attribute("html", "lang") == language
    assert page.get_attribute("html", "dir") == ("rtl" if language in ("fa", "ar") else "ltr")


def open_campaign(page, live_server, campaign):
    page.goto(live_server.url + reverse("admin:campaigns_campaign_change", args=[campaign.pk]))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_marketer_sends_a_campaign_now_and_watches_it_finish(live_server, desktop, shot, marketing_user, language):
    audience = [CustomerFactory(email_opt_in=True), CustomerFactory(email_opt_in=True)]
    campaign = make_campaign(segments=[static_segment("s", audience)])
    sign_in(desktop, live_server, marketing_user, language)
    open_campaign(desktop, live_server, campaign)
    desktop.get_by_role("link", name=_(language, "Send now"), exact=True).click()
    assert desktop.locator("#content h1").inner_text() == _(language, "Send this campaign now?")
    assert as_number(desktop.locator("#would-receive strong").inner_text()) == 2
    shot(desktop, f"campaign-send-now-confirm-{language}")
    assert Campaign.objects.get().status == Campaign.Status.DRAFT  # nothing happens before the confirmation
    desktop.get_by_role("button", name=_(language, "Yes, send it now")).click()

    desktop.wait_for_selector("#campaign-progress")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT and campaign.sent_count == 2
    assert set(Message.objects.filter(status=Message.Status.SENT).values_list("customer_id", flat=True)) == \
        {customer.pk for customer in audience}
    assert desktop.locator("#campaign-status").inner_text() == _(language, "Sent")
    shot(desktop, f"campaign-sent-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_marketer_schedules_a_campaign(live_server, desktop, shot, marketing_user, language):
    campaign = make_campaign(segments=[static_segment("s", [CustomerFactory(email_opt_in=True)])])
    sign_in(desktop, live_server, marketing_user, language)
    open_campaign(desktop, live_server, campaign)
    desktop.get_by_role("link", name=_(language, "Schedule"), exact=True).click()
    assert desktop.locator("#content h1").inner_text() == _(language, "Schedule this campaign?")
    desktop.fill("#id_at_0", "2099-03-04")
    desktop.fill("#id_at_1", "09:30")
    shot(desktop, f"campaign-schedule-confirm-{language}")
    desktop.get_by_role("button", name=_(language, "Yes, schedule it")).click()

    assert desktop.locator("#campaign-status").inner_text() == _(language, "Scheduled")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert timezone.localtime(campaign.scheduled_at).strftime("%Y-%m-%d %H:%M") == "2099-03-04 09:30"
    assert not Message.objects.exists()
    shot(desktop, f"campaign-scheduled-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_offer_campaign_leaves_out_non_members_and_says_so_before_sending(live_server, desktop, shot, marketing_user,
                                                                              language):
    TierFactory(name="Bronze", rank=1, threshold=0)
    members = [CustomerFactory(email_opt_in=True, first_name=name) for name in ("Sara", "Reza")]
    for customer in members:
        club.member_enroll(customer=customer)
    outsiders = [CustomerFactory(email_opt_in=True) for _index in range(3)]
    offer = OfferFactory(title="Free coffee", points_cost=0)
    campaign = make_campaign(segments=[static_segment("s", [*members, *outsiders])], offer=offer,
                             body_en="<p>{{ first_name }}: {{ points_balance }} points ({{ tier }}), {{ coupon_code }}</p>")
    sign_in(desktop, live_server, marketing_user, language)
    open_campaign(desktop, live_server, campaign)
    assert as_number(desktop.locator("#not-for-offer strong").inner_text()) == 3  # on the page before sending
    desktop.get_by_role("link", name=_(language, "Send now"), exact=True).click()
    assert as_number(desktop.locator("#not-for-offer strong").inner_text()) == 3  # and in the confirmation
    assert as_number(desktop.locator("#would-receive strong").inner_text()) == 2
    expect(desktop.locator(".offer-exclusion")).to_be_visible()
    shot(desktop, f"campaign-offer-confirm-{language}")
    desktop.get_by_role("button", name=_(language, "Yes, send it now")).click()

    desktop.wait_for_selector("#campaign-progress")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert (campaign.recipients, campaign.skipped_not_for_offer) == (2, 3)
    assert not Message.objects.filter(customer__in=outsiders).exists()
    sent = Message.objects.filter(status=Message.Status.SENT)
    assert sent.count() == 2 and sent.filter(coupon__isnull=False).count() == 2
    assert Customer.objects.count() == 5
    shot(desktop, f"campaign-offer-sent-{language}")
