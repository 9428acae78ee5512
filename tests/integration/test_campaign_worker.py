"""A campaign sent by a real Celery worker on Redis, killed half way (SIGKILL), restarted and
resumed: every message is delivered exactly once, except at most the one the worker was handing
to the provider when it died, which ends failed "delivery unknown" (never sent twice).

The worker runs in a subprocess against the test database (a transactional test, so it sees the
committed rows), on Redis database 15, with the file SMS backend slowed down.
"""

import json
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, Message, Segment, SegmentMember
from crm import services as crm_services
from tests.integration import workers

BROKER = "redis://127.0.0.1:6379/15"
RECIPIENTS = 40
CHUNK = 5

pytestmark = [pytest.mark.postgres, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_broker():
    with workers.redis_broker(BROKER) as client:
        yield client


def start_worker(tmp_path: Path, name: str):
    return workers.start_worker(tmp_path, name, broker=BROKER, env={
        "SMS_BACKEND": "tests.integration.slow_sms.SlowFileBackend", "SMS_FILE_PATH": str(tmp_path / "sms"),
        "CAMPAIGNS_CHUNK_SIZE": str(CHUNK),
    })


def sms_lines(tmp_path: Path) -> list[dict]:
    folder = tmp_path / "sms"
    if not folder.exists():
        return []
    return [json.loads(line) for path in folder.iterdir() for line in path.read_text().splitlines() if line]


def test_a_killed_worker_resumed_delivers_each_message_exactly_once(tmp_path, redis_broker):
    segment = Segment.objects.create(name="All", slug="all", kind=Segment.Kind.STATIC)
    for index in range(RECIPIENTS):
        customer = crm_services.customer_create(first_name=f"C{index}", phone=f"+9891200{index:05d}", sms_opt_in=True,
                                                consent_source="test")
        SegmentMember.objects.create(segment=segment, customer=customer)
    campaign = Campaign.objects.create(name="Worker test", channel="sms", holdout_percent=0, sms_text_en="Hi {{ first_name }}")
    campaign.segments.set([segment])

    worker = start_worker(tmp_path, "first")
    try:
        services.campaign_send_now(campaign=campaign)  # queued on commit, to Redis
        workers.wait_for(lambda: len(sms_lines(tmp_path)) >= 12, seconds=120, what="the first messages", tmp_path=tmp_path)
    finally:
        workers.kill(worker)  # SIGKILL, in the middle of a chunk
    sent_before = len(sms_lines(tmp_path))
    assert 12 <= sent_before < RECIPIENTS

    worker = start_worker(tmp_path, "second")
    try:
        # The restarted worker takes the chunks still waiting in Redis; the killed chunk's task is not
        # redelivered before Redis' visibility timeout, so the dispatcher (run here as beat would, "later")
        # sweeps the dead worker's claim and queues that chunk's remaining messages again.
        workers.wait_for(lambda: " ready." in (tmp_path / "second.log").read_text(), seconds=60, what="the second worker",
                 tmp_path=tmp_path)
        workers.wait_for(_idle(tmp_path), seconds=120, what="the other chunks", tmp_path=tmp_path)
        assert Message.objects.filter(campaign=campaign, status=Message.Status.QUEUED).count() < CHUNK
        services.campaigns_dispatch(now=timezone.now() + timedelta(hours=1))
        workers.wait_for(lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT, seconds=120,
                 what="the campaign to finish", tmp_path=tmp_path)
    finally:
        workers.kill(worker)

    deliveries = Counter(line["idempotency_key"] for line in sms_lines(tmp_path))
    statuses = dict(Message.objects.filter(campaign=campaign).values_list("public_id", "status"))
    assert len(statuses) == RECIPIENTS
    assert max(deliveries.values()) == 1  # never a message twice
    sent = {public_id.hex for public_id, status in statuses.items() if status == Message.Status.SENT}
    failed = {public_id.hex for public_id, status in statuses.items() if status == Message.Status.FAILED}
    assert sent <= set(deliveries) and len(failed) <= 1 and len(sent) + len(failed) == RECIPIENTS
    assert set(deliveries) - sent <= failed  # the only delivery not marked sent is the one in flight at the kill
    for message in Message.objects.filter(campaign=campaign, status=Message.Status.FAILED):
        assert "delivery unknown" in message.error


def _idle(tmp_path: Path, quiet_seconds: float = 3.0):
    """A condition: nothing was sent for `quiet_seconds` (the restarted worker has run out of tasks)."""
    state = {"count": -1, "since": time.monotonic()}

    def check() -> bool:
        count = len(sms_lines(tmp_path))
        if count != state["count"]:
            state.update(count=count, since=time.monotonic())
            return False
        return time.monotonic() - state["since"] >= quiet_seconds

    return check
