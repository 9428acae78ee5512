"""Return updates: each state change of a return reaches the customer once, on a consented channel,
in their language, and shows on their timeline."""

from decimal import Decimal

import pytest
from django.core import mail
from django.utils import translation

from campaigns.models import Automation, Message
from core.timeline import customer_timeline
from crm.services import LineInput
from feedback.models import ReturnRequest
from feedback.services import returns
from feedback.services.returns import LineRequest
from tests.campaigns.helpers import automation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]
State = ReturnRequest.State


@pytest.fixture
def order_of(place_order):
    def order_of(customer):
        return place_order(customer, days_ago=2, total="200.00", order_number="D-000175", lines=[
            LineInput(sku="BEANS", product_name="Beans", category="coffee", quantity=2, unit_price=Decimal("100")),
        ])
    return order_of


def request_return(order, capture):
    with capture(execute=True):
        return returns.return_request_create(order=order, lines=[LineRequest(order.lines.get().pk, 1, "damaged")],
                                             channel="customer")


def move(request, state, capture):
    with capture(execute=True):
        return returns.return_transition(return_request=request, to_state=state)


def test_it_tells_the_customer_of_each_state_change_in_their_language(customers, order_of,
                                                                      django_capture_on_commit_callbacks):
    automation("return_update")
    customer = customers(language="fa", first_name="Kian")
    request = request_return(order_of(customer), django_capture_on_commit_callbacks)
    request = move(request, State.APPROVED, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 2
    requested, approved = mail.outbox
    assert requested.to == [customer.email] and approved.to == [customer.email]
    assert "مرجوعی سفارش \u2066D-000175\u2069" in approved.subject  # the number is a left-to-right island
    html = approved.alternatives[0][0]
    assert 'dir="rtl"' in html and '<bdi dir="ltr">D-000175</bdi>' in html and "تأیید شد" in html
    assert "دریافت کردیم" in requested.alternatives[0][0]
    assert list(Message.objects.order_by("pk").values_list("occasion", "status", "language")) == [
        (f"return:{request.public_id}:requested", Message.Status.SENT, "fa"),
        (f"return:{request.public_id}:approved", Message.Status.SENT, "fa"),
    ]


def test_it_sends_a_replayed_state_change_once(customers, order_of, django_capture_on_commit_callbacks):
    from campaigns.services.automations import on_return_updated

    automation("return_update")
    request = request_return(order_of(customers()), django_capture_on_commit_callbacks)
    request = move(request, State.REJECTED, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        on_return_updated(sender=ReturnRequest, return_request=request)  # a redelivered signal
        on_return_updated(sender=ReturnRequest, return_request=request)

    assert len(mail.outbox) == 2
    assert "could not be approved" in mail.outbox[1].alternatives[0][0]
    assert Message.objects.count() == 2


def test_it_texts_a_customer_who_allowed_only_sms(customers, order_of, sms_outbox, django_capture_on_commit_callbacks):
    automation("return_update")
    customer = customers(email_opt_in=False, sms_opt_in=True, language="ar")
    request = request_return(order_of(customer), django_capture_on_commit_callbacks)
    move(request, State.APPROVED, django_capture_on_commit_callbacks)

    assert mail.outbox == []
    assert [sms["to"] for sms in sms_outbox] == [customer.phone] * 2
    assert "\u2066D-000175\u2069" in sms_outbox[-1]["text"] and "تمت الموافقة" in sms_outbox[-1]["text"]


def test_it_sends_nothing_without_consent_and_says_why_on_the_timeline(customers, order_of,
                                                                      django_capture_on_commit_callbacks):
    automation("return_update")
    customer = customers(email_opt_in=False)
    request_return(order_of(customer), django_capture_on_commit_callbacks)

    assert mail.outbox == []
    message = Message.objects.get()
    assert message.status == Message.Status.SKIPPED and message.skip_reason == Message.SkipReason.NO_CONSENT
    entries = [entry for entry in customer_timeline(customer) if entry.kind == "message"]
    assert [str(entry.title) for entry in entries] == ["Email: Return updates"]


def test_it_shows_the_sent_message_on_the_customers_timeline(customers, order_of, django_capture_on_commit_callbacks):
    automation("return_update")
    customer = customers()
    request_return(order_of(customer), django_capture_on_commit_callbacks)

    entry = next(entry for entry in customer_timeline(customer) if entry.kind == "message")
    assert str(entry.title) == "Email: Return updates" and customer.email in entry.detail
    with translation.override("fa"):  # named in the staff's language, not by the automation's stored name
        entry = next(entry for entry in customer_timeline(customer) if entry.kind == "message")
        assert "اطلاع‌رسانی مرجوعی" in str(entry.title)


def test_it_sends_nothing_when_staff_turned_return_updates_off(customers, order_of, django_capture_on_commit_callbacks):
    automation("return_update", enabled=False)
    request_return(order_of(customers()), django_capture_on_commit_callbacks)

    assert mail.outbox == [] and not Message.objects.exists()


def test_it_starts_enabled_with_texts_in_three_languages():
    item = Automation.objects.get(kind="return_update")
    assert item.enabled and not item.is_marketing
    assert all(getattr(item, f"body_{language}") for language in ("en", "fa", "ar"))
