"""Per-segment analytics: retention snapshots, NPS/CSAT and return rate per segment, and the
queries behind the retention dashboard.

The dashboard never computes retention while a marketer waits: it reads
`SegmentMetricSnapshot` rows, one per segment (or all customers), period and activity
window. `snapshots_refresh` computes them with `crm.metrics.retention` for the last N closed
months, quarters and years (a daily job, and the "recompute now" button through a Celery
task that reports its progress in an `AnalyticsRun`). A closed period is computed once:
changing a segment's rules later does not rewrite its history, unless a recompute is forced.

Return rate of a set of customers over [start, end) = returned units / units sold, where
units sold = the quantities of the order lines of their orders placed in the period (orders
not cancelled), and returned units = the quantities of those same lines on return requests
that were not rejected (whenever the return was requested). The same definition as
`feedback.selectors.return_rate_by_category`, restricted to the customers.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import AnalyticsRun, Segment, SegmentMetricSnapshot
from campaigns.segments import segment_customers
from crm import metrics
from crm.models import Customer, Order, OrderLine
from feedback import selectors as feedback_selectors
from feedback.models import ReturnLine

log = logging.getLogger(__name__)

Period = SegmentMetricSnapshot.Period
PERIOD_MONTHS = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}
ALL = "all"


class UnknownSegment(LookupError):
    pass


# --- customers of a slug ------------------------------------------------------------------------

def customers_for(slug: str) -> tuple[Segment | None, QuerySet[Customer]]:
    """`all` means every customer; anything else is a segment slug."""
    if slug == ALL:
        return None, Customer.objects.all()
    segment = Segment.objects.filter(slug=slug).first()
    if segment is None:
        raise UnknownSegment(_("No segment with the slug %(slug)r (use 'all' for every customer).") % {"slug": slug})
    return segment, segment_customers(segment)


# --- periods ------------------------------------------------------------------------------------

def add_months(day: date, count: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + count, 12)
    return date(year, month + 1, 1)


def period_start(kind: str, day: date) -> date:
    if kind == Period.MONTH:
        return day.replace(day=1)
    if kind == Period.QUARTER:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if kind == Period.YEAR:
        return date(day.year, 1, 1)
    raise ValueError(f"Unknown period {kind!r}")


def shift(kind: str, start: date, count: int) -> date:
    return add_months(start, PERIOD_MONTHS[kind] * count)


def closed_periods(kind: str, today: date, count: int) -> list[tuple[date, date]]:
    """The last `count` periods that have ended by `today`, oldest first."""
    current = period_start(kind, today)
    return [(shift(kind, current, -n), shift(kind, current, -n + 1)) for n in range(count, 0, -1)]


def period_label(kind: str, start: date, end: date | None = None) -> str:
    if kind == Period.MONTH:
        return start.strftime("%Y-%m")
    if kind == Period.QUARTER:
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    if kind == Period.YEAR:
        return str(start.year)
    return f"{start.isoformat()} – {end.isoformat()}" if end else start.isoformat()


# --- per-segment figures beyond retention ---------------------------------------------------------

@dataclass(frozen=True)
class ReturnRate:
    units_sold: int
    units_returned: int
    rate: float | None


def return_rate(customers: QuerySet[Customer], *, start: date | datetime | None = None,
                end: date | datetime | None = None) -> ReturnRate:
    """Returned units / units sold for the customers' orders placed in [start, end) (see the module docstring)."""
    lines = OrderLine.objects.exclude(order__status=Order.Status.CANCELLED)
    if customers.query.where:
        lines = lines.filter(order__customer__in=customers.values("pk"))
    if start is not None:
        lines = lines.filter(order__placed_at__gte=metrics._aware(start))
    if end is not None:
        lines = lines.filter(order__placed_at__lt=metrics._aware(end))
    sold = lines.aggregate(units=Sum("quantity"))["units"] or 0
    returned = ReturnLine.objects.filter(return_request__rejected=False, order_line__in=lines.values("pk")) \
        .aggregate(units=Sum("quantity"))["units"] or 0
    return ReturnRate(units_sold=sold, units_returned=returned, rate=round(returned / sold, 4) if sold else None)


def feedback_scores(customers: QuerySet[Customer], *, start: date | datetime | None = None,
                    end: date | datetime | None = None) -> dict:
    """NPS and CSAT of the customers' answers submitted in [start, end), from feedback.selectors."""
    scores = feedback_selectors.survey_scores(
        customers=customers,
        start=metrics._aware(start) if start is not None else None,
        end=metrics._aware(end) if end is not None else None,
    )
    return {"nps": scores.nps, "nps_answers": scores.nps_answers, "promoters": scores.promoters,
            "detractors": scores.detractors, "csat": scores.csat, "csat_answers": scores.csat_answers}


