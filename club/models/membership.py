"""Membership and tiers: the member, the tier it holds and the history of tier changes."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import AuditSourceField, HistoricalRecords, history_user
from core.content import DefaultLanguageColumns
from crm.models import MONEY, MONEY_SUM


class Tier(DefaultLanguageColumns):
    class DiscountKind(models.TextChoices):
        PERCENT = "percent", _("Percent discount")
        FIXED = "fixed", _("Fixed amount")

    name = models.CharField(_("name"), max_length=50, unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True, help_text=_("Higher is better; the entry tier has the lowest rank."))
    threshold = models.DecimalField(
        _("qualification threshold"), default=Decimal("0"), validators=[MinValueValidator(0)], **MONEY,
        help_text=_("Points earned (or counted spend, see CLUB_TIER_BASIS) in the rolling window needed to qualify."),
    )
    points_multiplier = models.DecimalField(
        _("points multiplier"), max_digits=5, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(0)],
    )
    birthday_discount_kind = models.CharField(
        _("birthday discount kind"), max_length=10, choices=DiscountKind.choices, default=DiscountKind.PERCENT
    )
    birthday_discount_value = models.DecimalField(
        _("birthday discount"), default=Decimal("0"), validators=[MinValueValidator(0)], **MONEY,
        help_text=_("0 means no birthday coupon for this tier."),
    )
    exclusive_offers = models.BooleanField(_("access to exclusive offers"), default=False)
    counts_as_loyal = models.BooleanField(
        _("counts as loyal"), default=False, help_text=_("Active members of this tier are in the 'loyal' lifecycle stage.")
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["rank"]
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        constraints = [
            models.CheckConstraint(condition=Q(threshold__gte=0), name="club_tier_threshold_gte_0"),
            models.CheckConstraint(condition=Q(points_multiplier__gte=0), name="club_tier_multiplier_gte_0"),
            models.CheckConstraint(
                condition=~Q(birthday_discount_kind="percent") | Q(birthday_discount_value__lte=100),
                name="club_tier_birthday_percent_lte_100",
            ),
        ]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        LEFT = "left", _("Left")

    customer = models.OneToOneField("crm.Customer", on_delete=models.PROTECT, related_name="membership",
                                    verbose_name=_("customer"))
    member_number = models.CharField(_("member number"), max_length=12, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)
    source = models.CharField(_("enrolled through"), max_length=20, default="admin")
    # Indexed by (tier, status) below, which serves look-ups by tier alone too.
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="members",
                             db_index=False, verbose_name=_("tier"))

    # Cached from the ledger (`points_rebuild_balances` repairs them); changed only with F()
    # under the membership row lock, in the transaction that appends the ledger rows.
    points_balance = models.BigIntegerField(_("points balance"), default=0, editable=False)
    pending_points = models.BigIntegerField(_("pending points"), default=0, editable=False)
    # Points a reversal could not take back because the member had already spent them.
    points_shortfall = models.BigIntegerField(_("reversal shortfall"), default=0, editable=False)

    # Tier bookkeeping: a manual override freezes the tier until a date; the periodic review
    # records the qualifying value and when a member first fell below their tier (grace period).
    tier_frozen_until = models.DateField(_("tier frozen until"), null=True, blank=True, editable=False)
    qualifying_value = models.DecimalField(_("qualifying value at last review"), default=Decimal("0"), editable=False, **MONEY_SUM)
    # Not indexed: the nightly review rewrites it, and an unindexed column keeps those updates cheap (HOT).
    qualified_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False, db_index=False,
        verbose_name=_("qualified tier at last review"),
    )
    below_tier_since = models.DateField(_("below tier since"), null=True, blank=True, editable=False)

    # Audit trail (core.audit). Balances are caches of the ledger and the tier is written with
    # UPDATE by the upgrade and the nightly review: the ledger and TierChange rows (who, from, to,
    # why) are their history. The review's bookkeeping changes nightly and is no one's decision.
    history = HistoricalRecords(
        excluded_fields=["points_balance", "pending_points", "points_shortfall", "tier", "qualifying_value",
                         "qualified_tier", "below_tier_since"],
        get_user=history_user,
    )

    class Meta:
        ordering = ["-joined_at"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        permissions = [
            ("adjust_points", _("Can adjust a member's points")),
            ("override_tier", _("Can set a member's tier by hand")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(points_balance__gte=0), name="club_membership_balance_gte_0"),
            models.CheckConstraint(condition=Q(pending_points__gte=0), name="club_membership_pending_gte_0"),
            models.CheckConstraint(condition=Q(points_shortfall__gte=0), name="club_membership_shortfall_gte_0"),
        ]
        indexes = [models.Index(fields=["tier", "status"], name="club_membership_tier_status")]

    def __str__(self):
        return f"{self.member_number} {self.customer}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def tier_is_frozen(self, on) -> bool:
        return self.tier_frozen_until is not None and self.tier_frozen_until >= on


class TierChange(models.Model):
    class Reason(models.TextChoices):
        ENROLLED = "enrolled", _("Enrolled")
        QUALIFIED = "qualified", _("Qualified (upgrade)")
        REVIEW_UPGRADE = "review_upgrade", _("Periodic review: upgrade")
        REVIEW_DOWNGRADE = "review_downgrade", _("Periodic review: downgrade after grace period")
        MANUAL = "manual", _("Set by staff")

    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tier_changes", db_index=False,
                               verbose_name=_("member"))  # indexed by (member, -changed_at) below
    from_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("from"))
    to_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("to"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    changed_at = models.DateTimeField(_("when"), default=timezone.now)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   db_index=False, verbose_name=_("changed by"))
    audit_source = AuditSourceField(_("from where"))  # admin, api: <partner>, job: <name>, ... (core.audit)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        indexes = [
            models.Index(fields=["member", "-changed_at"], name="club_tierchange_member"),
            # A staff user's changes when the user is deleted: only the few rows staff made are indexed.
            models.Index(fields=["changed_by"], condition=Q(changed_by__isnull=False), name="club_tierchange_changed_by"),
        ]

    def __str__(self):
        return f"{self.from_tier or '-'} -> {self.to_tier or '-'} ({self.get_reason_display()})"
