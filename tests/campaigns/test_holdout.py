"""The holdout: a deterministic draw frozen with the audience; held-out customers get nothing."""

from collections import Counter

from django.core import mail
import pytest

from campaigns import holdout, services
from campaigns.models import Automation, Campaign, CampaignEvent, Message
from campaigns.selectors import campaign_progress, campaign_report
from tests.campaigns.helpers import automation, make_campaign, send_everything, static_segment
from tests.campaigns.test_automations import run, today

pytestmark = pytest.mark.usefixtures("celery_eager")


def test_the_draw_depends_only_on_the_seed_and_the_customer():
    first = [customer_id for customer_id in range(1, 10_001) if holdout.is_held_out("seed-1", customer_id, 10)]
    again = [customer_id for customer_id in range(1, 10_001) if holdout.is_held_out("seed-1", customer_id, 10)]
    other = [customer_id for customer_id in range(1, 10_001) if holdout.is_held_out("seed-2", customer_id, 10)]
    assert first == again
    assert first != other
    # Binomial(10,000, 0.1): sd = 30; 4 sd either side.
    assert 880 <= len(first) <= 1120 and 880 <= len(other) <= 1120
    # About 10% of one seed's holdout is in the other's: the draws are independent.
    assert 50 <= len(set(first) & set(other)) <= 160


def test_the_draw_is_an_auditable_hash():
    """Anyone can repeat it: SHA-256 of "<seed>:<id>", the first 8 bytes over 2^64, below the share."""
    import hashlib

    value = int.from_bytes(hashlib.sha256(b"abc:42").digest()[:8], "big") / 2 ** 64
    assert holdout.draw_value("abc", 42) == value
    assert holdout.is_held_out("abc", 42, 10) is (value < 0.1)
    assert not any(holdout.is_held_out("abc", customer_id, 0) for customer_id in range(1000))
    half = sum(holdout.is_held_out("abc", customer_id, 50) for customer_id in range(10_000))
    assert 4800 <= half <= 5200


def test_a_new_campaign_gets_the_default_share_and_its_own_seed(db):
    first, second = Campaign.objects.create(name="One"), Campaign.objects.create(name="Two")
    assert (first.holdout_percent, second.holdout_percent) == (10, 10)
    assert first.holdout_seed and first.holdout_seed != second.holdout_seed


@pytest.mark.parametrize("value, valid", [(0, True), (10, True), (50, True), (51, False), (-1, False)])
def test_the_share_is_between_0_and_50(db, value, valid):
    from django.core.exceptions import ValidationError

    campaign = make_campaign(segments=[])
    campaign.holdout_percent = value
    if valid:
        campaign.full_clean()
    else:
        with pytest.raises(ValidationError) as error:
            campaign.full_clean()
        assert "holdout_percent" in error.value.message_dict


def test_the_database_refuses_a_share_over_50(db):
    from django.db import IntegrityError, transaction

    campaign = make_campaign(segments=[])
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(holdout_percent=60)


def test_the_holdout_is_frozen_with_the_audience_and_never_receives_a_message(customers,
                                                                               django_capture_on_commit_callbacks):
    people = [customers() for _ in range(60)]
    campaign = make_campaign(segments=[static_segment("s", people)], holdout_percent=30)
    expected = {person.pk for person in people if holdout.is_held_out(campaign.holdout_seed, person.pk, 30)}
    assert 0 < len(expected) < 60
    send_everything(django_capture_on_commit_callbacks, campaign)

    held = set(campaign.messages.filter(status=Message.Status.HELD_OUT).values_list("customer_id", flat=True))
    assert held == expected
    assert not campaign.messages.filter(status=Message.Status.HELD_OUT, sent_at__isnull=False).exists()
    received = {address for email in mail.outbox for address in email.to}
    assert received == {person.email for person in people if person.pk not in expected}
    assert (campaign.held_out, campaign.recipients, campaign.audience_size) == (len(expected), 60 - len(expected), 60)
    assert campaign.status == Campaign.Status.SENT
    started = campaign.events.get(kind=CampaignEvent.Kind.STARTED)
    assert (started.parameters["held_out"], started.parameters["holdout_percent"]) == (len(expected), 30)
    # The reports count recipients only.
    assert campaign_report(campaign).total.recipients == 60 - len(expected)
    assert campaign_progress(campaign)["percent"] == 100
    # Resending the failed ones or resuming leaves the holdout alone.
    services.campaign_resume(campaign=campaign)
    assert campaign.messages.filter(status=Message.Status.HELD_OUT).count() == len(expected)


def test_the_holdout_is_drawn_before_the_ab_split(customers, django_capture_on_commit_callbacks):
    people = [customers() for _ in range(40)]
    campaign = make_campaign(segments=[static_segment("s", people)], holdout_percent=25,
                             variants=[("A", 50, {}), ("B", 50, {"subject_en": "Other"})])
    send_everything(django_capture_on_commit_callbacks, campaign)
    counts = Counter(campaign.messages.values_list("variant", "status"))
    held = counts[("", Message.Status.HELD_OUT)]
    assert held == campaign.held_out > 0
    assert counts[("A", "sent")] + counts[("B", "sent")] == 40 - held
    assert abs(counts[("A", "sent")] - counts[("B", "sent")]) <= 1
    assert len(mail.outbox) == 40 - held


