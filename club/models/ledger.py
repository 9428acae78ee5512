"""The points ledger: earning rules, the append-only ledger rows, and points that become
available later. The ledger is append-only and the cached balances on Membership are kept in
step with it in the same transaction."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from club.models.membership import Membership
from core.audit import AuditSourceField
from core.content import DefaultLanguageColumns
from crm.models import MONEY


class EarningRule(DefaultLanguageColumns):
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

    points = models.PositiveBigIntegerField(_("points"), default=0, help_text=_("Fixed points (every kind but purchase). Referral: the referrer's points."))
    referee_points = models.PositiveBigIntegerField(_("points for the new customer"), default=0, help_text=_("Referral only."))
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


class PointsTransactionQuerySet(models.QuerySet):
    def with_facts(self):
        """The related rows `description` renders its sentence from, in the same query."""
        return self.select_related("order__customer", "rule", "original", "coupon__offer")


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
    # Foreign keys whose column leads one of the composite indexes below (or is nearly always empty) get no index of
    # their own: every order writes a ledger row, and each index is one more entry to write for it.
    member = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="transactions", db_index=False,
                               verbose_name=_("member"))
    points = models.BigIntegerField(_("points"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    rule = models.ForeignKey(EarningRule, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions",
                             db_index=False, verbose_name=_("earning rule"))
    order = models.ForeignKey("crm.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="points_transactions",
                              verbose_name=_("order"))
    source_ref = models.CharField(_("source reference"), max_length=100, blank=True, help_text=_("Event name, survey response, referral..."))
    # A reverse row points at the earning it reverses; an expire row at the earning whose rest it expires.
    original = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="followups",
                                 db_index=False, verbose_name=_("original entry"))
    # Per order line: {"<order_line_id>": {"quantity": q, "points": p}} (earn and reverse rows of orders).
    lines = models.JSONField(_("per-line points"), default=dict, blank=True)
    shortfall = models.PositiveBigIntegerField(_("shortfall"), default=0, help_text=_("Points this reversal could not take back."))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    # Unique by a constraint (Meta), not unique=True: that would add a second index for LIKE look-ups nobody makes.
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False,
        verbose_name=_("staff")
    )
    audit_source = AuditSourceField(_("from where"))  # admin, api: <partner>, job: <name>, ... (core.audit)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = PointsTransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("points transaction")
        verbose_name_plural = _("points transactions")
        constraints = [
            models.CheckConstraint(condition=~Q(kind="earn") | Q(points__gt=0), name="club_points_earn_positive"),
            models.CheckConstraint(condition=~Q(kind__in=["redeem", "expire"]) | Q(points__lt=0), name="club_points_spend_negative"),
            models.CheckConstraint(condition=~Q(points=0) | Q(shortfall__gt=0), name="club_points_not_zero"),
            models.UniqueConstraint(fields=["idempotency_key"], name="club_points_idempotency_key"),
        ]
        indexes = [
            models.Index(fields=["member", "created_at"], name="club_points_member_created"),
            models.Index(fields=["expires_at"], condition=Q(points__gt=0, expires_at__isnull=False), name="club_points_expiring"),
            models.Index(fields=["rule", "member", "created_at"], name="club_points_rule_limit"),
            # The reversals and expiries of an earning (and a row's protection from deletion), and a staff user's
            # rows when the user is deleted: only the few rows that have one are indexed.
            models.Index(fields=["original"], condition=Q(original__isnull=False), name="club_points_original"),
            models.Index(fields=["created_by"], condition=Q(created_by__isnull=False), name="club_points_created_by"),
        ]

    def __str__(self):
        return f"{self.points:+d} {self.get_kind_display()}" + (f" ({self.reason})" if self.reason else "")

    @property
    def description(self) -> str:
        """What the row is, in the reader's language (`ledger_row_description`). Read rows through `with_facts()`."""
        return ledger_row_description(self)

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Points transactions are append-only; write a new row instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Points transactions are append-only and cannot be deleted.")


