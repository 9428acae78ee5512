"""How many customers are at each lifecycle stage (the stage is crm's queryset expression)."""

from datetime import datetime

from django.db.models import Count, QuerySet

from crm.models import Customer


def lifecycle_counts(customers: QuerySet[Customer], *, at: datetime | None = None,
                     window_days: int | None = None) -> dict[str, int]:
    rows = customers.with_lifecycle_stage(at=at, window_days=window_days).values("lifecycle_stage") \
        .annotate(n=Count("pk")).order_by()
    counts = {stage: 0 for stage in Customer.LifecycleStage.values}
    counts.update({row["lifecycle_stage"]: row["n"] for row in rows})
    return counts