def period_extras(customers: QuerySet[Customer], start: date, end: date) -> dict:
    returns = return_rate(customers, start=start, end=end)
    return {
        **feedback_scores(customers, start=start, end=end),
        "return_rate": returns.rate, "units_sold": returns.units_sold, "units_returned": returns.units_returned,
    }


# --- snapshots ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    segment: Segment | None
    period: str
    start: date
    end: date


def snapshot_compute(target: Target, *, window_days: int, result: metrics.Retention | None = None,
                     size: int | None = None) -> SegmentMetricSnapshot:
    """Compute and store one snapshot (created, or replaced when it exists). `result` and
    `size` may be given when they were computed for several segments at once."""
    customers = _customers(target.segment)
    if result is None:
        result = metrics.retention(customers, start=target.start, end=target.end, window_days=window_days)
    figures = {
        "size": customers.count() if size is None else size,
        "customers_at_start": result.customers_at_start, "retained": result.retained, "churned": result.churned,
        "new_customers": result.new_customers, "customers_at_end": result.customers_at_end,
        "retention_rate": result.retention_rate, "churn_rate": result.churn_rate, "crr_classic": result.crr_classic,
        "extra": period_extras(customers, target.start, target.end),
    }
    snapshot, _created = SegmentMetricSnapshot.objects.update_or_create(
        segment=target.segment, period=target.period, start=target.start, end=target.end, window_days=window_days,
        defaults=figures,
    )
    return snapshot


def _customers(segment: Segment | None) -> QuerySet[Customer]:
    return segment_customers(segment) if segment else Customer.objects.all()


def snapshot_targets(*, today: date, window_days: int, periods: int | None = None, kinds=None,
                     custom: tuple[date, date] | None = None, force: bool = False) -> list[Target]:
    """What a refresh has to compute: every segment and all customers, for the last N closed
    periods of each kind (and a custom period when asked), less what exists already (closed
    periods are never recomputed unless forced)."""
    periods = periods or settings.ANALYTICS_SNAPSHOT_PERIODS
    kinds = kinds or (Period.MONTH, Period.QUARTER, Period.YEAR)
    segments = [None, *Segment.objects.order_by("pk")]
    wanted = [
        (kind, start, end) for kind in kinds for start, end in closed_periods(kind, today, periods)
    ]
    if custom is not None:
        wanted.append((Period.CUSTOM, *custom))
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


def snapshots_refresh(*, today: date | None = None, window_days: int | None = None, periods: int | None = None,
                      kinds=None, custom: tuple[date, date] | None = None, force: bool = False,
                      run: AnalyticsRun | None = None) -> dict:
    today = today or timezone.localdate()
    window_days = window_days or settings.CRM_ACTIVITY_WINDOW_DAYS
    targets = snapshot_targets(today=today, window_days=window_days, periods=periods, kinds=kinds, custom=custom,
                               force=force)
    if run is not None:
        AnalyticsRun.objects.filter(pk=run.pk).update(total=len(targets), done=0)
    sizes: dict[int | None, int] = {}  # counted once per run
    for target in targets:
        key = target.segment.pk if target.segment else None
        if key not in sizes:
            sizes[key] = _customers(target.segment).count()
        snapshot_compute(target, window_days=window_days, size=sizes[key])
        if run is not None:
            AnalyticsRun.objects.filter(pk=run.pk).update(done=F("done") + 1)
    return {"computed": len(targets), "window_days": window_days}


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
        try:
            recompute_snapshots.delay(run.pk, options)
        except Exception:  # the broker is down: the run stays queued; the nightly snapshot job still runs
            log.exception("Could not queue analytics run %s", run.pk)

    transaction.on_commit(queue)
    return run


@shared_task(name="campaigns.analytics.recompute_snapshots", acks_late=True)
def recompute_snapshots(run_id: int, options: dict | None = None) -> dict:
    """Claims the run (a queued run is worked once, even when the task is delivered twice)."""
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


# --- dashboard queries ----------------------------------------------------------------------------

@dataclass
class DashboardRow:
    segment: Segment | None
    name: str
    current: SegmentMetricSnapshot | None
    previous: SegmentMetricSnapshot | None
    trend: list[float | None] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        """Change of the retention rate against the previous period, in percentage points."""
        if not self.current or not self.previous or self.current.retention_rate is None \
                or self.previous.retention_rate is None:
            return None
        return round(100 * (self.current.retention_rate - self.previous.retention_rate), 1)


