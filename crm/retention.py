"""Retention policy (issue 8): rows older than a configurable age are deleted by nightly jobs.

`RETENTION_INTERACTIONS_DAYS` (job crm.retention_interactions) and, in campaigns,
`RETENTION_MESSAGES_DAYS` (job campaigns.retention_messages); 0 keeps rows forever.
Deletes are set-based and in batches of `RETENTION_PURGE_BATCH_SIZE` rows, each its own short
transaction, so a big backlog never holds long locks; running a job again deletes nothing more.
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from crm.models import Interaction


def retention_cutoff(run_date: date, days: int) -> datetime:
    """Rows before midnight (TIME_ZONE) `days` days before the run date are due."""
    return timezone.make_aware(datetime.combine(run_date - timedelta(days=days), time.min))


def purge_in_batches(queryset: QuerySet, *, batch_size: int | None = None) -> int:
    """Delete every row of `queryset`, at most `batch_size` per statement; returns how many went.

    Each batch is selected by primary key and deleted through the ORM, so foreign keys that
    point at the rows (SET_NULL, CASCADE) are honoured."""
    batch_size = batch_size or settings.RETENTION_PURGE_BATCH_SIZE
    model = queryset.model
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
            if not ids:
                return deleted
            _total, per_model = model.objects.filter(pk__in=ids).delete()
            deleted += per_model.get(model._meta.label, 0)


def interactions_purge(*, run_date: date, days: int | None = None, batch_size: int | None = None) -> dict:
    """Delete interactions that happened more than `days` days before the run date.

    Open or waiting interactions are unfinished work and stay until someone resolves them."""
    days = settings.RETENTION_INTERACTIONS_DAYS if days is None else days
    if not days:
        return {"deleted": 0, "kept_forever": True}
    cutoff = retention_cutoff(run_date, days)
    due = Interaction.objects.filter(occurred_at__lt=cutoff, status=Interaction.Status.RESOLVED)
    return {"deleted": purge_in_batches(due, batch_size=batch_size), "older_than": cutoff.isoformat(), "days": days}
