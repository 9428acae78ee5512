"""A message's status is its delivery; engagement (opened, clicked, converted, unsubscribed)
is read from its timestamps, in the model, the reports, the admin and the data migration."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from campaigns import selectors, services
from campaigns.models import Engagement, Message
from tests.campaigns.helpers import make_campaign, send_everything, static_segment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

migration = importlib.import_module("campaigns.migrations.0004_message_status_delivery_only")


@pytest.fixture
def sent(customers, django_capture_on_commit_callbacks):
    campaign = make_campaign(segments=[static_segment("s", [customers(first_name=name) for name in "ABCD"])])
    send_everything(django_capture_on_commit_callbacks, campaign)
    return campaign, list(campaign.messages.order_by("pk"))


def test_it_reads_the_furthest_engagement_from_the_timestamps(sent):
    _campaign, (plain, opened, clicked, unsubscribed) = sent
    services.message_mark_opened(opened)
    link = _campaign.links.first()
    services.message_mark_clicked(clicked, link)
    services.message_mark_opened(unsubscribed)
    services.message_unsubscribe(unsubscribed)

    rows = {message.pk: message for message in Message.objects.filter(campaign=_campaign).with_engagement()}
    assert {rows[m.pk].status for m in sent[1]} == {Message.Status.SENT}
    assert [rows[m.pk].furthest_engagement for m in sent[1]] == ["", "opened", "clicked", "unsubscribed"]
    assert [rows[m.pk].engagement for m in sent[1]] == ["", "opened", "clicked", "unsubscribed"]
    assert [rows[m.pk].get_engagement_display() for m in sent[1]] == ["", "Opened", "Clicked", "Unsubscribed"]
    assert set(Message.objects.engaged(Engagement.OPENED).values_list("pk", flat=True)) == {
        opened.pk, clicked.pk, unsubscribed.pk}
    assert list(Message.objects.filter(campaign=_campaign).not_engaged().values_list("pk", flat=True)) == [plain.pk]


def test_the_report_counts_engagement_from_the_timestamps(sent):
    campaign, (first, second, *_rest) = sent
    services.message_mark_clicked(first, campaign.links.first())
    services.message_mark_opened(second)
    report = selectors.campaign_report(campaign)
    assert (report.total.sent, report.total.opened, report.total.clicked) == (4, 2, 1)
    assert selectors.campaign_progress(campaign)["sent"] == 4
    campaign.refresh_from_db()
    services.campaign_refresh_counts(campaign.pk)
    campaign.refresh_from_db()
    assert campaign.sent_count == 4  # engaged messages still count as sent


def test_an_unsubscribed_message_converts_nothing(sent, place_order, settings):
    settings.CAMPAIGNS_CONVERSION_DAYS = 7
    _campaign, (message, *_rest) = sent
    services.message_unsubscribe(message)
    for other in _rest:
        Message.objects.filter(pk=other.pk).update(sent_at=timezone.now() - timedelta(days=30))
    place_order(message.customer, days_ago=0)
    message.refresh_from_db()
    assert message.converted_at is None and message.engagement == "unsubscribed"


def test_the_admin_filters_messages_by_engagement(admin_client, sent):
    campaign, (first, second, *_rest) = sent
    services.message_mark_clicked(first, campaign.links.first())
    url = reverse("admin:campaigns_message_changelist")
    clicked = admin_client.get(url, {"engagement": "clicked"})
    assert clicked.status_code == 200 and list(clicked.context["cl"].result_list) == [first]
    untouched = admin_client.get(url, {"engagement": "none"})
    assert set(untouched.context["cl"].result_list) == set(sent[1][1:])
    by_status = admin_client.get(url, {"status__exact": "sent"})
    assert len(by_status.context["cl"].result_list) == 4
    page = admin_client.get(reverse("admin:campaigns_message_change", args=[first.pk]))
    assert page.status_code == 200 and "Clicked" in page.content.decode()


def test_the_migration_maps_engagement_statuses_to_sent_and_back(sent):
    _campaign, (plain, opened, clicked, unsubscribed) = sent
    now = timezone.now()
    Message.objects.filter(pk=opened.pk).update(status="opened", opened_at=now)
    Message.objects.filter(pk=clicked.pk).update(status="clicked", opened_at=now, clicked_at=now)
    Message.objects.filter(pk=unsubscribed.pk).update(status="unsubscribed", opened_at=now, clicked_at=now,
                                                      unsubscribed_at=now)
    failed = Message.objects.create(customer=plain.customer, channel="email", status="failed")

    migration.to_delivery_only(apps, None)
    statuses = dict(Message.objects.values_list("pk", "status"))
    assert [statuses[m.pk] for m in sent[1]] == ["sent"] * 4 and statuses[failed.pk] == "failed"

    migration.to_mixed_status(apps, None)
    statuses = dict(Message.objects.values_list("pk", "status"))
    assert [statuses[m.pk] for m in sent[1]] == ["sent", "opened", "clicked", "unsubscribed"]
    assert statuses[failed.pk] == "failed"
