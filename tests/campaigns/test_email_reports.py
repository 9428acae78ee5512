"""Email providers report back through django-anymail: a campaign sent with anymail's test backend,
then Mailgun tracking webhooks signed as Mailgun signs them, posted to anymail's tracking URL."""

import hashlib
import hmac
import json
import time
import uuid

import pytest
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.exceptions import AnymailRequestsAPIError
from django.core import mail
from django.test import Client
from django.urls import reverse

from campaigns.models import DeliveryEvent, Message, Suppression
from campaigns.selectors import is_suppressed
from core.timeline import customer_timeline
from crm.models import ConsentChange
from tests.campaigns.helpers import make_campaign, send_everything, static_segment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

SIGNING_KEY = "key-0123456789abcdef"
TRACKING_URL = "/anymail/mailgun/tracking/"


class MailgunLikeBackend(AnymailTestBackend):
    """anymail's test backend (nothing leaves the process), with message ids shaped like Mailgun's."""

    def get_esp_message_id(self, message):
        return f"<{uuid.uuid4().hex}@mg.shop.example>"


@pytest.fixture(autouse=True)
def mailgun(settings):
    settings.EMAIL_BACKEND = f"{__name__}.MailgunLikeBackend"
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


@pytest.fixture
def sent(customers, django_capture_on_commit_callbacks):
    people = [customers(first_name=name) for name in ("Ana", "Ben")]
    campaign = make_campaign(segments=[static_segment("s", people)])
    send_everything(django_capture_on_commit_callbacks, campaign)
    return {message.customer.first_name: message
            for message in Message.objects.filter(campaign=campaign).select_related("customer")}


def mailgun_event(message_id: str, event: str, *, key: str = SIGNING_KEY, token: str | None = None, **data) -> dict:
    """A Mailgun webhook body, signed as Mailgun does: HMAC-SHA256 of timestamp + token under the signing key."""
    timestamp, token = str(int(time.time())), token or uuid.uuid4().hex * 2
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {"event": event, "timestamp": time.time(), "id": uuid.uuid4().hex, "recipient": "x@example.com",
                       "message": {"headers": {"message-id": message_id.strip("<>")}}, **data},
    }


def post(body: dict):
    return Client().post(TRACKING_URL, data=json.dumps(body), content_type="application/json")


def test_it_stores_the_providers_message_id_when_sending(sent):
    assert len(mail.outbox) == 2
    ids = {str(email.anymail_status.message_id) for email in mail.outbox}
    assert {message.provider_id for message in sent.values()} == ids
    assert all(message.status == Message.Status.SENT for message in sent.values())


def test_delivered_opened_and_clicked_appear_on_the_message_and_the_timeline(sent):
    ana = sent["Ana"]
    for event, extra in (("delivered", {}), ("opened", {}), ("clicked", {"url": "https://shop.example/spring"})):
        assert post(mailgun_event(ana.provider_id, event, **extra)).status_code == 200

    ana.refresh_from_db()
    assert ana.delivered_at and ana.opened_at and ana.clicked_at and ana.engagement == "clicked"
    assert ana.status == Message.Status.SENT
    assert list(ana.delivery_events.order_by("occurred_at").values_list("kind", flat=True)) == [
        "delivered", "opened", "clicked"]
    assert ana.delivery_events.get(kind="clicked").url == "https://shop.example/spring"
    entries = [entry for entry in customer_timeline(ana.customer) if entry.kind == "delivery"]
    assert sorted(entry.extra["event"] for entry in entries) == ["clicked", "delivered", "opened"]
    # The other recipient is untouched.
    assert not DeliveryEvent.objects.filter(message=sent["Ben"]).exists()


