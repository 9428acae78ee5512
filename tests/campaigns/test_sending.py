from collections import Counter
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from campaigns import services, sms
from campaigns.models import Campaign, Message
from campaigns.services import sending
from campaigns.tasks import send_messages
from tests.campaigns.helpers import make_campaign, send_everything, static_segment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the sending code may catch it."""


def started_campaign(customers, size=6, **fields):
    campaign = make_campaign(segments=[static_segment("s", [customers() for _ in range(size)])], **fields)
    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)
    return campaign


def run_like_a_worker(message_ids) -> int:
    """Run the task, and again after each Retry with the retry count a worker would give it."""
    for attempt in range(20):
        try:
            send_messages.apply(args=[message_ids], retries=attempt, throw=True)
        except Retry:
            continue
        return attempt + 1
    raise AssertionError("the task never stopped retrying")


def ids_of(campaign):
    return list(campaign.messages.order_by("pk").values_list("pk", flat=True))


def deliveries():
    return Counter(email.to[0] for email in mail.outbox)


def test_a_chunk_sends_each_message_and_marks_it_sent(customers):
    campaign = started_campaign(customers, size=3)
    result = services.messages_send(message_ids=ids_of(campaign))
    assert result.sent == 3
    assert set(campaign.messages.values_list("status", flat=True)) == {Message.Status.SENT}
    assert all(message.sent_at and message.to_address and message.provider_id for message in campaign.messages.all())
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT and campaign.sent_count == 3


def test_a_task_run_twice_sends_once(customers):
    campaign = started_campaign(customers, size=4)
    send_messages.apply(args=[ids_of(campaign)])
    send_messages.apply(args=[ids_of(campaign)])
    assert len(mail.outbox) == 4 and set(deliveries().values()) == {1}


def test_a_crash_between_chunks_and_a_resume_send_every_message_exactly_once(customers, settings,
                                                                             django_capture_on_commit_callbacks):
    settings.CAMPAIGNS_CHUNK_SIZE = 2
    campaign = started_campaign(customers, size=6)
    first_chunk = ids_of(campaign)[:2]
    send_messages.apply(args=[first_chunk])  # the worker then dies: the other chunks never run
    assert len(mail.outbox) == 2

    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_resume(campaign=campaign)  # queues what is still queued
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_resume(campaign=campaign)  # and again: nothing left to send

    assert len(mail.outbox) == 6 and set(deliveries().values()) == {1}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT and campaign.sent_count == 6


def test_a_worker_killed_mid_chunk_never_sends_a_message_twice(customers, monkeypatch, settings,
                                                               django_capture_on_commit_callbacks):
    campaign = started_campaign(customers, size=5)
    real_send = sending._send_email
    calls = {"n": 0}

    def send_then_die_on_the_third(message, rendered, to_address, connection):
        calls["n"] += 1
        provider_id = real_send(message, rendered, to_address, connection)
        if calls["n"] == 3:
            raise WorkerKilled  # killed after the server took it, before it was marked sent
        return provider_id

    monkeypatch.setattr(sending, "_send_email", send_then_die_on_the_third)
    with pytest.raises(WorkerKilled):
        services.messages_send(message_ids=ids_of(campaign))
    monkeypatch.setattr(sending, "_send_email", real_send)
    assert Counter(campaign.messages.values_list("status", flat=True)) == {"sent": 2, "sending": 1, "queued": 2}

    # The redelivered task: the in-flight message is not claimable, the rest go once.
    send_messages.apply(args=[ids_of(campaign)])
    assert len(mail.outbox) == 5 and set(deliveries().values()) == {1}

    # Later the sweep settles the in-flight one as failed, "delivery unknown" (at most once).
    later = timezone.now() + timedelta(minutes=settings.CAMPAIGNS_STALE_SENDING_MINUTES + 1)
    assert services.messages_sweep_stale(now=later) == 1
    failed = campaign.messages.get(status=Message.Status.FAILED)
    assert "delivery unknown" in failed.error
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT and (campaign.sent_count, campaign.failed_count) == (4, 1)
    assert len(mail.outbox) == 5


def test_resend_to_those_that_failed(customers, django_capture_on_commit_callbacks):
    campaign = started_campaign(customers, size=3)
    broken = campaign.messages.order_by("pk").first()
    Message.objects.filter(pk=broken.pk).update(status=Message.Status.FAILED, error="mail server refused", failed_at=timezone.now())
    services.messages_send(message_ids=ids_of(campaign))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT and campaign.failed_count == 1 and len(mail.outbox) == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert services.campaign_resend_failed(campaign=campaign) == 1
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT and campaign.failed_count == 0
    assert len(mail.outbox) == 3 and set(deliveries().values()) == {1}


class DownProvider(sms.BaseBackend):
    calls = 0

    def send(self, to_e164, text, idempotency_key):
        DownProvider.calls += 1
        raise sms.TransientSmsError("503 Service Unavailable")


class FlakyProvider(sms.BaseBackend):
    calls = 0

    def send(self, to_e164, text, idempotency_key):
        FlakyProvider.calls += 1
        if FlakyProvider.calls == 1:
            raise sms.TransientSmsError("429 Too Many Requests")
        sms.LocmemBackend.outbox.append({"to": to_e164, "text": text, "idempotency_key": idempotency_key})
        return f"flaky-{FlakyProvider.calls}"


def test_a_provider_error_is_retried_and_then_sent_once(customers, settings, sms_outbox):
    settings.SMS_BACKEND = "tests.campaigns.test_sending.FlakyProvider"
    FlakyProvider.calls = 0
    campaign = make_campaign(segments=[static_segment("s", [customers(email_opt_in=False, sms_opt_in=True)])], channel="sms")
    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)
    assert run_like_a_worker(ids_of(campaign)) == 2
    message = campaign.messages.get()
    assert message.status == Message.Status.SENT and message.attempts == 2 and message.provider_id == "flaky-2"
    assert len(sms_outbox) == 1 and sms_outbox[0]["idempotency_key"] == message.public_id.hex


def test_when_the_retries_run_out_the_message_ends_failed_with_the_error(customers, settings):
    settings.SMS_BACKEND = "tests.campaigns.test_sending.DownProvider"
    settings.CAMPAIGNS_SEND_RETRIES = 3
    DownProvider.calls = 0
    campaign = make_campaign(segments=[static_segment("s", [customers(email_opt_in=False, sms_opt_in=True)])], channel="sms")
    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)
    assert run_like_a_worker(ids_of(campaign)) == 4
    message = campaign.messages.get()
    assert DownProvider.calls == 4
    assert message.status == Message.Status.FAILED and "503 Service Unavailable" in message.error
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT and campaign.failed_count == 1


def test_a_refused_address_fails_that_message_and_the_chunk_goes_on(customers):
    campaign = started_campaign(customers, size=3)
    first = campaign.messages.order_by("pk").first()
    first.customer.email = "not-an-address@"
    first.customer.save(update_fields=["email"])
    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages

    def refuse_bad(self, messages):
        import smtplib

        if messages[0].to[0].endswith("@"):
            raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (550, b"no such user")})
        return original(self, messages)

    EmailBackend.send_messages = refuse_bad
    try:
        result = services.messages_send(message_ids=ids_of(campaign))
    finally:
        EmailBackend.send_messages = original
    assert (result.sent, result.failed) == (2, 1)
    assert "refused" in Message.objects.get(pk=first.pk).error


def test_consent_withdrawn_after_the_freeze_means_no_message(customers):
    campaign = started_campaign(customers, size=2)
    quitter = campaign.messages.order_by("pk").first().customer
    from crm.services import consent_set

    consent_set(customer=quitter, channel="email", granted=False, source="admin")
    services.messages_send(message_ids=ids_of(campaign))
    assert [email.to for email in mail.outbox] == [[campaign.messages.order_by("pk").last().customer.email]]
    assert campaign.messages.get(customer=quitter).status == Message.Status.SKIPPED


def test_the_admin_progress_endpoint_reports_sent_over_total(client, marketing_user, customers):
    campaign = started_campaign(customers, size=4)
    services.messages_send(message_ids=ids_of(campaign)[:1])
    client.force_login(marketing_user)
    data = client.get(reverse("admin:campaigns_campaign_progress", args=[campaign.pk])).json()
    assert (data["sent"], data["total"], data["queued"], data["percent"]) == (1, 4, 3, 25)
    assert data["status"] == "sending"


def test_the_whole_send_runs_through_celery_tasks(customers, django_capture_on_commit_callbacks, settings):
    settings.CAMPAIGNS_CHUNK_SIZE = 3
    campaign = make_campaign(segments=[static_segment("s", [customers() for _ in range(7)])])
    send_everything(django_capture_on_commit_callbacks, campaign)
    assert campaign.status == Campaign.Status.SENT and len(mail.outbox) == 7
