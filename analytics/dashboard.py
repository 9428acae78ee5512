"""The retention dashboard's read side: which period is shown (the selection, parsed from the
page's query string through analytics.periods.Period) and its rows, read from the stored
snapshots only (never computed while a marketer waits)."""

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy, pgettext_lazy

from analytics.models import SegmentMetricSnapshot
from analytics.periods import Period, closed_periods, period_label, period_start, shift
from campaigns.models import Segment

PeriodKind = SegmentMetricSnapshot.Period
PERIOD_CHOICES = [(PeriodKind.MONTH, gettext_lazy("Month")), (PeriodKind.QUARTER, gettext_lazy("Quarter")),
                  (PeriodKind.YEAR, gettext_lazy("Year")), (PeriodKind.CUSTOM, gettext_lazy("Custom dates"))]
# The period as a word inside a sentence ("Retention rate by month"), in the staff member's language.
PERIOD_NOUNS = {PeriodKind.MONTH: pgettext_lazy("period in a sentence", "month"),
                PeriodKind.QUARTER: pgettext_lazy("period in a sentence", "quarter"),
                PeriodKind.YEAR: pgettext_lazy("period in a sentence", "year")}


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
        if self.period == PeriodKind.CUSTOM:
            length = self.end - self.start
            return Selection(self.period, self.start - length, self.start, self.window_days)
        return Selection(self.period, shift(self.period, self.start, -1), self.start, self.window_days)

    def history(self, count: int = 12) -> list[tuple[date, date]]:
        if self.period == PeriodKind.CUSTOM:
            return [(self.start, self.end)]
        return [(shift(self.period, self.start, -n), shift(self.period, self.start, -n + 1)) for n in range(count - 1, -1, -1)]


def default_selection(period: str = PeriodKind.QUARTER, *, today: date | None = None,
                      window_days: int | None = None) -> Selection:
    """The last closed period of the kind (last quarter by default)."""
    today = today or timezone.localdate()
    start, end = closed_periods(period, today, 1)[0]
    return Selection(period, start, end, window_days or settings.CRM_ACTIVITY_WINDOW_DAYS)


def parse_selection(params) -> Selection:
    """period=month|quarter|year|custom, start=YYYY-MM-DD (any day of the period), end (custom), window=days.

    Raises ValidationError: the dates and the window through Period.parse (the messages of the
    API and the commands), the kind of period and a custom period without its dates here."""
    kind = params.get("period") or PeriodKind.QUARTER
    if kind not in dict(PERIOD_CHOICES):
        raise ValidationError({"period": ValidationError(_("Unknown period %(period)r."), code="invalid_period",
                                                         params={"period": kind})})
    custom = kind == PeriodKind.CUSTOM
    period = Period.parse(start=params.get("start"), end=params.get("end") if custom else None,
                          window=params.get("window"), required=custom)
    if custom:
        return Selection(kind, period.start, period.end, period.window_days)
    if period.start is None:
        return default_selection(kind, window_days=period.window_days)
    first = period_start(kind, period.start)
    return Selection(kind, first, shift(kind, first, 1), period.window_days)


def dashboard_rows(selection: Selection, *, segment: Segment | None = None) -> list[DashboardRow]:
    """One row per segment (all customers first) with the chosen period, the previous one
    and the retention rate of the last 12 periods: ONE query for all the snapshots (the
    segment names come with them) and one for the list of segments."""
    history = selection.history()
    starts = [start for start, _ in history]
    previous = selection.previous()
    wanted = Q(period=selection.period, window_days=selection.window_days, start__in=set(starts))
    if selection.period == PeriodKind.CUSTOM:
        wanted = Q(period=PeriodKind.CUSTOM, window_days=selection.window_days) & (
            Q(start=selection.start, end=selection.end) | Q(start=previous.start, end=previous.end))
    snapshots = SegmentMetricSnapshot.objects.filter(wanted)
    segments = Segment.objects.order_by("name")
    if segment is not None:
        snapshots = snapshots.filter(Q(segment=segment) | Q(segment__isnull=True))
        segments = segments.filter(pk=segment.pk)
    by_key: dict[tuple[int | None, date], SegmentMetricSnapshot] = {}
    for snapshot in snapshots.select_related("segment"):
        if selection.period != PeriodKind.CUSTOM or snapshot.end in (selection.end, previous.end):
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


def latest_snapshot_subqueries(*, period: str = PeriodKind.QUARTER, window_days: int | None = None) -> dict:
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
