"""The retention dashboard in the admin (marketing staff), each segment's analytics page, and
the retention columns of the segment list.

Registered on the `RetentionDashboard` proxy model, so the admin index lists it and its own
view permission decides who sees it. The dashboard only reads `SegmentMetricSnapshot`
rows (analytics.dashboard); "Recompute now" queues a Celery task and the page polls its
progress.
"""


from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.html import format_html
from django.utils.translation import gettext as _, gettext_lazy as _lazy

from analytics import dashboard, metrics, rfm, selectors
from analytics.dashboard import PERIOD_CHOICES, PERIOD_NOUNS, PeriodKind, Selection, parse_selection
from analytics.models import AnalyticsRun, CustomerScore, PredictionFit, RetentionDashboard
from analytics.periods import period_label, shift
from analytics.services.snapshots import analytics_run_request
from campaigns.models import Segment
from campaigns.segments import segment_add_customers, segment_save
from core import charts
from core.admin_utils import ReadOnlyAdminMixin
from core.date_inputs import iso_date_params
from core.replicas import replica_page
from core.templatetags.localized import local_digits, local_input_date, local_number


def selection_query(selection: Selection, **extra) -> str:
    params = {"period": selection.period, "start": selection.start.isoformat(), "window": selection.window_days}
    if selection.period == PeriodKind.CUSTOM:
        params["end"] = selection.end.isoformat()
    return urlencode({**params, **extra})


