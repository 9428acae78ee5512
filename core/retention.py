"""Deleting old rows for a retention policy: set-based, in batches, each its own short transaction.

Any app's purge job uses these (core's job runs, crm's interactions, campaigns' messages), so a big
backlog never holds long locks and running a job again deletes nothing more.
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone


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
