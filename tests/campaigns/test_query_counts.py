"""The main write paths of campaigns cost a fixed number of queries, whatever the audience size:
freezing the audience (campaign_start) and sending a batch. Sending claims and marks each message
in its own statement on purpose (a killed worker loses at most the one message it was handing
over, see services/sending.py): those two per message are the only part that grows."""

import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns import services
from campaigns.models import Message
from tests.campaigns.helpers import make_campaign, static_segment

pytestmark = pytest.mark.django_db

START_FIXED_QUERIES = 18  # claim, load, links, segments, counts, variants, select, event, queue, refresh...
SEND_FIXED_QUERIES = 11  # load with eligibility, personal values (pending surveys one), variants, links, counts refresh, hooks
PER_MESSAGE = 2  # the claim (queued -> sending) and the mark (sending -> sent)
MESSAGE_INSERT = 'INSERT INTO "campaigns_message"'


def insert_batches(rows: int) -> int:
    """How many INSERTs the database needs for `rows` messages: one per 1000 on PostgreSQL; SQLite caps
    the parameters of one statement, so it needs a few more. Batches, never one per recipient."""
    fields = [field for field in Message._meta.concrete_fields if not field.primary_key]
    return math.ceil(rows / min(1000, connection.ops.bulk_batch_size(fields, [None] * rows)))


def scheduled(customers, size, slug):
    people = [customers(sms_opt_in=True) for _ in range(size)]
    campaign = make_campaign(segments=[static_segment(slug, people)], name=slug,
                             variants=[("A", 50, {}), ("B", 50, {"subject_en": "B {{ first_name }}"})])
    services.campaign_schedule(campaign=campaign)
    return campaign


def start_queries(campaign) -> tuple[int, int]:
    """(statements other than the message INSERTs, message INSERTs) of freezing the audience."""
    with CaptureQueriesContext(connection) as captured:
        assert services.campaign_start(campaign_id=campaign.pk)
    inserts = sum(query["sql"].startswith(MESSAGE_INSERT) for query in captured.captured_queries)
    return len(captured) - inserts, inserts


def send_queries(campaign) -> int:
    ids = list(campaign.messages.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as captured:
        result = services.messages_send(message_ids=ids)
    assert result.sent == len(ids)
    return len(captured)


@pytest.mark.parametrize("size", [5, 50])
def test_freezing_the_audience_costs_a_fixed_number_of_queries(customers, django_assert_max_num_queries, size):
    campaign = scheduled(customers, size, f"size-{size}")
    with django_assert_max_num_queries(START_FIXED_QUERIES + insert_batches(size)):
        services.campaign_start(campaign_id=campaign.pk)
    assert campaign.messages.count() == size


def test_the_audience_freeze_does_the_same_statements_for_5_and_50_recipients(customers):
    small, large = scheduled(customers, 5, "small"), scheduled(customers, 50, "large")
    (small_other, small_inserts), (large_other, large_inserts) = start_queries(small), start_queries(large)
    assert small_other == large_other == START_FIXED_QUERIES - 1
    assert (small_inserts, large_inserts) == (insert_batches(5), insert_batches(50))


def test_sending_a_batch_costs_a_fixed_number_plus_the_claim_and_the_mark_of_each(customers,
                                                                                 django_assert_max_num_queries):
    small, large = scheduled(customers, 5, "small"), scheduled(customers, 50, "large")
    services.campaign_start(campaign_id=small.pk)
    services.campaign_start(campaign_id=large.pk)
    small_count, large_count = send_queries(small), send_queries(large)
    assert large_count - small_count == PER_MESSAGE * 45  # nothing else grows with the batch
    assert small_count - PER_MESSAGE * 5 <= SEND_FIXED_QUERIES
    again = scheduled(customers, 50, "again")
    services.campaign_start(campaign_id=again.pk)
    with django_assert_max_num_queries(SEND_FIXED_QUERIES + PER_MESSAGE * 50):
        services.messages_send(message_ids=list(again.messages.values_list("pk", flat=True)))
    assert not Message.objects.exclude(status=Message.Status.SENT).exists()
