"""What analytics stores: per-customer scores (RFM, predictions), the fits of the churn model,
the per-segment retention snapshots the dashboard reads, and the runs that recompute them.

These models were born in crm (CustomerScore, PredictionFit) and campaigns (the others);
analytics 0001 took them over with their tables and rows (a state-only move, then a rename).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campaigns.models import Segment
from crm.models import MONEY, MONEY_SUM, Customer


class CustomerScore(models.Model):
    """Scores computed for each customer by the periodic analytics jobs (analytics.services.scores):
    RFM quintiles and segment (daily), BG/NBD and Gamma-Gamma predictions (weekly).

    One row per customer, written by set-based upserts only; a customer without a row
    simply has not been scored yet."""

    class RfmSegment(models.TextChoices):
        CHAMPIONS = "champions", _("Champions")
        LOYAL = "loyal", _("Loyal")
        POTENTIAL_LOYALIST = "potential_loyalist", _("Potential loyalist")
        NEW = "new", _("New")
        PROMISING = "promising", _("Promising")
        NEED_ATTENTION = "need_attention", _("Need attention")
        ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
        AT_RISK = "at_risk", _("At risk")
        CANNOT_LOSE_THEM = "cannot_lose_them", _("Cannot lose them")
        HIBERNATING = "hibernating", _("Hibernating")
        LOST = "lost", _("Lost")

    customer = models.OneToOneField(Customer, primary_key=True, on_delete=models.CASCADE, related_name="score",
                                    verbose_name=_("customer"))
    rfm_r = models.PositiveSmallIntegerField(_("recency score"), null=True, blank=True)
    rfm_f = models.PositiveSmallIntegerField(_("frequency score"), null=True, blank=True)
    rfm_m = models.PositiveSmallIntegerField(_("monetary score"), null=True, blank=True)
    rfm_segment = models.CharField(_("RFM segment"), max_length=20, choices=RfmSegment.choices, null=True, blank=True)
    rfm_computed_at = models.DateTimeField(_("RFM computed at"), null=True, blank=True)
    p_alive = models.FloatField(_("P(alive)"), null=True, blank=True)
    expected_purchases_90d = models.FloatField(_("expected purchases in 90 days"), null=True, blank=True)
    expected_average_value = models.DecimalField(_("expected order value"), null=True, blank=True, **MONEY)
    predicted_clv = models.DecimalField(_("predicted CLV"), null=True, blank=True, **MONEY_SUM)
    predicted_at = models.DateTimeField(_("predicted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        constraints = [
            models.CheckConstraint(condition=Q(p_alive__gte=0, p_alive__lte=1) | Q(p_alive__isnull=True),
                                   name="crm_customerscore_p_alive_0_1"),
        ]
        indexes = [
            models.Index(fields=["rfm_segment"], name="crm_score_rfm_segment"),
            models.Index(fields=["p_alive"], name="crm_score_p_alive"),
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.rfm_segment or '-'}"


class PredictionFit(models.Model):
    """One fit of the BG/NBD and Gamma-Gamma models: its parameters and what it was fitted on."""

    class Unit(models.TextChoices):
        DAYS = "days", _("Days")
        WEEKS = "weeks", _("Weeks")

    calibration_end = models.DateTimeField(_("calibration end"))
    unit = models.CharField(_("time unit"), max_length=5, choices=Unit.choices, default=Unit.DAYS)
    customers = models.PositiveIntegerField(_("customers"))
    bgnbd = models.JSONField(_("BG/NBD parameters"), default=dict)
    gamma_gamma = models.JSONField(_("Gamma-Gamma parameters"), default=dict, blank=True)
    seconds = models.FloatField(_("seconds"), default=0)
    fitted_at = models.DateTimeField(_("fitted at"), auto_now_add=True)

    class Meta:
        ordering = ["-fitted_at", "-id"]
        get_latest_by = "fitted_at"
        verbose_name = _("prediction fit")
        verbose_name_plural = _("prediction fits")

    def __str__(self):
        return f"{self.fitted_at:%Y-%m-%d %H:%M} ({self.customers} customers)"


class SegmentMetricSnapshot(models.Model):
    """Retention and churn of a segment (or of all customers, segment = NULL) for one period
    and activity window, computed by a periodic job so the dashboard only reads rows.

    A snapshot keeps the numbers of the day it was computed: changing a segment's rules
    later does not rewrite its history."""

    class Period(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")
        YEAR = "year", _("Year")
        CUSTOM = "custom", _("Custom")

    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.CASCADE, related_name="snapshots",
                                verbose_name=_("segment"))
    period = models.CharField(_("period"), max_length=10, choices=Period.choices)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    window_days = models.PositiveIntegerField(_("activity window (days)"))
    size = models.PositiveIntegerField(_("customers"), default=0)
    customers_at_start = models.PositiveIntegerField(_("active at the start"), default=0)
    retained = models.PositiveIntegerField(_("retained"), default=0)
    churned = models.PositiveIntegerField(_("churned"), default=0)
    new_customers = models.PositiveIntegerField(_("new customers"), default=0)
    customers_at_end = models.PositiveIntegerField(_("active at the end"), default=0)
    retention_rate = models.FloatField(_("retention rate"), null=True, blank=True)
    churn_rate = models.FloatField(_("churn rate"), null=True, blank=True)
    crr_classic = models.FloatField(_("classic retention rate ((E - N) / S)"), null=True, blank=True)
    # Further figures of the period (value metrics, NPS, return rate...), by name.
    extra = models.JSONField(_("further figures"), default=dict, blank=True)
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta:
        ordering = ["-start"]
        verbose_name = _("segment metric snapshot")
        verbose_name_plural = _("segment metric snapshots")
        constraints = [
            models.UniqueConstraint(fields=["segment", "period", "start", "end", "window_days"],
                                    condition=models.Q(segment__isnull=False), name="campaigns_snapshot_once"),
            models.UniqueConstraint(fields=["period", "start", "end", "window_days"],
                                    condition=models.Q(segment__isnull=True), name="campaigns_snapshot_all_once"),
        ]
        indexes = [models.Index(fields=["period", "window_days", "start"], name="campaigns_snapshot_lookup")]

    def __str__(self):
        return f"{self.segment or _('All customers')} {self.start}–{self.end}"


class AnalyticsRun(models.Model):
    """One recomputation of the segment metric snapshots (analytics.services.snapshots), with its
    progress: the task updates `done` as it goes and the dashboard polls it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    force = models.BooleanField(_("recompute closed periods"), default=False)
    total = models.PositiveIntegerField(_("snapshots to compute"), default=0)
    done = models.PositiveIntegerField(_("snapshots computed"), default=0)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("requested by"))
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("analytics run")
        verbose_name_plural = _("analytics runs")

    def __str__(self):
        return f"{self.get_status_display()} {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 if self.status == self.Status.DONE else int(100 * self.done / self.total) if self.total else 0


class RetentionDashboard(SegmentMetricSnapshot):
    """The retention dashboard's entry in the admin (its own view permission); the rows are snapshots."""

    class Meta:
        proxy = True
        verbose_name = _("retention dashboard")
        verbose_name_plural = _("retention dashboard")
