"""Retention policy (issue 8): messages older than RETENTION_MESSAGES_DAYS are purged by a job."""

from datetime import date, datetime, timedelta

from django.utils import timezone

from campaigns.models import Message
from campaigns.privacy import messages_purge
from core import jobs
from crm.retention import retention_cutoff
from tests.factories import CustomerFactory

RUN = date(2026, 6, 1)


def _message(customer, days_before_run: float, status=Message.Status.SENT):
    midnight = timezone.make_aware(datetime.combine(RUN, datetime.min.time()))
    return Message.objects.create(customer=customer, channel="email", status=status, to_address="x@example.com",
                                  created_at=midnight - timedelta(days=days_before_run))


def test_it_deletes_only_finished_messages_older_than_the_age_and_is_idempotent(db, settings):
    settings.RETENTION_MESSAGES_DAYS = 60
    customer = CustomerFactory()
    old = [_message(customer, 61, status) for status in (Message.Status.SENT, Message.Status.FAILED,
                                                          Message.Status.SKIPPED, Message.Status.BOUNCED)]
    kept = [
        _message(customer, 60),  # exactly at the cutoff
        _message(customer, 3),
        *(_message(customer, 500, status) for status in (Message.Status.QUEUED, Message.Status.SENDING, Message.Status.HELD)),
    ]

    summary = jobs.run_job("campaigns.retention_messages", RUN)

    assert summary == {"deleted": len(old), "older_than": retention_cutoff(RUN, 60).isoformat(), "days": 60}
    assert set(Message.objects.values_list("pk", flat=True)) == {message.pk for message in kept}
    assert jobs.run_job("campaigns.retention_messages", RUN)["deleted"] == 0


def test_zero_days_keeps_every_message(db, settings):
    settings.RETENTION_MESSAGES_DAYS = 0
    _message(CustomerFactory(), 5000)

    assert messages_purge(run_date=RUN) == {"deleted": 0, "kept_forever": True}
    assert Message.objects.count() == 1


def test_a_big_backlog_goes_in_batches(db):
    customer = CustomerFactory()
    Message.objects.bulk_create([
        Message(customer=customer, channel="sms", status=Message.Status.SENT, created_at=timezone.now() - timedelta(days=400))
        for _ in range(25)
    ])
    _message(customer, 1)

    assert messages_purge(run_date=RUN, days=30, batch_size=10)["deleted"] == 25
    assert Message.objects.count() == 1
