"""Celery tasks of analytics: thin, take ids, call a service. Safe to run twice."""

from celery import shared_task

from analytics.services.snapshots import analytics_run_execute


# The name is the one the task had in campaigns: messages already queued under it still run.
@shared_task(name="campaigns.analytics.recompute_snapshots", acks_late=True)
def recompute_snapshots(run_id: int, options: dict | None = None) -> dict:
    return analytics_run_execute(run_id=run_id, options=options)
