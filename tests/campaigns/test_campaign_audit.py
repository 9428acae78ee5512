"""Every campaign service that changes state records who did it (and from where) as a CampaignEvent."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, CampaignEvent, Message
from tests.campaigns.helpers import make_campaign, static_segment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]
Kind = CampaignEvent.Kind


@pytest.fixture
def campaign(customers):
    return make_campaign(segments=[static_segment("s", [customers(), customers()])],
                         variants=[("A", 50, {}), ("B", 50, {"subject_en": "Other {{ first_name }}"})])


def events(campaign):
    return list(campaign.events.order_by("at", "id").values_list("kind", "by", "source"))


def test_scheduling_and_unscheduling_record_who_did_it(campaign, marketing_user, admin_user):
    services.campaign_schedule(campaign=campaign, at=timezone.now() + timedelta(days=1), by=marketing_user)
    services.campaign_unschedule(campaign=campaign, by=admin_user)
    assert events(campaign) == [(Kind.SCHEDULED, marketing_user.pk, "system"), (Kind.UNSCHEDULED, admin_user.pk, "system")]
    assert campaign.events.get(kind=Kind.SCHEDULED).parameters["at"]


def test_sending_now_records_the_user_and_the_start_records_the_dispatcher(campaign, marketing_user,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_send_now(campaign=campaign, by=marketing_user)
    # The start runs in the Celery task queued after commit: the task is its own entry point (core.audit).
    assert events(campaign) == [(Kind.SEND_NOW, marketing_user.pk, "system"),
                                (Kind.STARTED, None, "task: campaigns.tasks.start_campaign")]
    assert campaign.events.get(kind=Kind.STARTED).parameters == {"audience": 2, "recipients": 2, "held_out": 0,
                                                                 "holdout_percent": 0}


def test_cancelling_records_who_and_how_many_messages_it_stopped(campaign, marketing_user):
    services.campaign_schedule(campaign=campaign, by=marketing_user)
    services.campaign_start(campaign_id=campaign.pk)
    services.campaign_cancel(campaign=campaign, by=marketing_user)
    cancelled = campaign.events.get(kind=Kind.CANCELLED)
    assert (cancelled.by, cancelled.parameters) == (marketing_user, {"messages": 2})


def test_resending_the_failed_ones_and_resuming_record_who_did_it(campaign, marketing_user, admin_user):
    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)
    Message.objects.filter(campaign=campaign).update(status=Message.Status.FAILED)
    assert services.campaign_resend_failed(campaign=campaign, by=marketing_user) == 2
    services.campaign_resume(campaign=campaign, by=admin_user)
    resent, resumed = campaign.events.get(kind=Kind.RESENT_FAILED), campaign.events.get(kind=Kind.RESUMED)
    assert (resent.by, resent.parameters) == (marketing_user, {"messages": 2})
    assert resumed.by == admin_user


def test_picking_the_winner_early_records_who_did_it(customers, marketing_user):
    campaign = make_campaign(segments=[static_segment("s", [customers() for _ in range(4)])], winner_after_hours=4,
                             test_percent=50, variants=[("A", 50, {}), ("B", 50, {"subject_en": "B"})])
    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)
    winner = services.campaign_pick_winner(campaign=campaign, force=True, by=marketing_user)
    picked = campaign.events.get(kind=Kind.WINNER_PICKED)
    assert (picked.by, picked.parameters) == (marketing_user, {"variant": winner, "early": True})


def test_a_test_send_records_who_sent_it(campaign, marketing_user):
    services.campaign_test_send(campaign=campaign, to="me@shop.example", by=marketing_user)
    sent = campaign.events.get(kind=Kind.TEST_SENT)
    assert (sent.by, sent.parameters["channel"]) == (marketing_user, "email")


def test_the_admin_buttons_record_the_staff_user_as_an_admin_change(client, marketing_user, campaign):
    client.force_login(marketing_user)
    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=timezone.now() + timedelta(days=1))
    client.post(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "schedule"]))
    client.post(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "unschedule"]))
    assert events(campaign) == [(Kind.SCHEDULED, marketing_user.pk, "admin"), (Kind.UNSCHEDULED, marketing_user.pk, "admin")]
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert page.status_code == 200 and "Back to draft" in page.content.decode()


def test_a_refused_transition_records_nothing(campaign, marketing_user):
    with pytest.raises(ValidationError):
        services.campaign_unschedule(campaign=campaign, by=marketing_user)
    assert not campaign.events.exists()
