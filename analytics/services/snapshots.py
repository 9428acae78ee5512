"""Retention snapshots: stored per segment (or all customers), period and activity window, so the
dashboard only reads rows.

`snapshots_refresh` computes them for the last N closed months, quarters and years (a daily job, and
the "recompute now" button through a Celery task that reports its progress in an `AnalyticsRun`)
with `analytics.metrics.snapshot_figures`: every figure of every period of a kind and every segment
in three statements (one scan of the counted orders, one of the order lines, one of the answers).
The former path, one pass per period (`per_period=True`), is kept for the benchmark's comparison.
A closed period is computed once: changing a segment's rules later does not rewrite its history,
unless a recompute is forced. Beside retention each snapshot keeps the period's NPS, CSAT and return
rate (the definitions of analytics.selectors.period_extras).
"""

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from analytics import metrics
from analytics.models import AnalyticsRun, SegmentMetricSnapshot
from analytics.periods import closed_periods
from analytics.selectors import ReturnRate, period_extras, return_rate_by_segment, segment_or_all_customers
from campaigns.models import Segment
from core.replicas import replica_reads

log = logging.getLogger(__name__)

PeriodKind = SegmentMetricSnapshot.Period


@dataclass(frozen=True)
class Target:
    segment: Segment | None
    period: str
    start: date
    end: date


def snapshot_compute(target: Target, *, window_days: int, result: metrics.Retention | None = None,
                     size: int | None = None, returns: ReturnRate | None = None,
                     extra: dict | None = None) -> SegmentMetricSnapshot:
    """Compute and store one snapshot (created, or replaced when it exists). `result`, `size` and
    `returns` (or the whole `extra`) may be given when they were computed for several segments at once."""
    customers = segment_or_all_customers(target.segment)
    if result is None:
        result = metrics.retention(customers, start=target.start, end=target.end, window_days=window_days)
    figures = _figures(result, customers.count() if size is None else size,
                       extra if extra is not None else period_extras(customers, target.start, target.end, returns=returns))
    snapshot, _created = SegmentMetricSnapshot.objects.update_or_create(
        segment=target.segment, period=target.period, start=target.start, end=target.end, window_days=window_days,
        defaults=figures,
    )
    return snapshot


def _figures(result: metrics.Retention, size: int, extra: dict) -> dict:
    return {
        "size": size, "customers_at_start": result.customers_at_start, "retained": result.retained,
        "churned": result.churned, "new_customers": result.new_customers, "customers_at_end": result.customers_at_end,
        "retention_rate": result.retention_rate, "churn_rate": result.churn_rate, "crr_classic": result.crr_classic,
        "extra": extra,
    }


def _store(rows: list[tuple[Target, dict]], *, window_days: int) -> None:
    """The snapshots of one period written together, in three statements instead of an update_or_create
    per row: the rows they replace deleted, then all inserted, a replaced row under its former id (so
    a link to it still opens it). A row inserted meanwhile by another refresh (the nightly job beside
    the button) makes the batch fall back to update_or_create, row by row."""
    first = rows[0][0]
    lookup = {"period": first.period, "start": first.start, "end": first.end, "window_days": window_days}
    replaced = Q(segment__in=[target.segment for target, _ in rows if target.segment is not None])
    if any(target.segment is None for target, _ in rows):
        replaced |= Q(segment__isnull=True)
    try:
        with transaction.atomic():
            ids = dict(SegmentMetricSnapshot.objects.select_for_update().filter(replaced, **lookup)
                       .values_list("segment_id", "pk"))
            SegmentMetricSnapshot.objects.filter(pk__in=ids.values()).delete()
            SegmentMetricSnapshot.objects.bulk_create([
                SegmentMetricSnapshot(pk=ids.get(target.segment.pk if target.segment else None), segment=target.segment,
                                      **lookup, **figures)
                for target, figures in rows
            ])
    except IntegrityError:
        for target, figures in rows:
            SegmentMetricSnapshot.objects.update_or_create(segment=target.segment, **lookup, defaults=figures)


def snapshot_targets(*, today: date, window_days: int, periods: int | None = None, kinds=None,
                     custom: tuple[date, date] | None = None, force: bool = False) -> list[Target]:
    """What a refresh has to compute: every segment and all customers, for the last N closed
    periods of each kind (and a custom period when asked), less what exists already (closed
    periods are never recomputed unless forced)."""
    periods = periods or settings.ANALYTICS_SNAPSHOT_PERIODS
    kinds = kinds or (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR)
    segments = [None, *Segment.objects.order_by("pk")]
    wanted = [
        (kind, start, end) for kind in kinds for start, end in closed_periods(kind, today, periods)
    ]
    if custom is not None:
        wanted.append((PeriodKind.CUSTOM, *custom))
    existing = set()
    if not force:
        existing = set(
            SegmentMetricSnapshot.objects.filter(window_days=window_days, period__in=[kind for kind, _, _ in wanted])
            .values_list("segment_id", "period", "start", "end")
        )
    return [
        Target(segment, kind, start, end)
        for kind, start, end in wanted for segment in segments
        if (segment.pk if segment else None, kind, start, end) not in existing
    ]


