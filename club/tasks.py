"""Celery tasks of the club: thin, take ids, call a service. Safe to run twice."""

from datetime import date

from celery import shared_task


@shared_task(name="club.tasks.liability_snapshot_store", acks_late=True)
def liability_snapshot_store(day: str, user_id: int | None = None) -> dict:
    """Store the points liability as of `day` (ISO) from the ledger, as asked by a club manager on the admin page."""
    from django.contrib.auth import get_user_model

    from club.services import liability_snapshot_store as store

    by = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    liability = store(day=date.fromisoformat(day), by=by)
    return {"day": day, "outstanding_points": liability.total.outstanding_points}