@admin.register(RetentionDashboard)
class RetentionDashboardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """No list, no forms: the changelist is the dashboard."""


    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("segment/<str:key>/", view(replica_page(self.segment_view)), name="analytics_dashboard_segment"),
            path("segment/<str:key>/win-back/", view(self.winback_view), name="analytics_dashboard_winback"),
            path("recompute/", view(self.recompute_view), name="analytics_dashboard_recompute"),
            path("runs/<int:pk>/", view(self.run_status_view), name="analytics_dashboard_run"),
        ] + super().get_urls()

    def _require_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied

    def _selection(self, request) -> Selection:
        try:
            return parse_selection(iso_date_params(request.GET, "start", "end"))  # in Persian, typed as Jalali dates
        except ValidationError as error:  # the page still shows, with the default period and the message
            for message in error.messages:
                messages.error(request, message)
            return dashboard.default_selection()

    # --- the dashboard ---------------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        return replica_page(self._dashboard_view)(request)

    def _dashboard_view(self, request):
        self._require_view(request)
        selection = self._selection(request)
        rows = dashboard.dashboard_rows(selection)
        run = AnalyticsRun.objects.order_by("-created_at", "-id").first()
        trend_labels = [period_label(selection.period, start, end) for start, end in selection.history()]
        table = [_row_context(row, selection, trend_labels) for row in rows]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Retention dashboard"),
            "opts": self.model._meta,
            "selection": selection,
            "selection_label": _label_island(_selection_label(selection)),
            "period_choices": PERIOD_CHOICES,
            "rows": table,
            "missing": not any(row["current"] for row in table),
            "not_computed": not_computed_sentence(selection.period),
            **_lifecycle_windows(),
            "run": run,
            "run_active": run is not None and run.status in (AnalyticsRun.Status.QUEUED, AnalyticsRun.Status.RUNNING),
            "can_recompute": request.user.has_perm("analytics.add_analyticsrun"),
            "previous_query": selection_query(selection.previous()),
            "next_query": selection_query(Selection(
                selection.period, selection.end, selection.end + (selection.end - selection.start), selection.window_days,
            ) if selection.period == PeriodKind.CUSTOM else Selection(
                selection.period, selection.end, shift(selection.period, selection.end, 1), selection.window_days,
            )),
            "query": selection_query(selection),
        }
        return TemplateResponse(request, "admin/analytics/dashboard.html", context)

    # --- one segment ------------------------------------------------------------------------------

    def _segment(self, key: str) -> Segment | None:
        if key == selectors.ALL:
            return None
        if not key.isdigit():
            raise Http404
        return get_object_or_404(Segment, pk=int(key))

    def segment_view(self, request, key: str):
        self._require_view(request)
        segment = self._segment(key)
        selection = self._selection(request)
        customers = selectors.segment_or_all_customers(segment)
        name = segment.name if segment else _("All customers")
        kind = selection.period if selection.period != PeriodKind.CUSTOM else PeriodKind.MONTH
        history = dashboard.segment_history(segment, period=kind, window_days=selection.window_days,
                                            before=selection.start if selection.period != PeriodKind.CUSTOM else None)
        labels = [period_label(kind, row.start) for row in history]
        current = next((row for row in history if row.start == selection.start), history[-1] if history else None)
        extra = current.extra if current else selectors.period_extras(customers, selection.start, selection.end)
        lifecycle = selectors.lifecycle_funnel(customers)
        grid = rfm.rfm_grid(customers)
        cohorts = metrics.cohort_matrix(customers, months=12)
        threshold = settings.ANALYTICS_LIKELY_CHURN_P_ALIVE
        churners = list(selectors.likely_churners(customers, threshold=threshold))
        not_computed = not_computed_sentence(kind)
        no_rate = _("No rate to show: nobody in the segment was active at the start of these periods.")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Analytics: %(name)s") % {"name": name},
            "opts": self.model._meta,
            "segment": segment,
            "key": key,
            "not_computed": not_computed,
            "name": name,
            "selection": selection,
            "selection_label": _label_island(_selection_label(selection)),
            "query": selection_query(selection),
            "current": current,
            "extra": extra,
            "retention_chart": charts.line_chart(
                [(label, _percent(row.retention_rate)) for label, row in zip(labels, history)],
                title=_("Retention rate by %(period)s (%%)") % {"period": PERIOD_NOUNS[kind]}, minimum=0, maximum=100,
                value_suffix="%", empty=no_rate),
            "churn_chart": charts.line_chart(
                [(label, _percent(row.churn_rate)) for label, row in zip(labels, history)],
                title=_("Churn rate by %(period)s (%%)") % {"period": PERIOD_NOUNS[kind]}, minimum=0, maximum=100,
                value_suffix="%", color="#ba2121", empty=no_rate),
            "active_chart": charts.bar_chart(
                [(label, row.customers_at_end) for label, row in zip(labels, history)],
                title=_("Active customers at the end of each %(period)s") % {"period": PERIOD_NOUNS[kind]},
                empty=not_computed),
            "dynamic": segment is not None and segment.kind == Segment.Kind.DYNAMIC,
            **_lifecycle_windows(),
            "history": [{"label": label, "row": row, "retention": _percent(row.retention_rate),
                         "churn": _percent(row.churn_rate), "crr": _percent(row.crr_classic)}
                        for label, row in zip(labels, history)],
            "current_retention": _percent(current.retention_rate) if current else None,
            "current_churn": _percent(current.churn_rate) if current else None,
            "return_rate_percent": _percent(extra.get("return_rate")),
            "lifecycle_chart": charts.bar_chart(
                [(str(label), count) for label, count in lifecycle] if any(count for _l, count in lifecycle) else [],
                title=_("Lifecycle stages today"),
                empty=_("No customers in this segment yet.")),
            "lifecycle": lifecycle,
            "rfm_rows": _rfm_rows(grid),
            "rfm_total": sum(grid.values()),
            "cohorts": [_cohort_row(row) for row in cohorts],
            "cohort_months": range(12),
            "churners": churners,
            "churn_threshold": threshold,
            "likely_churning_count": selectors.likely_churning(customers, threshold=threshold).count() if churners else 0,
            "fit": PredictionFit.objects.first(),
            "can_start_winback": request.user.has_perm("campaigns.add_segment"),
        }
        return TemplateResponse(request, "admin/analytics/dashboard_segment.html", context)

    def winback_view(self, request, key: str):
        """POST: a static segment of the segment's likely churners, then the campaign form with it preselected."""
        if request.method != "POST":
            return redirect("admin:analytics_dashboard_segment", key)
        self._require_view(request)
        if not request.user.has_perm("campaigns.add_segment"):
            raise PermissionDenied
        segment = self._segment(key)
        customers = selectors.segment_or_all_customers(segment)
        churners = selectors.likely_churning(customers)
        today = timezone.localdate()
        name = _("Win-back: %(name)s (%(day)s)") % {"name": segment.name if segment else _("All customers"), "day": today}
        with transaction.atomic():
            target, _created = segment_save(
                slug=f"win-back-{key}-{today:%Y%m%d}", name=name, kind=Segment.Kind.STATIC, by=request.user,
                description=_("Customers whose chance of still buying was below %(p)s on %(day)s.")
                % {"p": settings.ANALYTICS_LIKELY_CHURN_P_ALIVE, "day": today},
            )
            added = segment_add_customers(segment=target, customers=churners, by=request.user)
        messages.success(request, _("%(n)s customers likely to churn are in the segment %(name)s.") % {"n": added, "name": name})
        try:
            url = reverse("admin:campaigns_campaign_add")
        except NoReverseMatch:
            return redirect("admin:campaigns_segment_change", target.pk)
        return redirect(f"{url}?{urlencode({'segments': target.pk, 'name': name})}")

    # --- recompute ---------------------------------------------------------------------------------

    def recompute_view(self, request):
        if request.method != "POST":
            return redirect("admin:analytics_retentiondashboard_changelist")
        if not request.user.has_perm("analytics.add_analyticsrun"):
            raise PermissionDenied
        selection = self._selection(request)
        custom = (selection.start, selection.end) if selection.period == PeriodKind.CUSTOM else None
        analytics_run_request(by=request.user, force=bool(request.POST.get("force")),
                                              window_days=selection.window_days, custom=custom)
        messages.info(request, _("Recomputing the snapshots in the background."))
        return redirect(reverse("admin:analytics_retentiondashboard_changelist") + "?" + selection_query(selection))

    def run_status_view(self, request, pk: int):
        self._require_view(request)
        run = get_object_or_404(AnalyticsRun, pk=pk)
        return JsonResponse({"status": run.status, "done": run.done, "total": run.total, "percent": run.percent,
                             "error": run.error})


