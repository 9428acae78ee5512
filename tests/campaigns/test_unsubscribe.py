from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from campaigns import services, tokens
from campaigns.models import InboundSms, Message
from crm.models import ConsentChange, Customer
from tests.campaigns.helpers import make_campaign, send_everything, static_segment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


@pytest.fixture
def sent(customers, django_capture_on_commit_callbacks):
    customer = customers(first_name="Mina", language="fa")
    campaign = make_campaign(segments=[static_segment("s", [customer])])
    send_everything(django_capture_on_commit_callbacks, campaign)
    return {"customer": customer, "message": campaign.messages.get(), "email": mail.outbox[0]}


def unsubscribe_path(email) -> str:
    header = email.extra_headers["List-Unsubscribe"]
    assert header.startswith("<https://crm.example.com/c/u/") and header.endswith(">")
    return urlsplit(header[1:-1]).path


def test_every_marketing_email_carries_one_click_list_unsubscribe_headers(sent):
    email = sent["email"]
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = unsubscribe_path(email).split("/")[3]
    assert sent["message"].public_id.hex in token and sent["customer"].email not in email.extra_headers["List-Unsubscribe"]
    assert unsubscribe_path(email) in email.alternatives[0][0]  # and a visible link in the body


def test_a_one_click_post_unsubscribes_with_no_login_cookie_or_csrf_token(sent):
    client = Client(enforce_csrf_checks=True)
    reply = client.post(unsubscribe_path(sent["email"]), data="List-Unsubscribe=One-Click",
                        content_type="application/x-www-form-urlencoded")
    assert reply.status_code == 200 and "Location" not in reply.headers
    customer = Customer.objects.get(pk=sent["customer"].pk)
    assert customer.email_opt_in is False
    change = ConsentChange.objects.filter(customer=customer).first()
    assert (change.channel, change.granted, change.source) == ("email", False, "unsubscribe link")
    message = Message.objects.get(pk=sent["message"].pk)
    # Delivery stays "sent"; the unsubscribe is engagement, read from its timestamp.
    assert message.status == Message.Status.SENT and message.unsubscribed_at and message.engagement == "unsubscribed"
    assert not reply.cookies


def test_a_second_post_is_harmless(sent):
    path = unsubscribe_path(sent["email"])
    Client().post(path)
    Client().post(path)
    assert ConsentChange.objects.filter(customer=sent["customer"], granted=False).count() == 1


def test_a_get_shows_a_translated_right_to_left_confirmation_and_changes_nothing(sent):
    reply = Client().get(unsubscribe_path(sent["email"]))
    page = reply.content.decode()
    assert reply.status_code == 200 and 'dir="rtl"' in page and 'lang="fa"' in page
    assert '<form method="post">' in page
    assert Customer.objects.get(pk=sent["customer"].pk).email_opt_in is True
    assert not ConsentChange.objects.filter(customer=sent["customer"], granted=False).exists()
    english = Client().get(unsubscribe_path(sent["email"]) + "?lang=en").content.decode()
    assert "Yes, unsubscribe me" in english and 'dir="ltr"' in english


def test_a_tampered_or_foreign_token_is_a_404_and_changes_nothing(sent):
    path = unsubscribe_path(sent["email"])
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    assert Client().post(tampered).status_code == 404
    open_token = tokens.make(tokens.OPEN, sent["message"].public_id.hex)  # another purpose's token
    assert Client().post(f"/c/u/{open_token}/").status_code == 404
    assert Customer.objects.get(pk=sent["customer"].pk).email_opt_in is True


def test_an_expired_link_is_refused(sent, settings):
    with time_machine.travel(timezone.now() + timedelta(days=settings.CAMPAIGNS_UNSUBSCRIBE_LINK_DAYS + 1)):
        assert Client().post(unsubscribe_path(sent["email"])).status_code == 404
    assert Customer.objects.get(pk=sent["customer"].pk).email_opt_in is True


@pytest.mark.parametrize("text", ["STOP", "stop", " Stop ", "لغو", "لغو ۱۱", "إلغاء", "الغاء", "UNSUBSCRIBE please"])
def test_an_inbound_stop_withdraws_sms_consent(customers, text):
    customer = customers(sms_opt_in=True, phone="+989121112233")
    record = services.inbound_sms_record(from_number="+98 912 111 2233", text=text)
    customer.refresh_from_db()
    assert record.is_stop and record.customers_unsubscribed == 1 and customer.sms_opt_in is False
    change = customer.consent_changes.filter(channel="sms").first()
    assert (change.granted, change.source) == (False, "sms stop")


@pytest.mark.parametrize("text", ["Thanks!", "Stopping by tomorrow", "when does the sale end?", ""])
def test_other_inbound_texts_are_recorded_and_change_nothing(customers, text):
    customer = customers(sms_opt_in=True, phone="+989121112234")
    record = services.inbound_sms_record(from_number="+989121112234", text=text)
    customer.refresh_from_db()
    assert not record.is_stop and customer.sms_opt_in is True
    assert InboundSms.objects.count() == 1


def test_a_stop_marks_the_latest_sms_as_unsubscribed(customers, django_capture_on_commit_callbacks):
    customer = customers(email_opt_in=False, sms_opt_in=True)
    campaign = make_campaign(segments=[static_segment("s", [customer])], channel="sms")
    send_everything(django_capture_on_commit_callbacks, campaign)
    services.inbound_sms_record(from_number=str(customer.phone), text="STOP")
    message = campaign.messages.get()
    assert message.status == Message.Status.SENT and message.is_unsubscribed
