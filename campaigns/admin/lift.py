"""The holdout and lift panel of the campaign and automation reports: the figures of
campaigns.selectors.lift in the reader's language, and a chart of both groups."""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext as _, gettext_lazy

from campaigns.models import Automation, Campaign
from campaigns.selectors.lift import MAX_WINDOW_DAYS, MIN_WINDOW_DAYS, WINDOW_DAYS, Lift, automation_lift, campaign_lift
from core.charts import Series, bar_chart

AUTOMATION_PERIOD_DAYS = 90


class LiftWindowForm(forms.Form):
    window_days = forms.IntegerField(label=gettext_lazy("Outcome window (days)"), min_value=MIN_WINDOW_DAYS,
                                     max_value=MAX_WINDOW_DAYS, required=False,
                                     widget=forms.NumberInput(attrs={"id": "lift-window"}))


def lift_context(request, source: Campaign | Automation) -> dict:
    """The report's lift figures for the window chosen in the query string (30 days by default;
    an automation: its entries of the last 90 days)."""
    form = LiftWindowForm(request.GET or None, initial={"window_days": WINDOW_DAYS})
    window_days = WINDOW_DAYS
    if form.is_bound and form.is_valid() and form.cleaned_data["window_days"]:
        window_days = form.cleaned_data["window_days"]
    period = None
    if isinstance(source, Campaign):
        lift = campaign_lift(source, window_days=window_days)
    else:
        end = timezone.now()
        start = end - timedelta(days=AUTOMATION_PERIOD_DAYS)
        lift = automation_lift(source, start=start, end=end, window_days=window_days)
        period = (start, end)
    return {"lift": lift, "lift_data": lift.as_dict(), "lift_form": form, "lift_period": period,
            "lift_rows": _rows(lift), "lift_chart": _chart(lift)}


def _number(value, places: int) -> str:
    """Rounded half up, then written as the admin writes numbers (number_format alone truncates)."""
    exponent = Decimal(1).scaleb(-places)
    return formats.number_format(Decimal(str(value)).quantize(exponent, ROUND_HALF_UP), places)


def _percent(value) -> str:
    return "—" if value is None else _number(100 * value, 1) + "%"


def _points(value) -> str:
    return "—" if value is None else _number(100 * value, 1)


def _money(value) -> str:
    return "—" if value is None else _number(value, 2)


def _rows(lift: Lift) -> dict:
    treated, holdout = lift.treated, lift.holdout
    rate = lift.rate_difference
    revenue = lift.revenue_difference
    return {
        "groups": [
            (_("Customers"), formats.number_format(treated.customers), formats.number_format(holdout.customers)),
            (_("Converted (a counted order in the window)"), formats.number_format(treated.converted),
             formats.number_format(holdout.converted)),
            (_("Conversion rate"), _percent(treated.rate), _percent(holdout.rate)),
            (_("Orders"), formats.number_format(treated.orders), formats.number_format(holdout.orders)),
            (_("Revenue per customer"), _money(treated.revenue_per_customer), _money(holdout.revenue_per_customer)),
            (_("Retention (active at the end of the window)"), _percent(treated.retention_rate),
             _percent(holdout.retention_rate)),
        ],
        "effect": [
            (_("Lift in conversion rate (percentage points)"), _points(rate and rate[0]),
             _("%(low)s to %(high)s") % {"low": _points(rate[1]), "high": _points(rate[2])} if rate else "—"),
            (_("Difference in revenue per customer"), _money(revenue and revenue[0]),
             _("%(low)s to %(high)s") % {"low": _money(revenue[1]), "high": _money(revenue[2])} if revenue else "—"),
            (_("Incremental conversions"), "—" if lift.incremental_orders is None
             else _number(lift.incremental_orders, 1), ""),
            (_("Incremental revenue"), _money(lift.incremental_revenue), ""),
        ],
    }


def _chart(lift: Lift):
    groups = (lift.treated, lift.holdout)
    has_figures = all(group.customers for group in groups)
    return bar_chart(
        labels=[_("Conversion rate"), _("Retention")] if has_figures else [],
        series=[Series(_("Recipients"), [100 * groups[0].rate, 100 * groups[0].retention_rate] if has_figures else []),
                Series(_("Holdout"), [100 * groups[1].rate, 100 * groups[1].retention_rate] if has_figures else [])],
        title=_("Recipients and holdout"), value_suffix="%",
        empty=_("No comparison yet: the recipients or the holdout group is empty."),
    )
