"""Holdout and lift, clicked in Chromium: a marketer reads a sent campaign's lift, sends a campaign whose
confirmation says who is held out, opens a message whose provider reported back, and reads an
automation's lift.

Never a POST to a URL for the action under test: the test's setup may receive a provider's webhook (that
is the provider's doing, not the user's); every step a marketer takes is a click, and every wait is
`expect(...).to_be_visible()`."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import expect

from campaigns import holdout
from campaigns.models import Automation, Campaign, Message
from campaigns.selectors.lift import automation_lift, campaign_lift
from tests.campaigns.helpers import make_campaign, make_customer, send_everything, static_segment
from tests.campaigns.test_email_reports import SIGNING_KEY, mailgun_event
from tests.e2e.test_campaigns import _, as_number, sign_in
from tests.factories import CampaignFactory, CustomerFactory, MessageFactory, OrderFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration, pytest.mark.usefixtures("celery_eager")]


def _row(section, label: str):
    """The table row whose header cell is exactly `label`."""
    return section.locator("tr").filter(has=section.page.get_by_role("rowheader", name=label, exact=True))


def _cells(row) -> list[str]:
    return [cell.strip() for cell in row.locator("td").all_inner_texts()]


@pytest.fixture
def sent_campaign(db):
    """A win-back campaign sent 40 days ago: 6 recipients (4 ordered 50.00 within the window), 4 held out
    (none ordered)."""
    start = timezone.now() - timedelta(days=40)
    campaign = CampaignFactory(name="Win back spring", status=Campaign.Status.SENT, started_at=start,
                               finished_at=start, holdout_percent=10)
    for index in range(10):
        customer = CustomerFactory(first_name=f"C{index}")
        held = index >= 6
        MessageFactory(campaign=campaign, customer=customer, created_at=start, sent_at=None if held else start,
                       status=Message.Status.HELD_OUT if held else Message.Status.SENT)
        if index < 4:
            OrderFactory(customer=customer, placed_at=start + timedelta(days=3), total=Decimal("50.00"))
    return campaign


@pytest.mark.parametrize("language", ["en", "fa"])
def test_a_marketer_reads_the_lift_of_a_sent_campaign(live_server, desktop, shot, marketing_user, sent_campaign,
                                                      language):
    sign_in(desktop, live_server, marketing_user, language)
    desktop.goto(live_server.url + reverse("admin:campaigns_campaign_changelist"))
    desktop.get_by_role("link", name="Win back spring").click()
    desktop.get_by_role("link", name=_(language, "Report"), exact=True).click()

    section = desktop.locator("section[aria-labelledby=lift-heading]")
    expect(section.get_by_role("heading", name=_(language, "Holdout and lift"))).to_be_visible()
    # Both groups, side by side: recipients, then the holdout.
    customers = _row(section, _(language, "Customers"))
    expect(customers).to_be_visible()
    assert [as_number(text) for text in _cells(customers)] == [6, 4]
    converted = _row(section, _(language, "Converted (a counted order in the window)"))
    assert [as_number(text) for text in _cells(converted)] == [4, 0]
    # The verdict in plain words, with its interval, as the selector words it in the reader's language.
    with translation.override(language):
        lift = campaign_lift(sent_campaign)
        sentence = lift.sentence
    verdict = section.locator(".lift-verdict")
    expect(verdict).to_be_visible()
    assert verdict.inner_text().strip() == sentence
    # 4/6 against 0/4: the interval excludes zero, and the sentence gives both of its ends.
    _lift, low, high = lift.rate_difference
    assert 0 < low < high and f"{100 * low:+.1f}" in sentence and f"{100 * high:+.1f}" in sentence
    effect = _row(section, _(language, "Lift in conversion rate (percentage points)"))
    expect(effect).to_be_visible()
    estimate, interval = _cells(effect)
    assert estimate not in ("", "—") and interval not in ("", "—")  # "low to high", in the reader's words
    # The chart is drawn (an SVG with both groups' bars), not the "no comparison yet" note.
    chart = section.locator(".chart-block svg")
    expect(chart).to_be_visible()
    assert chart.locator("rect").count() >= 4
    assert _(language, "No comparison yet: the recipients or the holdout group is empty.") not in section.inner_text()
    if language == "fa":
        assert desktop.get_attribute("html", "dir") == "rtl"
    shot(desktop, f"campaign-lift-{language}")


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_send_confirmation_says_who_is_held_out_and_the_send_holds_them_out(live_server, desktop, shot,
                                                                                  marketing_user, language):
    audience = [make_customer(first_name=f"P{index}") for index in range(30)]
    campaign = make_campaign(segments=[static_segment("s", audience)], holdout_percent=20)
    held = {customer.pk for customer in audience if holdout.is_held_out(campaign.holdout_seed, customer.pk, 20)}
    assert 0 < len(held) < 30
    sign_in(desktop, live_server, marketing_user, language)
    desktop.goto(live_server.url + reverse("admin:campaigns_campaign_changelist"))
    desktop.get_by_role("link", name=campaign.name).click()
    desktop.get_by_role("link", name=_(language, "Send now"), exact=True).click()

    expect(desktop.locator("#held-out")).to_be_visible()
    assert as_number(desktop.locator("#held-out strong").inner_text()) == len(held)
    assert as_number(desktop.locator("#would-receive strong").inner_text()) == 30 - len(held)
    summary = desktop.locator("#holdout-summary")
    expect(summary).to_be_visible()
    with translation.override(language):
        expected = translation.ngettext(
            "%(receiving)s customer will receive it; %(held)s (%(share)s%%) are held out and measure its effect.",
            "%(receiving)s customers will receive it; %(held)s (%(share)s%%) are held out and measure its effect.",
            30 - len(held),
        ) % {"receiving": 30 - len(held), "held": len(held), "share": round(100 * len(held) / 30)}
    assert expected in summary.inner_text()
    shot(desktop, f"campaign-holdout-confirm-{language}")
    assert Campaign.objects.get().status == Campaign.Status.DRAFT
    desktop.get_by_role("button", name=_(language, "Yes, send it now")).click()

    expect(desktop.locator("#campaign-progress")).to_be_visible()
    expect(desktop.locator("#campaign-status")).to_have_text(_(language, "Sent"))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert (campaign.held_out, campaign.recipients) == (len(held), 30 - len(held))
    messages = Message.objects.filter(campaign=campaign)
    assert set(messages.filter(status=Message.Status.HELD_OUT).values_list("customer_id", flat=True)) == held
    assert not messages.filter(customer_id__in=held, sent_at__isnull=False).exists()
    assert set(messages.filter(status=Message.Status.SENT).values_list("customer_id", flat=True)) == \
        {customer.pk for customer in audience} - held
    # No email went to a held-out customer; each of the others got one.
    received = sorted(address for email in mail.outbox for address in email.to)
    assert received == sorted(customer.email for customer in audience if customer.pk not in held)
    shot(desktop, f"campaign-holdout-sent-{language}")


def test_a_message_shows_what_the_provider_reported(live_server, desktop, shot, marketing_user, settings,
                                                    django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.campaigns.test_email_reports.MailgunLikeBackend"
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    ana = make_customer(first_name="Ana", last_name="Rahimi")
    campaign = send_everything(django_capture_on_commit_callbacks,
                               make_campaign(segments=[static_segment("s", [ana])], holdout_percent=0))
    message = Message.objects.get(campaign=campaign)
    # The provider's signed tracking webhooks arrive (the setup: the provider posts them, not a user).
    for event in ("delivered", "opened"):
        reply = Client().post("/anymail/mailgun/tracking/", data=json.dumps(mailgun_event(message.provider_id, event)),
                              content_type="application/json")
        assert reply.status_code == 200

    sign_in(desktop, live_server, marketing_user, "en")
    desktop.goto(live_server.url + reverse("admin:campaigns_message_changelist"))
    desktop.locator("#result_list tbody tr").first.locator("th a, td a").first.click()
    events = desktop.locator("#delivery_events-group")
    expect(events).to_be_visible()
    expect(events.get_by_text("Delivered", exact=True)).to_be_visible()
    expect(events.get_by_text("Opened", exact=True)).to_be_visible()
    expect(events.get_by_text("mailgun").first).to_be_visible()
    assert desktop.url.endswith(reverse("admin:campaigns_message_change", args=[message.pk]))
    shot(desktop, "message-delivery-events-en")


def test_a_marketer_reads_an_automations_lift(live_server, desktop, shot, marketing_user):
    now = timezone.now()
    automation = Automation.objects.create(name="Come back", kind=Automation.Kind.WIN_BACK, holdout_percent=10)
    for index, (status, days, ordered) in enumerate([
        (Message.Status.SENT, 50, 48), (Message.Status.SENT, 20, 15), (Message.Status.SENT, 30, None),
        (Message.Status.HELD_OUT, 45, 44), (Message.Status.HELD_OUT, 40, None),
    ]):
        customer = CustomerFactory(first_name=f"W{index}")
        MessageFactory(campaign=None, automation=automation, customer=customer, status=status,
                       created_at=now - timedelta(days=days))
        if ordered:
            OrderFactory(customer=customer, placed_at=now - timedelta(days=ordered), total=Decimal("30.00"))

    sign_in(desktop, live_server, marketing_user, "en")
    desktop.goto(live_server.url + reverse("admin:campaigns_automation_changelist"))
    desktop.locator("#result_list tr").filter(has_text="Come back").get_by_role("link", name="Report").click()

    section = desktop.locator("section[aria-labelledby=lift-heading]")
    expect(section.get_by_role("heading", name="Holdout and lift")).to_be_visible()
    customers = _row(section, "Customers")
    expect(customers).to_be_visible()
    assert [as_number(text) for text in _cells(customers)] == [3, 2]
    assert [as_number(text) for text in _cells(_row(section, "Converted (a counted order in the window)"))] == [2, 1]
    assert _cells(_row(section, "Conversion rate")) == ["66.7%", "50.0%"]
    lift = automation_lift(automation, start=now - timedelta(days=90), end=now + timedelta(minutes=5))
    expect(section.locator(".lift-verdict")).to_have_text(lift.sentence)
    expect(section.locator(".chart-block svg")).to_be_visible()
    shot(desktop, "automation-lift-en")
