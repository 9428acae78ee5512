"""The customer club: memberships, tiers, the points ledger, earning rules, offers and coupons.

Models hold data and invariants only; every write that matters goes through
`club.services`. The ledger (`PointsTransaction`) is append-only and the cached
balances on `Membership` are kept in step with it in the same transaction; the
database refuses a negative balance whatever the code path.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import FileExtensionValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import AuditSourceField, HistoricalRecords, history_user
from crm.models import MONEY


class Tier(models.Model):
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

    customer = models.OneToOneField("crm.Customer", on_delete=models.PROTECT, related_name="membership", verbose_name=_("customer"))
    member_number = models.CharField(_("member number"), max_length=12, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)
    source = models.CharField(_("enrolled through"), max_length=20, default="admin")
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="members", verbose_name=_("tier"))

    # Cached from the ledger (`points_rebuild_balances` repairs them); changed only with F()
    # under the membership row lock, in the transaction that appends the ledger rows.
    points_balance = models.IntegerField(_("points balance"), default=0, editable=False)
    pending_points = models.IntegerField(_("pending points"), default=0, editable=False)
    # Points a reversal could not take back because the member had already spent them.
    points_shortfall = models.IntegerField(_("reversal shortfall"), default=0, editable=False)

    # Tier bookkeeping: a manual override freezes the tier until a date; the periodic review
    # records the qualifying value and when a member first fell below their tier (grace period).
    tier_frozen_until = models.DateField(_("tier frozen until"), null=True, blank=True, editable=False)
    qualifying_value = models.DecimalField(_("qualifying value at last review"), default=Decimal("0"), editable=False, **MONEY)
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

    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("from"))
    to_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("to"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    changed_at = models.DateTimeField(_("when"), default=timezone.now)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    audit_source = AuditSourceField(_("from where"))  # admin, api: <partner>, job: <name>, ... (core.audit)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        indexes = [models.Index(fields=["member", "-changed_at"], name="club_tierchange_member")]

    def __str__(self):
        return f"{self.from_tier or '-'} -> {self.to_tier or '-'} ({self.get_reason_display()})"


class EarningRule(models.Model):
    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("Purchase")
        SIGNUP = "signup", _("Signup bonus")
        PROFILE = "profile", _("Profile completion")
        REFERRAL = "referral", _("Referral")
        FEEDBACK = "feedback", _("Feedback answered")
        BIRTHDAY = "birthday", _("Birthday bonus")
        EVENT = "event", _("Custom event")

    class Limit(models.TextChoices):
        NONE = "none", _("No limit")
        ONCE = "once", _("Once ever")
        PER_PERIOD = "per_period", _("N times per period")
        PER_DAY = "per_day", _("N times per day")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    event_name = models.SlugField(
        _("event name"), max_length=50, blank=True, help_text=_("Custom events only: the name partners send, e.g. social_share.")
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    starts_at = models.DateTimeField(_("active from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("active until"), null=True, blank=True)

    points = models.PositiveIntegerField(_("points"), default=0, help_text=_("Fixed points (every kind but purchase). Referral: the referrer's points."))
    referee_points = models.PositiveIntegerField(_("points for the new customer"), default=0, help_text=_("Referral only."))
    points_per_unit = models.DecimalField(
        _("points per currency unit"), max_digits=8, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(0)]
    )
    apply_tier_multiplier = models.BooleanField(_("apply the tier multiplier"), default=True)
    category_multipliers = models.JSONField(
        _("category multipliers"), default=dict, blank=True, help_text=_('Purchase only, e.g. {"coffee": 2}.')
    )
    min_order_value = models.DecimalField(_("minimum order value"), default=Decimal("0"), validators=[MinValueValidator(0)], **MONEY)

    limit = models.CharField(_("limit"), max_length=12, choices=Limit.choices, default=Limit.NONE)
    limit_count = models.PositiveIntegerField(_("times"), default=1, validators=[MinValueValidator(1)])
    limit_period_days = models.PositiveIntegerField(_("period (days)"), default=30, validators=[MinValueValidator(1)])

    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        constraints = [
            models.UniqueConstraint(fields=["event_name"], condition=Q(kind="event"), name="club_rule_event_name_unique"),
            models.CheckConstraint(condition=~Q(kind="event") | ~Q(event_name=""), name="club_rule_event_has_name"),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="club_rule_window_ordered",
            ),
        ]

    def __str__(self):
        return self.name


class PointsTransaction(models.Model):
    """One row of the points ledger. Rows are appended, never edited or deleted."""

    class Kind(models.TextChoices):
        EARN = "earn", _("Earn")
        REDEEM = "redeem", _("Redeem")
        EXPIRE = "expire", _("Expire")
        ADJUST = "adjust", _("Adjust")
        REVERSE = "reverse", _("Reverse")

    class Source(models.TextChoices):
        ORDER = "order", _("Order")
        SIGNUP = "signup", _("Signup bonus")
        PROFILE = "profile", _("Profile completion")
        REFERRAL = "referral", _("Referral")
        SURVEY = "survey", _("Survey answer")
        BIRTHDAY = "birthday", _("Birthday")
        EVENT = "event", _("Custom event")
        STAFF = "staff", _("Staff adjustment")
        OFFER = "offer", _("Offer redemption")
        SYSTEM = "system", _("System")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="transactions", verbose_name=_("member"))
    points = models.IntegerField(_("points"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    rule = models.ForeignKey(EarningRule, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions")
    order = models.ForeignKey("crm.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="points_transactions")
    source_ref = models.CharField(_("source reference"), max_length=100, blank=True, help_text=_("Event name, survey response, referral..."))
    # A reverse row points at the earning it reverses; an expire row at the earning whose rest it expires.
    original = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="followups")
    # Per order line: {"<order_line_id>": {"quantity": q, "points": p}} (earn and reverse rows of orders).
    lines = models.JSONField(_("per-line points"), default=dict, blank=True)
    shortfall = models.PositiveIntegerField(_("shortfall"), default=0, help_text=_("Points this reversal could not take back."))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("staff")
    )
    audit_source = AuditSourceField(_("from where"))  # admin, api: <partner>, job: <name>, ... (core.audit)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("points transaction")
        verbose_name_plural = _("points transactions")
        constraints = [
            models.CheckConstraint(condition=~Q(kind="earn") | Q(points__gt=0), name="club_points_earn_positive"),
            models.CheckConstraint(condition=~Q(kind__in=["redeem", "expire"]) | Q(points__lt=0), name="club_points_spend_negative"),
            models.CheckConstraint(condition=~Q(points=0) | Q(shortfall__gt=0), name="club_points_not_zero"),
        ]
        indexes = [
            models.Index(fields=["member", "created_at"], name="club_points_member_created"),
            models.Index(fields=["expires_at"], condition=Q(points__gt=0, expires_at__isnull=False), name="club_points_expiring"),
            models.Index(fields=["rule", "member", "created_at"], name="club_points_rule_limit"),
        ]

    def __str__(self):
        return f"{self.points:+d} {self.get_kind_display()} ({self.reason})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Points transactions are append-only; write a new row instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Points transactions are append-only and cannot be deleted.")


class PendingPoints(models.Model):
    """Points from a purchase held for CLUB_PENDING_DAYS before they reach the ledger.

    Not part of the ledger (they are not spendable yet); the daily job turns each into an
    `earn` row, keyed by this row, so a rerun releases it once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RELEASED = "released", _("Released")
        CANCELLED = "cancelled", _("Cancelled")

    member = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="pending")
    order = models.ForeignKey("crm.Order", on_delete=models.PROTECT, related_name="pending_points")
    rule = models.ForeignKey(EarningRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    points = models.PositiveIntegerField(_("points"))
    lines = models.JSONField(_("per-line points"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    available_at = models.DateTimeField(_("available at"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    released = models.OneToOneField(PointsTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["available_at"]
        verbose_name = _("pending points")
        verbose_name_plural = _("pending points")
        indexes = [models.Index(fields=["available_at"], condition=Q(status="pending"), name="club_pending_due")]

    def __str__(self):
        return f"{self.points} pending until {self.available_at:%Y-%m-%d}"


class Referral(models.Model):
    referrer = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("referrer"))
    referred = models.OneToOneField("crm.Customer", on_delete=models.PROTECT, related_name="referred_by", verbose_name=_("new customer"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    rewarded_at = models.DateTimeField(_("rewarded at"), null=True, blank=True, editable=False)
    order = models.ForeignKey("crm.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")

    def __str__(self):
        return f"{self.referrer.member_number} -> {self.referred}"


class Offer(models.Model):
    class Kind(models.TextChoices):
        PERCENT = "percent", _("Percent discount")
        FIXED = "fixed", _("Fixed amount")
        FREE_SHIPPING = "free_shipping", _("Free shipping")
        GIFT = "gift", _("Gift product")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # A FileField with an extension check keeps Pillow out of the runtime dependencies.
    image = models.FileField(
        _("image"), upload_to="club/offers/", blank=True,
        validators=[FileExtensionValidator(["jpg", "jpeg", "png", "gif", "webp", "svg"])],
    )
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices, default=Kind.PERCENT)
    value = models.DecimalField(_("value"), default=Decimal("0"), validators=[MinValueValidator(0)], **MONEY)
    gift_product = models.ForeignKey("crm.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    points_cost = models.PositiveIntegerField(_("points cost"), default=0, help_text=_("0 for a free member offer."))
    min_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("minimum tier"))
    exclusive = models.BooleanField(_("exclusive"), default=False, help_text=_("Only for tiers with access to exclusive offers."))
    min_order_value = models.DecimalField(_("minimum order value"), default=Decimal("0"), validators=[MinValueValidator(0)], **MONEY)
    starts_at = models.DateTimeField(_("valid from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("valid until"), null=True, blank=True)
    coupon_valid_days = models.PositiveIntegerField(
        _("coupon valid for (days)"), null=True, blank=True, help_text=_("Empty: CLUB_COUPON_VALID_DAYS.")
    )
    per_member_limit = models.PositiveIntegerField(_("limit per member"), null=True, blank=True)
    total_limit = models.PositiveIntegerField(_("limit in total"), null=True, blank=True)
    redeemed_count = models.PositiveIntegerField(_("redeemed"), default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        constraints = [
            models.CheckConstraint(
                condition=Q(total_limit__isnull=True) | Q(redeemed_count__lte=F("total_limit")), name="club_offer_within_total_limit"
            ),
            models.CheckConstraint(condition=~Q(kind="percent") | Q(value__lte=100), name="club_offer_percent_lte_100"),
        ]

    def __str__(self):
        return self.title


class Coupon(models.Model):
    class Kind(models.TextChoices):
        OFFER = "offer", _("Offer")
        BIRTHDAY = "birthday", _("Birthday")
        CAMPAIGN = "campaign", _("Campaign")
        STORE_CREDIT = "store_credit", _("Store credit")

    code = models.CharField(_("code"), max_length=32, unique=True)
    member = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="coupons", verbose_name=_("member"))
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    offer = models.ForeignKey(Offer, null=True, blank=True, on_delete=models.PROTECT, related_name="coupons")
    discount_kind = models.CharField(_("discount kind"), max_length=15, choices=Offer.Kind.choices)
    value = models.DecimalField(_("value"), default=Decimal("0"), **MONEY)
    min_order_value = models.DecimalField(_("minimum order value"), default=Decimal("0"), **MONEY)
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    # The redeem ledger row that paid for it (offers with a points cost).
    points_transaction = models.OneToOneField(PointsTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="coupon")
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, null=True, blank=True, unique=True)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True, editable=False)

    # Audit trail (core.audit); redemptions are also CouponRedemption rows (who, order).
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("valid_from")), name="club_coupon_window_ordered"),
            models.CheckConstraint(condition=Q(value__gte=0), name="club_coupon_value_gte_0"),
        ]
        indexes = [
            models.Index(fields=["member", "-issued_at"], name="club_coupon_member"),
            models.Index(fields=["offer", "member"], name="club_coupon_offer_member"),
        ]

    def __str__(self):
        return self.code

    @property
    def is_redeemed(self) -> bool:
        return self.redeemed_at is not None


class CouponRedemption(models.Model):
    """A coupon's use at checkout; the one-to-one key makes a second use impossible."""

    coupon = models.OneToOneField(Coupon, on_delete=models.PROTECT, related_name="redemption")
    order = models.ForeignKey("crm.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="coupon_redemptions")
    order_value = models.DecimalField(_("order value"), **MONEY)
    discount = models.DecimalField(_("discount"), **MONEY)
    reference = models.CharField(_("reference"), max_length=100, blank=True, help_text=_("Till, shop or partner reference."))
    redeemed_at = models.DateTimeField(_("redeemed at"), default=timezone.now)
    redeemed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    audit_source = AuditSourceField(_("from where"))  # admin, api: <partner>, public page, ... (core.audit)

    class Meta:
        ordering = ["-redeemed_at"]
        verbose_name = _("coupon redemption")
        verbose_name_plural = _("coupon redemptions")

    def __str__(self):
        return f"{self.coupon.code} at {self.redeemed_at:%Y-%m-%d %H:%M}"


class BirthdayReward(models.Model):
    """One per member per year: the unique row, not the schedule, makes the birthday job run once."""

    member = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="birthday_rewards")
    year = models.PositiveSmallIntegerField(_("year"))
    coupon = models.OneToOneField(Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    points_transaction = models.OneToOneField(PointsTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("birthday reward")
        verbose_name_plural = _("birthday rewards")
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="club_birthday_once_per_year")]

    def __str__(self):
        return f"{self.member.member_number} {self.year}"


class MemberNotice(models.Model):
    """A notification the club asked to send (welcome, birthday, points expiring), once per key."""

    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("kind"), max_length=30)
    key = models.CharField(_("key"), max_length=100)
    context = models.JSONField(_("context"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("member notice")
        verbose_name_plural = _("member notices")
        constraints = [models.UniqueConstraint(fields=["member", "kind", "key"], name="club_notice_once")]

    def __str__(self):
        return f"{self.kind} {self.key}"