@replica_reads()
def snapshots_refresh(*, today: date | None = None, window_days: int | None = None, periods: int | None = None,
                      kinds=None, custom: tuple[date, date] | None = None, force: bool = False,
                      run: AnalyticsRun | None = None, per_period: bool = False) -> dict:
    today = today or timezone.localdate()
    window_days = window_days or settings.CRM_ACTIVITY_WINDOW_DAYS
    targets = snapshot_targets(today=today, window_days=window_days, periods=periods, kinds=kinds, custom=custom,
                               force=force)
    if run is not None:
        AnalyticsRun.objects.filter(pk=run.pk).update(total=len(targets), done=0)
    by_period: dict[tuple, list[Target]] = {}
    for target in targets:
        by_period.setdefault((target.period, target.start, target.end), []).append(target)
    if per_period:
        _refresh_per_period(by_period, window_days=window_days, run=run)
    else:
        _refresh_all_periods(by_period, window_days=window_days, run=run)
    return {"computed": len(targets), "window_days": window_days}


def _refresh_all_periods(by_period: dict[tuple, list[Target]], *, window_days: int, run: AnalyticsRun | None) -> None:
    """The periods of a kind together: their figures from metrics.snapshot_figures (the segments never
    materialized alone, live), then one row per snapshot, the run's progress after each period."""
    kinds: dict[str, list[tuple]] = {}
    for key in by_period:
        kinds.setdefault(key[0], []).append(key)
    for keys in kinds.values():
        group = [target for key in keys for target in by_period[key]]
        segments = {target.segment.pk: target.segment for target in group if target.segment is not None}
        figures = metrics.snapshot_figures(
            segments.values(), [(start, end) for _kind, start, end in keys], window_days=window_days,
            include_all=any(target.segment is None for target in group),
        )
        for key in keys:
            rows = []
            for target in by_period[key]:
                found = figures.get((target.segment.pk if target.segment else None, target.start, target.end))
                if found is None:  # a segment never materialized
                    snapshot_compute(target, window_days=window_days)
                else:
                    rows.append((target, _figures(found.retention, found.size, found.extra)))
            if rows:
                _store(rows, window_days=window_days)
            if run is not None:
                AnalyticsRun.objects.filter(pk=run.pk).update(done=F("done") + len(by_period[key]))


def _refresh_per_period(by_period: dict[tuple, list[Target]], *, window_days: int, run: AnalyticsRun | None) -> None:
    """The former path: every segment of a period in one pass (metrics.retention_by_segment, the grouped
    return rate), NPS/CSAT per row; one period after the other."""
    for (_kind, start, end), group in by_period.items():
        sizes: dict[int | None, int] = {}
        results = metrics.retention_by_segment(
            [target.segment for target in group if target.segment is not None], start=start, end=end,
            window_days=window_days, include_all=any(target.segment is None for target in group), sizes=sizes,
        )
        returns = return_rate_by_segment([target.segment for target in group if target.segment is not None],
                                         start=start, end=end)
        for target in group:
            key = target.segment.pk if target.segment else None
            snapshot_compute(target, window_days=window_days, result=results[key], size=sizes[key],
                             returns=returns.get(key))
        if run is not None:
            AnalyticsRun.objects.filter(pk=run.pk).update(done=F("done") + len(group))


def snapshots_job(run_date: date) -> dict:
    return snapshots_refresh(today=run_date)


# --- the "recompute now" button -------------------------------------------------------------------

@transaction.atomic
def analytics_run_request(*, by=None, force: bool = False, window_days: int | None = None,
                          custom: tuple[date, date] | None = None) -> AnalyticsRun:
    """Queue a recomputation; a run already queued or running (within the task time limit)
    is returned instead of a second one."""
    pending = AnalyticsRun.objects.select_for_update().filter(
        status__in=[AnalyticsRun.Status.QUEUED, AnalyticsRun.Status.RUNNING],
        created_at__gte=timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT),
    ).first()
    if pending is not None and custom is None:
        return pending
    run = AnalyticsRun.objects.create(requested_by=by, force=force)
    options = {"window_days": window_days, "custom": [day.isoformat() for day in custom] if custom else None}

    def queue():
        from analytics.tasks import recompute_snapshots  # here: the task module imports this one

        recompute_snapshots.delay_or_log(
            run.pk, options, fallback=f"analytics run {run.pk} stays queued; the nightly snapshot job still runs")

    transaction.on_commit(queue)
    return run


def analytics_run_execute(*, run_id: int, options: dict | None = None) -> dict:
    """Claims the run and computes its snapshots (a queued run is worked once, even when the
    task is delivered twice); a failure is recorded on the run, then raised."""
    options = options or {}
    claimed = AnalyticsRun.objects.filter(pk=run_id, status=AnalyticsRun.Status.QUEUED) \
        .update(status=AnalyticsRun.Status.RUNNING, started_at=timezone.now())
    if not claimed:
        return {"skipped": run_id}
    run = AnalyticsRun.objects.get(pk=run_id)
    custom = tuple(date.fromisoformat(day) for day in options["custom"]) if options.get("custom") else None
    try:
        summary = snapshots_refresh(window_days=options.get("window_days"), custom=custom, force=run.force, run=run)
    except Exception as error:  # recorded on the run for the page, then re-raised for the worker's log
        AnalyticsRun.objects.filter(pk=run_id).update(status=AnalyticsRun.Status.FAILED, error=str(error)[:2000],
                                                      finished_at=timezone.now())
        raise
    AnalyticsRun.objects.filter(pk=run_id).update(status=AnalyticsRun.Status.DONE, finished_at=timezone.now())
    return summary
