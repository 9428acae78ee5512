"""What a customer and a staff member see in a real browser, on a phone-sized screen."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect
from django.utils import translation

from campaigns.models import Campaign, Message
from campaigns import tokens
from crm import services as crm
from crm.models import Customer
from crm.services import LineInput
from feedback.models import Response, ReturnRequest
from feedback.services import invitation_create
from feedback.services.returns import order_return_link

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def _(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def test_a_customer_answers_a_survey_in_persian_on_a_phone(live_server, phone, shot, survey):  # noqa: F811
    customer = crm.customer_create(first_name="سارا", email="sara@example.com", language="fa")
    invite = invitation_create(survey=survey, customer=customer)
    phone.goto(live_server.url + invite.path)
    assert phone.get_attribute("html", "dir") == "rtl" and phone.get_attribute("html", "lang") == "fa"
    expect(phone.get_by_text("چقدر احتمال دارد ما را به دوستان خود پیشنهاد کنید؟")).to_be_visible()
    shot(phone, "survey-fa")
    phone.get_by_role("button", name=_("fa", "Send my answers")).click()  # nothing chosen: errors, in Persian
    expect(phone.get_by_text(_("fa", "Please choose a number from 0 to 10."))).to_be_visible()
    shot(phone, "survey-fa-errors")
    phone.locator("fieldset").nth(0).get_by_label("۳", exact=True).check()  # the scale in Persian digits
    phone.locator("fieldset").nth(1).get_by_label("۲", exact=True).check()
    phone.get_by_role("button", name=_("fa", "Send my answers")).click()
    expect(phone.get_by_role("heading", name=_("fa", "Thank you!"))).to_be_visible()
    shot(phone, "survey-fa-thanks")
    response = Response.objects.get()
    assert response.language == "fa" and response.follow_up is not None  # a detractor: support follows up


def test_a_customer_requests_a_return_in_arabic(live_server, phone, shot):
    customer = crm.customer_create(first_name="نورة", email="noura@example.com", language="ar")
    order = crm.order_create(customer=customer, order_number="W-77", placed_at=Customer.objects.get().created_at,
                             total="300.00", lines=[
                                 LineInput(sku="BEANS", product_name="Beans", category="coffee", quantity=2, unit_price=Decimal("100")),
                                 LineInput(sku="MUG", product_name="Mug", category="kitchen", quantity=1, unit_price=Decimal("100"))])
    phone.goto(live_server.url + order_return_link(order))
    assert phone.get_attribute("html", "dir") == "rtl" and phone.get_attribute("html", "lang") == "ar"
    beans = order.lines.get(sku="BEANS")
    phone.select_option(f"#id_qty_{beans.pk}", "1")
    phone.select_option(f"#id_reason_{beans.pk}", "damaged")
    shot(phone, "return-ar")
    phone.get_by_role("button", name=_("ar", "Request the return")).click()
    expect(phone.get_by_role("heading", name=_("ar", "Return requested"))).to_be_visible()
    shot(phone, "return-ar-done")
    request = ReturnRequest.objects.get()
    assert request.channel == "customer" and request.lines.get().quantity == 1


@pytest.mark.parametrize("language", ["fa", "ar", "en"])
def test_a_customer_unsubscribes_with_one_click(live_server, phone, shot, language):
    customer = crm.customer_create(first_name="Mina", email="mina@example.com", language=language, email_opt_in=True,
                                   consent_source="test")
    campaign = Campaign.objects.create(name="Spring", channel="email", holdout_percent=0, subject_en="Hi", body_en="<p>Hi</p>")
    message = Message.objects.create(campaign=campaign, customer=customer, channel="email", language=language,
                                     status=Message.Status.SENT)
    path = tokens.unsubscribe_url(message).split("://", 1)[1].split("/", 1)[1]
    phone.goto(f"{live_server.url}/{path}")
    assert phone.get_attribute("html", "dir") == ("ltr" if language == "en" else "rtl")
    assert phone.get_attribute("html", "lang") == language
    customer.refresh_from_db()
    assert customer.email_opt_in  # looking at the page changes nothing
    shot(phone, f"unsubscribe-{language}")
    phone.locator("form button, form input[type=submit]").first.click()
    phone.wait_for_load_state()
    shot(phone, f"unsubscribe-{language}-done")
    customer.refresh_from_db()
    assert not customer.email_opt_in
    assert customer.consent_changes.first().source == "unsubscribe link"


def test_staff_log_in_and_open_the_retention_dashboard(live_server, desktop, shot, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "a long enough password 42")
    desktop.goto(live_server.url + "/admin/")
    desktop.fill("#id_username", "boss")
    desktop.fill("#id_password", "a long enough password 42")
    desktop.get_by_role("button", name="Log in").click()
    desktop.get_by_role("link", name="Retention dashboard").first.click()
    expect(desktop.get_by_role("heading", name="Retention dashboard")).to_be_visible()  # waits for the page
    expect(desktop.get_by_role("link", name="All customers").first).to_be_visible()
    shot(desktop, "admin-retention-dashboard")