def test_a_campaign_with_no_holdout_sends_to_everyone(customers, django_capture_on_commit_callbacks):
    people = [customers() for _ in range(10)]
    campaign = make_campaign(segments=[static_segment("s", people)], holdout_percent=0)
    send_everything(django_capture_on_commit_callbacks, campaign)
    assert (campaign.held_out, campaign.recipients, len(mail.outbox)) == (0, 10, 10)


def test_a_marketing_automation_holds_out_at_entry_with_the_entry_date(customers, place_order,
                                                                       django_capture_on_commit_callbacks):
    win_back = automation("win_back", days=60, holdout_percent=50)
    people = [customers() for _ in range(20)]
    for person in people:
        place_order(person, days_ago=60.2)
    run("campaigns.win_back", today(), django_capture_on_commit_callbacks)
    expected = {person.pk for person in people if holdout.is_held_out(win_back.holdout_seed, person.pk, 50)}
    assert 0 < len(expected) < 20
    held = Message.objects.filter(automation=win_back, status=Message.Status.HELD_OUT)
    assert set(held.values_list("customer_id", flat=True)) == expected
    assert all(message.created_at and message.sent_at is None for message in held)
    assert len(mail.outbox) == 20 - len(expected)
    run("campaigns.win_back", today(), django_capture_on_commit_callbacks)  # a rerun draws nobody again
    assert Message.objects.filter(automation=win_back).count() == 20


def test_a_transactional_automation_never_holds_anyone_out(customers, django_capture_on_commit_callbacks):
    from campaigns.services.automations import automation_messages_create

    welcome = automation("welcome", holdout_percent=50)
    assert not welcome.holds_out
    people = [customers() for _ in range(10)]
    with django_capture_on_commit_callbacks(execute=True):
        summary = automation_messages_create(automation=welcome, occasions=[(person.pk, "welcome", {}) for person in people])
    assert summary == {"queued": 10, "skipped": 0, "held_out": 0}
    assert not Message.objects.filter(status=Message.Status.HELD_OUT).exists()
    assert Automation.objects.get(pk=welcome.pk).holdout_percent == 50



# --- the draw in SQL and the send confirmation --------------------------------------------------


@pytest.mark.parametrize("percent", [1, 10, 33, 50])
def test_the_draw_in_sql_is_the_python_draw(customers, percent):
    from crm.models import Customer

    people = [customers() for _ in range(300)]
    seed = "7f3a9c"
    held = set(Customer.objects.filter(holdout.held_out_expression(seed, percent)).values_list("pk", flat=True))
    assert held == {person.pk for person in people if holdout.is_held_out(seed, person.pk, percent)}
    # The threshold is exact: the last value held out and the first not held out, either side of it.
    limit = holdout.threshold(percent)
    assert (limit - 1) / 2 ** 64 < percent / 100 <= limit / 2 ** 64


def test_no_holdout_in_sql_holds_out_nobody(customers):
    from crm.models import Customer

    customers()
    assert not Customer.objects.filter(holdout.held_out_expression("seed", 0)).exists()


def _confirmation(client, campaign):
    from django.urls import reverse

    return client.get(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "send_now"]))


def test_the_send_confirmation_says_who_is_held_out_and_the_send_holds_out_exactly_them(
        client, marketing_user, customers, django_capture_on_commit_callbacks):
    import re

    people = [customers() for _ in range(50)]
    people.append(customers(email_opt_in=False))  # skipped: not in the draw
    campaign = make_campaign(segments=[static_segment("s", people)], holdout_percent=20)
    expected = {person.pk for person in people[:50] if holdout.is_held_out(campaign.holdout_seed, person.pk, 20)}
    assert 0 < len(expected) < 50
    client.force_login(marketing_user)
    page = _confirmation(client, campaign).content.decode()
    assert re.search(r'id="would-receive">[^<]*<strong>%d</strong>' % (50 - len(expected)), page)
    assert re.search(r'id="held-out">[^<]*<strong>%d</strong>' % len(expected), page)
    share = round(100 * len(expected) / 50)
    assert (f"{50 - len(expected)} customers will receive it; {len(expected)} ({share}%) are held out and measure "
            "its effect.") in page
    assert Campaign.objects.get().status == Campaign.Status.DRAFT

    send_everything(django_capture_on_commit_callbacks, campaign)
    assert campaign.held_out == len(expected) and campaign.recipients == 50 - len(expected)
    assert set(campaign.messages.filter(status=Message.Status.HELD_OUT).values_list("customer_id", flat=True)) == expected


def test_the_send_confirmation_of_a_campaign_without_holdout_does_not_mention_one(client, marketing_user, customers):
    campaign = make_campaign(segments=[static_segment("s", [customers() for _ in range(3)])], holdout_percent=0)
    client.force_login(marketing_user)
    page = _confirmation(client, campaign).content.decode()
    assert 'id="held-out"' not in page and "held out and measure" not in page


def test_the_send_confirmation_counts_the_holdout_in_a_constant_number_of_queries(client, marketing_user, customers):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(marketing_user)
    counts = []
    for size in (5, 60):
        campaign = make_campaign(segments=[static_segment(f"s{size}", [customers() for _ in range(size)])],
                                 holdout_percent=10)
        _confirmation(client, campaign)  # warm the session and the caches
        with CaptureQueriesContext(connection) as queries:
            assert _confirmation(client, campaign).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
