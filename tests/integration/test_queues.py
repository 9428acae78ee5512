"""Work is split into queues by kind (config.celery): a recompute of every segment never waits in front of a
till's webhook, because a pool started with `-Q webhooks` takes webhooks only."""

import pytest

from config.celery import QUEUES
from config.celery import app as celery_app
from core.jobs import registered_jobs, sync_periodic_tasks
from tests.integration.workers import kill, redis_broker, start_worker, wait_for

BROKER = "redis://127.0.0.1:6379/13"

ROUTES = {
    "api.tasks.deliver_webhook": "webhooks",
    "api.tasks.deliver_webhooks": "webhooks",
    "campaigns.tasks.send_messages": "sending",
    "campaigns.tasks.start_campaign": "sending",
    "campaigns.analytics.recompute_snapshots": "analytics",
    "club.tasks.liability_snapshot_store": "analytics",
    "core.tasks.run_job": "default",
}
ANALYTICS_JOBS = {"crm.rfm_scores", "crm.recommendations_refresh", "crm.predict_churn", "campaigns.segment_snapshots",
                  "campaigns.segments_refresh", "club.liability_snapshot"}


@pytest.mark.parametrize(("task", "queue"), sorted(ROUTES.items()))
def test_it_routes_each_kind_of_task_to_its_queue(task, queue):
    celery_app.loader.import_default_modules()  # the apps' tasks modules, as a worker imports them
    assert task in celery_app.tasks
    assert celery_app.amqp.router.route({}, task)["queue"].name == queue


def test_it_declares_every_queue_so_a_worker_without_q_consumes_them_all():
    assert {queue.name for queue in celery_app.conf.task_queues} == set(QUEUES)
    assert celery_app.conf.task_default_queue == "default"


@pytest.mark.django_db
def test_it_sends_each_periodic_job_to_the_queue_its_job_declares():
    from django_celery_beat.models import PeriodicTask

    sync_periodic_tasks()
    queues = dict(PeriodicTask.objects.filter(name__startswith="job: ").values_list("name", "queue"))
    jobs = {job.name: job.queue for job in registered_jobs()}
    assert {name: queue for name, queue in jobs.items() if queue == "analytics"}.keys() == ANALYTICS_JOBS
    assert set(jobs.values()) <= set(QUEUES)
    assert queues == {f"job: {name}": queue for name, queue in jobs.items()}


@pytest.mark.postgres
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_webhook_pool_takes_webhooks_while_a_recompute_waits_for_the_analytics_pool(tmp_path):
    with redis_broker(BROKER) as redis:
        celery_app.send_task("campaigns.analytics.recompute_snapshots", kwargs={"run_id": 0})
        celery_app.send_task("api.tasks.deliver_webhooks", kwargs={"deliveries": []})
        assert (redis.llen("analytics"), redis.llen("webhooks"), redis.llen("default")) == (1, 1, 0)

        worker = start_worker(tmp_path, "webhooks", broker=BROKER, env={}, args=("-Q", "webhooks"))
        try:
            wait_for(lambda: redis.llen("webhooks") == 0 and b"succeeded" in (tmp_path / "webhooks.log").read_bytes(),
                     seconds=60, what="the webhook pool to take its task", tmp_path=tmp_path)
        finally:
            kill(worker)
        assert redis.llen("analytics") == 1  # still waiting for a worker of its own pool
