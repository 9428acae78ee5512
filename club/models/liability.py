"""The club's points liability as stored each night (club.services.liability): what the admin page reads
instead of recomputing the report from the ledger on every view. One row per tier per day, and one for every
member (`total`); re-running a day replaces its rows."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from club.models.membership import Tier
from core.audit import AuditSourceField


class PointsLiabilitySnapshot(models.Model):
    day = models.DateField(_("as of (end of the day)"))
    # The tier the members held on `day`; empty on the row of every member (`total`) and on the row of members
    # who held no tier.
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("tier"))
    total = models.BooleanField(_("every member"), default=False)
    outstanding_points = models.BigIntegerField(_("available points"), default=0)
    pending_points = models.BigIntegerField(_("pending points"), default=0)
    expiring_30d = models.BigIntegerField(_("expiring in 30 days"), default=0)
    expiring_60d = models.BigIntegerField(_("expiring in 60 days"), default=0)
    expiring_90d = models.BigIntegerField(_("expiring in 90 days"), default=0)
    earned_points = models.BigIntegerField(_("earned, 12 months"), default=0)
    redeemed_points = models.BigIntegerField(_("redeemed, 12 months"), default=0)
    expired_points = models.BigIntegerField(_("expired, 12 months"), default=0)
    point_value = models.DecimalField(_("value of a point"), max_digits=20, decimal_places=6, default=0)
    liability_value = models.DecimalField(_("liability value"), max_digits=38, decimal_places=6, default=0)
    redemption_rate = models.FloatField(_("redemption rate"), null=True, blank=True)
    breakage_rate = models.FloatField(_("breakage rate"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("staff")
    )
    audit_source = AuditSourceField(_("from where"))  # job: club.liability_snapshot, admin, command: ... (core.audit)

    class Meta:
        ordering = ["-day", "-total", "tier__rank"]
        verbose_name = _("points liability snapshot")
        verbose_name_plural = _("points liability snapshots")
        constraints = [
            models.UniqueConstraint(fields=["day", "tier"], condition=Q(tier__isnull=False), name="club_liability_day_tier"),
            models.UniqueConstraint(fields=["day", "total"], condition=Q(tier__isnull=True), name="club_liability_day_untiered"),
            models.CheckConstraint(condition=Q(total=False) | Q(tier__isnull=True), name="club_liability_total_has_no_tier"),
        ]

    def __str__(self):
        return f"{self.day:%Y-%m-%d} {'total' if self.total else (self.tier or '-')}"