def ledger_row_description(row) -> str:
    """What a ledger row is, in the reader's language, rendered from its facts (kind, source, order, rule, the
    earning it expires, the offer it paid for) when it is read, never a sentence saved in the writer's language.
    Staff adjustments show the staff's own words. Rows written before the facts were enough keep their stored text
    as the fallback.

    `row` is a PointsTransaction (read through `with_facts()`) or a `.values()` row read as attributes with the
    facts it needs loaded (club.selectors.ledger_facts_load): the API's ledger page renders rows, not instances."""
    text = _description_from_facts(row)
    if text is not None:
        return text
    return row.reason or str(_SOURCE_LABELS.get(row.source, row.source))


_SOURCE_LABELS = dict(PointsTransaction.Source.choices)  # as get_source_display() reads them


def _description_from_facts(row) -> str | None:
    Kind, Source = PointsTransaction.Kind, PointsTransaction.Source
    if row.kind == Kind.ADJUST:
        return row.reason or gettext("Staff adjustment")
    if row.kind == Kind.EXPIRE and row.original_id:
        return gettext("Points earned on %(date)s expired") % {"date": timezone.localdate(row.original.created_at)}
    if row.kind == Kind.REVERSE:
        if row.source_ref == "cancel":
            return gettext("Order cancelled")
        if row.source_ref.startswith("refund:"):
            before, _sep, after = row.source_ref.removeprefix("refund:").partition("-")
            return gettext("Refund of %(amount)s") % {"amount": Decimal(after) - Decimal(before)}
        if row.order_id:
            return gettext("Reversal for order %(number)s") % {"number": row.order.order_number}
        return None
    if row.kind == Kind.REDEEM and row.source == Source.OFFER:
        coupon = getattr(row, "coupon", None)
        return gettext("Offer: %(title)s") % {"title": coupon.offer.title} if coupon and coupon.offer_id else None
    if row.kind != Kind.EARN:
        return None
    if row.source == Source.ORDER and row.order_id:
        return gettext("Order %(number)s") % {"number": row.order.order_number}
    if row.source == Source.REFERRAL:
        if row.order_id:
            return gettext("Referral of %(customer)s") % {"customer": row.order.customer}
        return gettext("Welcome through a referral")
    if row.source == Source.EVENT:
        return row.rule.name if row.rule_id else None
    if row.source == Source.SYSTEM and row.source_ref.startswith("return:"):
        return gettext("Store credit for the return of order %(number)s") % {"number": row.source_ref.removeprefix("return:")}
    fixed = {Source.SIGNUP: gettext("Welcome to the club"), Source.PROFILE: gettext("Profile completed"),
             Source.SURVEY: gettext("Feedback answered"), Source.BIRTHDAY: gettext("Happy birthday!")}
    return fixed.get(row.source)


class PendingPoints(models.Model):
    """Points from a purchase held for CLUB_PENDING_DAYS before they reach the ledger.

    Not part of the ledger (they are not spendable yet); the daily job turns each into an
    `earn` row, keyed by this row, so a rerun releases it once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RELEASED = "released", _("Released")
        CANCELLED = "cancelled", _("Cancelled")

    member = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="pending", verbose_name=_("member"))
    order = models.ForeignKey("crm.Order", on_delete=models.PROTECT, related_name="pending_points",
                              verbose_name=_("order"))
    rule = models.ForeignKey(EarningRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("earning rule"))
    points = models.PositiveBigIntegerField(_("points"))
    lines = models.JSONField(_("per-line points"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    available_at = models.DateTimeField(_("available at"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)  # unique by a constraint, as the ledger's
    released = models.OneToOneField(PointsTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("released"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["available_at"]
        verbose_name = _("pending points")
        verbose_name_plural = _("pending points")
        indexes = [models.Index(fields=["available_at"], condition=Q(status="pending"), name="club_pending_due")]
        constraints = [models.UniqueConstraint(fields=["idempotency_key"], name="club_pending_idempotency_key")]

    def __str__(self):
        return f"{self.points} pending until {self.available_at:%Y-%m-%d}"


class PointsLiability(PointsTransaction):
    """The club's points liability report in the admin (club.selectors.liability): its own view
    permission decides who reads it; the figures come from the ledger."""

    class Meta:
        proxy = True
        verbose_name = _("points liability")
        verbose_name_plural = _("points liability")
        permissions = [("recompute_liability", _("Can recompute the points liability snapshot"))]
