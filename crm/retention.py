"""Retention policy (issue 8): rows older than a configurable age are deleted by nightly jobs.

`RETENTION_INTERACTIONS_DAYS` (job crm.retention_interactions) and, in campaigns,
`RETENTION_MESSAGES_DAYS` (job campaigns.retention_messages); 0 keeps rows forever.
Deletes are set-based (core.retention) and in batches of `RETENTION_PURGE_BATCH_SIZE` rows, each its own short
transaction, so a big backlog never holds long locks; running a job again deletes nothing more.
"""

from datetime import date

from django.conf import settings

from core.retention import purge_in_batches, retention_cutoff
from crm.models import Interaction

__all__ = ["interactions_purge", "purge_in_batches", "retention_cutoff"]  # the last two live in core.retention


def interactions_purge(*, run_date: date, days: int | None = None, batch_size: int | None = None) -> dict:
    """Delete interactions that happened more than `days` days before the run date.

    Open or waiting interactions are unfinished work and stay until someone resolves them."""
    days = settings.RETENTION_INTERACTIONS_DAYS if days is None else days
    if not days:
        return {"deleted": 0, "kept_forever": True}
    cutoff = retention_cutoff(run_date, days)
    due = Interaction.objects.filter(occurred_at__lt=cutoff, status=Interaction.Status.RESOLVED)
    return {"deleted": purge_in_batches(due, batch_size=batch_size), "older_than": cutoff.isoformat(), "days": days}