def not_computed_sentence(period: str) -> str:
    """What a marketer reads instead of a chart or a figure that has not been computed yet."""
    if period == PeriodKind.CUSTOM:
        return _("Not computed yet: figures for custom dates are computed only on request; use “Recompute now” on the "
                 "retention dashboard.")
    return _("Not computed yet: closed months, quarters and years are computed every night; use “Recompute now” on the "
             "retention dashboard to compute them at once.")


def _selection_label(selection: Selection) -> str:
    """The period's label; a custom period's dates as the reader's date boxes write them (fa: ۱۴۰۵/۰۱/۰۱)."""
    if selection.period == PeriodKind.CUSTOM:
        return f"{local_input_date(selection.start)} – {local_input_date(selection.end)}"
    return local_digits(selection.label)  # fa: "فصل ۳ سال ۲۰۲۶", in the digits of the dates beside it


def _label_island(label: str) -> str:
    """The period's label isolated from the sentence around it. Dates alone ("2026-01-01 – 2026-02-01")
    have no letter to take a direction from, so they are marked left-to-right; "فصل 3 2026" finds its own."""
    has_letters = any(character.isalpha() for character in label)
    return format_html('<bdi dir="{}">{}</bdi>', "auto" if has_letters else "ltr", label)


def _lifecycle_windows() -> dict:
    """The lifecycle stages' W and 2W (the setting, whatever window the page shows)."""
    window = settings.CRM_ACTIVITY_WINDOW_DAYS
    return {"lifecycle_window": window, "lifecycle_window_twice": 2 * window}


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _row_context(row: dashboard.DashboardRow, selection: Selection, trend_labels: list[str]) -> dict:
    change = row.change
    if change is None:
        direction, text = "none", _("no comparison")
    elif change > 0:
        direction, text = "up", _("up %(n)s points on the previous period") % {"n": change}
    elif change < 0:
        direction, text = "down", _("down %(n)s points on the previous period") % {"n": -change}
    else:
        direction, text = "flat", _("unchanged on the previous period")
    key = str(row.segment.pk) if row.segment else selectors.ALL
    return {
        "name": row.name,
        "key": key,
        "url": reverse("admin:analytics_dashboard_segment", args=[key]) + "?" + selection_query(selection),
        "current": row.current,
        "retention": _percent(row.current.retention_rate) if row.current else None,
        "churn": _percent(row.current.churn_rate) if row.current else None,
        "change": change,
        "direction": direction,
        "change_text": text,
        "sparkline": charts.sparkline(
            [_percent(value) for value in row.trend], labels=trend_labels, value_suffix="%",
            title=_("Retention rate, last %(n)s periods") % {"n": len(row.trend)}),
    }


def _rfm_rows(grid: dict[tuple[int, int], int]) -> list[dict]:
    total = sum(grid.values()) or 1
    labels = dict(CustomerScore.RfmSegment.choices)
    rows = []
    for r in range(5, 0, -1):
        cells = []
        for f in range(1, 6):
            count = grid.get((r, f), 0)
            segment = rfm.segment_for(r, f)
            cells.append({"count": count, "segment": labels[segment], "key": segment,
                          "alpha": round(0.1 + 0.9 * count / total, 2) if count else 0})
        rows.append({"r": r, "cells": cells})
    return rows


def _cohort_row(row: metrics.CohortRow) -> dict:
    cells = []
    for value in row.retention[:12]:
        if value is None:
            cells.append({"text": "", "style": ""})
        else:
            # Darker blue for a higher share; text turns white on the dark cells.
            lightness = 95 - int(55 * value)
            colour = "#fff" if lightness < 60 else "#000"
            cells.append({"text": local_digits(f"{100 * value:.0f}%"),
                          "style": f"background:hsl(205,60%,{lightness}%);color:{colour}"})
    return {"cohort": row.cohort, "size": row.size, "cells": cells}



# --- the segment list's columns (registered into campaigns' SegmentAdmin by AnalyticsConfig) ------

def segment_list_annotations() -> dict:
    """Retention and churn of the latest closed quarter's snapshot, as subqueries: the list
    stays one query whatever the number of segments."""
    return dashboard.latest_snapshot_subqueries()


@admin.display(description=_lazy("retention (last quarter)"), ordering="latest_retention")
def retention_column(segment) -> str:
    return _rate(getattr(segment, "latest_retention", None))


@admin.display(description=_lazy("churn (last quarter)"), ordering="latest_churn")
def churn_column(segment) -> str:
    return _rate(getattr(segment, "latest_churn", None))


@admin.display(description=_lazy("analytics"))
def analytics_link(segment) -> str:
    url = reverse("admin:analytics_dashboard_segment", args=[segment.pk])
    return format_html('<a href="{}">{}</a>', url, _("retention dashboard"))


SEGMENT_LIST_COLUMNS = (retention_column, churn_column, analytics_link)


def _rate(value: float | None) -> str:
    return "–" if value is None else local_number(100 * value, decimals=1) + "%"