def test_the_report_counts_as_delivered_only_what_the_provider_reported(sent, client, marketing_user):
    from campaigns.selectors import campaign_report

    assert post(mailgun_event(sent["Ana"].provider_id, "delivered")).status_code == 200
    assert post(mailgun_event(sent["Ana"].provider_id, "delivered")).status_code == 200  # a second report: one message
    campaign = sent["Ana"].campaign
    total = campaign_report(campaign).total
    # Both went out through a provider that reports; one delivery was reported so far.
    assert (total.sent, total.reported, total.delivered, total.unreported) == (2, 2, 1, 0)
    client.force_login(marketing_user)
    html = client.get(reverse("admin:campaigns_campaign_report", args=[campaign.pk])).content.decode()
    assert "as reported by the provider" in html and "does not report delivery" not in html


def test_a_hard_bounce_bounces_the_message_and_suppresses_the_address(sent):
    ben = sent["Ben"]
    body = mailgun_event(ben.provider_id, "failed", severity="permanent", reason="bounce",
                         **{"delivery-status": {"code": 550, "description": "No such mailbox", "message": "5.1.1"}})
    assert post(body).status_code == 200

    ben.refresh_from_db()
    assert ben.status == Message.Status.BOUNCED and ben.bounced_at and "No such mailbox" in ben.error
    assert is_suppressed(email=ben.customer.email)
    assert Suppression.objects.get().reason == Suppression.Reason.BOUNCE
    assert ben.delivery_events.get().outcome == DeliveryEvent.Outcome.SUPPRESSED
    assert ben.customer.consent_changes.filter(granted=False).count() == 0  # a bounce is not a withdrawal


def test_a_soft_bounce_changes_nothing(sent):
    ben = sent["Ben"]
    assert post(mailgun_event(ben.provider_id, "failed", severity="temporary", reason="generic")).status_code == 200
    ben.refresh_from_db()
    assert ben.status == Message.Status.SENT and not DeliveryEvent.objects.exists() and not Suppression.objects.exists()


def test_a_complaint_suppresses_and_withdraws_consent_with_its_source(sent):
    ana = sent["Ana"]
    assert post(mailgun_event(ana.provider_id, "complained")).status_code == 200

    ana.refresh_from_db()
    customer = ana.customer
    customer.refresh_from_db()
    assert ana.complained_at and ana.unsubscribed_at
    assert Suppression.objects.get().reason == Suppression.Reason.COMPLAINT
    assert customer.email_opt_in is False
    change = ConsentChange.objects.filter(customer=customer).order_by("-id").first()
    assert (change.channel, change.granted, change.source) == ("email", False, "spam complaint (mailgun)")
    kinds = {entry.kind for entry in customer_timeline(customer)}
    assert {"delivery", "consent", "message"} <= kinds


def test_a_replayed_webhook_is_recorded_once(sent):
    ana = sent["Ana"]
    body = mailgun_event(ana.provider_id, "complained")
    assert post(body).status_code == 200
    assert post(body).status_code == 200  # Mailgun retries: the same token is the same event

    assert DeliveryEvent.objects.count() == 1
    assert ConsentChange.objects.filter(customer=ana.customer, granted=False).count() == 1


@pytest.mark.parametrize("tamper", ["wrong key", "no signature", "changed after signing"])
def test_a_badly_signed_webhook_is_refused_and_writes_nothing(sent, tamper):
    ana = sent["Ana"]
    body = mailgun_event(ana.provider_id, "complained", key="key-someone-else" if tamper == "wrong key" else SIGNING_KEY)
    if tamper == "no signature":
        del body["signature"]
    if tamper == "changed after signing":
        body["signature"]["timestamp"] = str(int(body["signature"]["timestamp"]) + 1)

    response = post(body)

    assert 400 <= response.status_code < 500
    assert not DeliveryEvent.objects.exists() and not Suppression.objects.exists()
    ana.refresh_from_db()
    assert ana.complained_at is None and ana.customer.email_opt_in is True


def test_an_unknown_message_id_is_answered_200_and_ignored(sent):
    response = post(mailgun_event("<not-ours@mg.shop.example>", "complained"))
    assert response.status_code == 200
    assert not DeliveryEvent.objects.exists() and not Suppression.objects.exists()