@dataclass(frozen=True)
class Selection:
    period: str
    start: date
    end: date
    window_days: int

    @property
    def label(self) -> str:
        return period_label(self.period, self.start, self.end)

    def previous(self) -> "Selection":
        if self.period == Period.CUSTOM:
            length = self.end - self.start
            return Selection(self.period, self.start - length, self.start, self.window_days)
        return Selection(self.period, shift(self.period, self.start, -1), self.start, self.window_days)

    def history(self, count: int = 12) -> list[tuple[date, date]]:
        if self.period == Period.CUSTOM:
            return [(self.start, self.end)]
        return [(shift(self.period, self.start, -n), shift(self.period, self.start, -n + 1)) for n in range(count - 1, -1, -1)]


def default_selection(period: str = Period.QUARTER, *, today: date | None = None,
                      window_days: int | None = None) -> Selection:
    """The last closed period of the kind (last quarter by default)."""
    today = today or timezone.localdate()
    start, end = closed_periods(period, today, 1)[0]
    return Selection(period, start, end, window_days or settings.CRM_ACTIVITY_WINDOW_DAYS)


def dashboard_rows(selection: Selection, *, segment: Segment | None = None) -> list[DashboardRow]:
    """One row per segment (all customers first) with the chosen period, the previous one
    and the retention rate of the last 12 periods: ONE query for all the snapshots (the
    segment names come with them) and one for the list of segments."""
    history = selection.history()
    starts = [start for start, _ in history]
    previous = selection.previous()
    wanted = Q(period=selection.period, window_days=selection.window_days, start__in=set(starts))
    if selection.period == Period.CUSTOM:
        wanted = Q(period=Period.CUSTOM, window_days=selection.window_days) & (
            Q(start=selection.start, end=selection.end) | Q(start=previous.start, end=previous.end))
    snapshots = SegmentMetricSnapshot.objects.filter(wanted)
    segments = Segment.objects.order_by("name")
    if segment is not None:
        snapshots = snapshots.filter(Q(segment=segment) | Q(segment__isnull=True))
        segments = segments.filter(pk=segment.pk)
    by_key: dict[tuple[int | None, date], SegmentMetricSnapshot] = {}
    for snapshot in snapshots.select_related("segment"):
        if selection.period != Period.CUSTOM or snapshot.end in (selection.end, previous.end):
            by_key[(snapshot.segment_id, snapshot.start)] = snapshot
    rows = []
    for each in [None, *segments]:
        key = each.pk if each else None
        rows.append(DashboardRow(
            segment=each, name=each.name if each else _("All customers"),
            current=by_key.get((key, selection.start)), previous=by_key.get((key, previous.start)),
            trend=[getattr(by_key.get((key, start)), "retention_rate", None) for start in starts],
        ))
    return rows


def segment_history(segment: Segment | None, *, period: str, window_days: int, count: int = 12,
                    before: date | None = None) -> list[SegmentMetricSnapshot]:
    """The segment's snapshots of one kind, oldest first (one query)."""
    rows = SegmentMetricSnapshot.objects.filter(period=period, window_days=window_days, segment=segment)
    if before is not None:
        rows = rows.filter(start__lte=before)
    return list(reversed(rows.order_by("-start")[:count]))


def latest_snapshot_subqueries(*, period: str = Period.QUARTER, window_days: int | None = None) -> dict:
    """Subquery annotations for a Segment QuerySet: the latest snapshot's retention and churn
    (the segment list shows them without one query per row)."""
    latest = SegmentMetricSnapshot.objects.filter(
        segment=OuterRef("pk"), period=period, window_days=window_days or settings.CRM_ACTIVITY_WINDOW_DAYS,
    ).order_by("-start")
    return {
        "latest_retention": Subquery(latest.values("retention_rate")[:1]),
        "latest_churn": Subquery(latest.values("churn_rate")[:1]),
        "latest_period_start": Subquery(latest.values("start")[:1]),
    }


def likely_churners(customers: QuerySet[Customer], *, threshold: float | None = None, limit: int = 20):
    """The customers with P(alive) below the threshold, most valuable first (historic value)."""
    threshold = settings.ANALYTICS_LIKELY_CHURN_P_ALIVE if threshold is None else threshold
    return (customers.filter(score__p_alive__lt=threshold)
            .select_related("score").order_by("-total_spent", "pk")[:limit])


def lifecycle_funnel(customers: QuerySet[Customer]) -> list[tuple[str, int]]:
    counts = metrics.lifecycle_counts(customers)
    return [(label, counts[value]) for value, label in Customer.LifecycleStage.choices]
