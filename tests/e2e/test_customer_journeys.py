"""A customer's journeys on a small phone (360 x 740) in Persian, Arabic and English, by clicking.

What test_customer_pages.py does not already cover: the scales fit one row, and a return goes
from the customer's request to the staff's click on "Approve" in the admin (in the same language)
to the approval message in the customer's inbox, on their timeline, and the unsubscribe link in it."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from django.core import mail
from django.urls import reverse
from django.utils import translation

from campaigns import tokens
from campaigns.models import Message
from crm import services as crm
from crm.services import LineInput
from feedback.models import ReturnRequest
from feedback.services import invitation_create
from feedback.services.returns import order_return_link
from tests.campaigns.helpers import automation
from tests.e2e.test_campaigns import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration,
              pytest.mark.usefixtures("celery_eager", "campaign_settings")]
LANGUAGES = ["fa", "ar", "en"]
NAMES = {"fa": "سارا", "ar": "نورة", "en": "Sara"}


def _(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture
def small_phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    yield page
    context.close()


def assert_fits_the_screen(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing runs off to the side


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_customer_answers_a_survey_with_each_scale_on_one_row(live_server, small_phone, shot, survey, language):
    customer = crm.customer_create(first_name=NAMES[language], email=f"s-{language}@example.com", language=language)
    small_phone.goto(live_server.url + invitation_create(survey=survey, customer=customer).path)
    assert small_phone.get_attribute("html", "lang") == language
    for index, cells in ((0, 11), (1, 5)):  # 0-10 and 1-5
        tops = small_phone.locator("fieldset").nth(index).locator("ul.scale li").evaluate_all(
            "items => items.map(item => Math.round(item.getBoundingClientRect().top))")
        assert len(tops) == cells and len(set(tops)) == 1, f"the scale of {cells} wraps: {tops}"
    for legend in small_phone.locator("fieldset > legend").all():  # a legend sits inside its box, below the border
        top, box_top = legend.evaluate("el => [el.getBoundingClientRect().top, el.parentElement.getBoundingClientRect().top]")
        assert top > box_top
    assert_fits_the_screen(small_phone)
    shot(small_phone, f"journey-survey-360-{language}")
    small_phone.locator("fieldset").nth(0).locator("ul.scale label").nth(9).click()
    small_phone.locator("fieldset").nth(1).locator("ul.scale label").nth(4).click()
    small_phone.get_by_role("button", name=_(language, "Send my answers")).click()
    expect(small_phone.get_by_role("heading", name=_(language, "Thank you!"))).to_be_visible()
    response = customer.survey_responses.get()
    assert response.language == language
    assert sorted(response.answers.exclude(number=None).values_list("number", flat=True)) == [5, 9]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_return_is_approved_by_a_click_and_the_customer_is_told(live_server, small_phone, desktop, shot, support_user,
                                                                  language):
    automation("return_update")
    customer = crm.customer_create(first_name=NAMES[language], email=f"r-{language}@example.com", language=language,
                                   email_opt_in=True, consent_source="test")
    order = crm.order_create(customer=customer, order_number="W-000177", placed_at=customer.created_at, total="200.00",
                             lines=[LineInput(sku="BEANS", product_name="Beans", category="coffee", quantity=2,
                                              unit_price=Decimal("100"))])
    # The customer asks for the return on their phone.
    small_phone.goto(live_server.url + order_return_link(order))
    beans = order.lines.get()
    small_phone.select_option(f"#id_qty_{beans.pk}", "1")
    small_phone.select_option(f"#id_reason_{beans.pk}", "damaged")
    small_phone.get_by_role("button", name=_(language, "Request the return")).click()
    expect(small_phone.get_by_role("heading", name=_(language, "Return requested"))).to_be_visible()
    number = small_phone.locator(".notice bdi")
    assert number.inner_text() == "W-000177" and number.evaluate("el => el.getClientRects().length") == 1  # one piece
    assert_fits_the_screen(small_phone)
    shot(small_phone, f"journey-return-done-360-{language}")
    request = ReturnRequest.objects.get()
    assert len(mail.outbox) == 1  # "we have received your request"

    # Support approves it in the admin, in the same language, with the button named after the action.
    sign_in(desktop, live_server, support_user, language)
    desktop.goto(live_server.url + reverse("admin:feedback_returnrequest_change", args=[request.pk]))
    shot(desktop, f"journey-return-admin-{language}")
    desktop.get_by_role("button", name=_(language, "Approve"), exact=True).click()
    desktop.wait_for_load_state()
    request.refresh_from_db()
    assert request.state == ReturnRequest.State.APPROVED

    # The approval reaches the customer's inbox, in their language, with the order number as an LTR island.
    assert len(mail.outbox) == 2
    approval = mail.outbox[1]
    html = approval.alternatives[0][0]
    assert approval.to == [customer.email] and f'lang="{language}"' in html and '<bdi dir="ltr">W-000177</bdi>' in html
    message = Message.objects.get(customer=customer, occasion__endswith=":approved", status=Message.Status.SENT)

    # ... and on the customer's timeline, which support reads.
    desktop.goto(live_server.url + reverse("admin:crm_customer_change", args=[customer.pk]) + "#crm-timeline")
    messages = desktop.locator("#crm-timeline .crm-kind-message")
    assert messages.count() == 2
    assert _(language, "Return updates") in messages.first.inner_text()
    shot(desktop, f"journey-return-timeline-{language}")

    # The customer unsubscribes from the message's own link, on their phone.
    prefix = tokens.unsubscribe_url(message).rsplit("/", 2)[0]  # the link is signed with a timestamp: match its path
    unsubscribe = re.search(f'href="({re.escape(prefix)}/[^"]+)"', html)
    assert unsubscribe, "the message carries its unsubscribe link"
    path = "/" + unsubscribe.group(1).split("://", 1)[1].split("/", 1)[1]
    small_phone.goto(live_server.url + path)
    assert small_phone.get_attribute("html", "lang") == language
    small_phone.locator("form button, form input[type=submit]").first.click()
    small_phone.wait_for_load_state()
    assert_fits_the_screen(small_phone)
    shot(small_phone, f"journey-unsubscribed-360-{language}")
    customer.refresh_from_db()
    assert not customer.email_opt_in