def test_a_suppressed_address_gets_no_further_campaign(sent, customers, django_capture_on_commit_callbacks):
    ben = sent["Ben"]
    post(mailgun_event(ben.provider_id, "failed", severity="permanent", reason="bounce"))
    mail.outbox.clear()

    campaign = make_campaign(segments=[static_segment("again", [ben.customer])], name="Again")
    send_everything(django_capture_on_commit_callbacks, campaign)

    assert mail.outbox == []
    assert not Message.objects.filter(campaign=campaign, sent_at__isnull=False).exists()


def test_a_provider_that_is_not_configured_answers_404(settings):
    settings.ANYMAIL = {}
    assert post(mailgun_event("<x@mg.shop.example>", "delivered")).status_code == 404
    assert not DeliveryEvent.objects.exists()


def test_the_message_page_lists_what_the_provider_reported(sent, admin_client):
    ben = sent["Ben"]
    post(mailgun_event(ben.provider_id, "delivered"))
    post(mailgun_event(ben.provider_id, "failed", severity="permanent", reason="bounce",
                       **{"delivery-status": {"description": "Mailbox unavailable"}}))

    page = admin_client.get(reverse("admin:campaigns_message_change", args=[ben.pk]))

    content = page.content.decode()
    assert page.status_code == 200
    assert "Delivered" in content and "Mailbox unavailable" in content and "Address suppressed" in content
    customer_page = admin_client.get(reverse("admin:crm_customer_change", args=[ben.customer.pk]))
    assert customer_page.status_code == 200 and "Mailbox unavailable" in customer_page.content.decode()


class RefusingBackend(AnymailTestBackend):
    """anymail's test backend answering with the provider's HTTP error given by `status`."""

    status = 503

    def post_to_esp(self, payload, message):
        raise AnymailRequestsAPIError("provider error", status_code=RefusingBackend.status)


@pytest.mark.parametrize("status, outcome", [(503, Message.Status.QUEUED), (429, Message.Status.QUEUED),
                                             (400, Message.Status.FAILED)])
def test_a_provider_error_is_retried_later_or_fails_the_message(customers, settings, status, outcome):
    from campaigns import services
    from campaigns.services.sending import TransientSendError

    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    RefusingBackend.status = status
    campaign = make_campaign(segments=[static_segment("s", [customers()])])
    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)
    ids = list(campaign.messages.values_list("pk", flat=True))

    if outcome == Message.Status.QUEUED:
        with pytest.raises(TransientSendError):
            services.messages_send(message_ids=ids)
    else:
        assert services.messages_send(message_ids=ids).failed == 1

    message = campaign.messages.get()
    assert message.status == outcome and str(status) in message.error


def test_a_complaint_about_an_addressed_message_suppresses_its_address_and_keeps_the_consents(
        customers, django_capture_on_commit_callbacks):
    from campaigns.services import addressed_message_send
    from tests.campaigns.helpers import automation

    automation("enrol_code")
    customer = customers(first_name="Ana", email="ana@example.com", email_opt_in=True)
    with django_capture_on_commit_callbacks(execute=True):
        message = addressed_message_send(kind="enrol_code", customer_id=customer.pk, channel="email",
                                         address="till@example.com", language="en", occasion="enrol:test",
                                         context={"confirmation_code": "123456", "partner": "Shop", "code_minutes": 10})
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and mail.outbox[-1].to == ["till@example.com"]
    assert post(mailgun_event(message.provider_id, "complained")).status_code == 200
    assert post(mailgun_event(message.provider_id, "unsubscribed")).status_code == 200
    customer.refresh_from_db()
    assert customer.email_opt_in is True and not ConsentChange.objects.filter(customer=customer, granted=False).exists()
    assert is_suppressed(email="till@example.com") and not is_suppressed(email="ana@example.com")
