"""The club's points liability in the admin: what the members' points are worth as of a day, per tier,
and the outstanding points at each of the last 12 month ends (club.selectors.liability).

Registered on the `PointsLiability` proxy model (club/admin.py), so the admin index lists it and its own
view permission (club managers) decides who reads it.

Without a day chosen, the page reads the nightly snapshot (club.models.PointsLiabilitySnapshot): the latest
day and the month ends before it, two queries whatever the size of the club (a month end not stored yet is
computed from the ledger once and stored; with no snapshot at all, yesterday's is). A chosen day is computed
live from the ledger, exact, and the page says so. Club managers with the recompute permission can have
today's snapshot stored now (a POST to `recompute/`, which queues it on the analytics queue).
"""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from club.selectors.liability import (
    Liability,
    LiabilityFigures,
    TrendPoint,
    club_liability,
    liability_snapshot_latest_day,
    liability_snapshots,
    liability_trend,
    month_ends,
    parse_as_of,
)
from club.services import liability_snapshot_request, liability_snapshot_store, liability_snapshots_fill
from core import charts
from core.templatetags.localized import local_date
from core.admin_utils import ReadOnlyAdminMixin
from core.date_inputs import iso_date_params
from core.replicas import replica_page

RECOMPUTE_PERMISSION = "club.recompute_liability"


class PointsLiabilityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """No list, no forms: the changelist is the report."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("", self.admin_site.admin_view(self.changelist_view), name="%s_%s_changelist" % info),
            path("recompute/", self.admin_site.admin_view(self.recompute_view), name="%s_%s_recompute" % info),
        ]

    def recompute_view(self, request):
        """Queue the store of today's snapshot from the ledger (tonight's job replaces it with the whole day's)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not (self.has_view_permission(request) and request.user.has_perm(RECOMPUTE_PERMISSION)):
            raise PermissionDenied
        today = timezone.localdate()
        if liability_snapshot_request(day=today, by=request.user):
            messages.info(request, _("Recomputing the points liability as of %(day)s from the ledger in the background; "
                                     "reload this page in a minute.") % {"day": local_date(today)})
        else:
            messages.success(request, _("The points liability as of %(day)s was recomputed from the ledger.")
                             % {"day": local_date(today)})
        return HttpResponseRedirect(reverse("admin:%s_%s_changelist" % (self.opts.app_label, self.opts.model_name)))

    def changelist_view(self, request, extra_context=None):
        return replica_page(self._report_view)(request)

    def _report_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Points liability"),
            "opts": self.opts,
            "as_of_value": request.GET.get("as_of", ""),
            "point_value": _number(settings.CLUB_POINT_VALUE),
            "point_value_missing": not settings.CLUB_POINT_VALUE,
        }
        try:
            as_of = parse_as_of(iso_date_params(request.GET, "as_of").get("as_of"))  # in Persian, a Jalali date
        except ValidationError as error:
            context["as_of_errors"] = error.message_dict["as_of"]
            return TemplateResponse(request, "admin/club/pointsliability/report.html", context, status=400)
        chosen = bool(request.GET.get("as_of", "").strip())
        stored_day = liability_snapshot_latest_day()
        if chosen and as_of != stored_day:
            liability = club_liability(as_of=as_of)
            trend = liability_trend(as_of=as_of)
            context["live"] = True
        else:
            if stored_day is None:  # nothing stored yet: yesterday's, as the nightly job would have
                stored_day = timezone.localdate() - timedelta(days=1)
                liability_snapshot_store(day=stored_day, by=request.user)
            stored = liability_snapshots(month_ends(stored_day))
            if len(stored) < len(month_ends(stored_day)):  # a month end not stored yet: computed once, stored
                liability_snapshots_fill(as_of=stored_day, by=request.user)
                if stored_day not in stored:
                    liability_snapshot_store(day=stored_day, by=request.user)
                with transaction.atomic():  # read what was just written on the primary, not a replica behind it
                    stored = liability_snapshots(month_ends(stored_day))
            liability = stored[stored_day].liability
            as_of = stored_day
            trend = [TrendPoint(day, item.liability.total.outstanding_points, item.liability.total.pending_points,
                                item.liability.total.point_value) for day, item in sorted(stored.items())]
            context["computed_at"] = stored[stored_day].computed_at
            context["can_recompute"] = request.user.has_perm(RECOMPUTE_PERMISSION)
        labels = [local_date(point.day, style="short") for point in trend]  # the reader's calendar and digits
        context.update({
            "as_of": as_of,
            "as_of_value": as_of,
            "total": _row(_("All members"), liability.total),
            "tiers": _tier_rows(liability),
            "trend": [{"day": label, "available": _number(point.outstanding_points),
                       "pending": _number(point.pending_points), "value": _number(point.liability_value)}
                      for label, point in zip(labels, trend)],
            "trend_chart": charts.line_chart(
                labels=labels, minimum=0,
                series=[charts.Series(_("Available"), [point.outstanding_points for point in trend]),
                        charts.Series(_("Pending"), [point.pending_points for point in trend])],
                title=_("Outstanding points at each month end"),
                empty=_("No points in the ledger in these 12 months.")),
        })
        return TemplateResponse(request, "admin/club/pointsliability/report.html", context)


def _tier_rows(liability: Liability) -> list[dict]:
    return [_row(str(row.tier) if row.tier else _("No tier"), row.figures) for row in liability.tiers]


def _row(name: str, figures: LiabilityFigures) -> dict:
    return {
        "name": name,
        "outstanding": _number(figures.outstanding_points),
        "pending": _number(figures.pending_points),
        "expiring_30d": _number(figures.expiring_30d),
        "expiring_60d": _number(figures.expiring_60d),
        "expiring_90d": _number(figures.expiring_90d),
        "value": _number(figures.liability_value),
        "earned": _number(figures.earned_points),
        "redeemed": _number(figures.redeemed_points),
        "expired": _number(figures.expired_points),
        "redemption_rate": _percent(figures.redemption_rate),
        "breakage_rate": _percent(figures.breakage_rate),
    }


def _number(value) -> str:
    """As the admin writes numbers in the active language (Django's formats), grouped by thousands."""
    return formats.number_format(value, 0 if value == int(value) else None, force_grouping=True)


def _percent(rate: float | None) -> str | None:
    return None if rate is None else formats.number_format(round(100 * rate, 1), 1, force_grouping=True) + "%"
