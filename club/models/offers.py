"""Offers, the coupons they are redeemed as, coupon redemptions, and birthday rewards."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import FileExtensionValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from club.models.ledger import PointsTransaction
from club.models.membership import Membership, Tier
from core.audit import AuditSourceField, HistoricalRecords, history_user
from core.content import DefaultLanguageColumns
from crm.models import MONEY


class Offer(DefaultLanguageColumns):
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
    gift_product = models.ForeignKey("crm.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("gift product"))
    points_cost = models.PositiveBigIntegerField(_("points cost"), default=0, help_text=_("0 for a free member offer."))
    min_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("minimum tier"))
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
    offer = models.ForeignKey(Offer, null=True, blank=True, on_delete=models.PROTECT, related_name="coupons",
                              verbose_name=_("offer"))
    discount_kind = models.CharField(_("discount kind"), max_length=15, choices=Offer.Kind.choices)
    value = models.DecimalField(_("value"), default=Decimal("0"), **MONEY)
    min_order_value = models.DecimalField(_("minimum order value"), default=Decimal("0"), **MONEY)
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    # The redeem ledger row that paid for it (offers with a points cost).
    points_transaction = models.OneToOneField(PointsTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="coupon",
                                              verbose_name=_("points entry"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, null=True, blank=True, unique=True)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("issued by"))
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

    coupon = models.OneToOneField(Coupon, on_delete=models.PROTECT, related_name="redemption", verbose_name=_("coupon"))
    order = models.ForeignKey("crm.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="coupon_redemptions",
                              verbose_name=_("order"))
    order_value = models.DecimalField(_("order value"), **MONEY)
    discount = models.DecimalField(_("discount"), **MONEY)
    reference = models.CharField(_("reference"), max_length=100, blank=True, help_text=_("Till, shop or partner reference."))
    redeemed_at = models.DateTimeField(_("redeemed at"), default=timezone.now)
    redeemed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("redeemed by"))
    audit_source = AuditSourceField(_("from where"))  # admin, api: <partner>, public page, ... (core.audit)

    class Meta:
        ordering = ["-redeemed_at"]
        verbose_name = _("coupon redemption")
        verbose_name_plural = _("coupon redemptions")

    def __str__(self):
        return f"{self.coupon.code} at {self.redeemed_at:%Y-%m-%d %H:%M}"


class BirthdayReward(models.Model):
    """One per member per year: the unique row, not the schedule, makes the birthday job run once."""

    member = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="birthday_rewards",
                               verbose_name=_("member"))
    year = models.PositiveSmallIntegerField(_("year"))
    coupon = models.OneToOneField(Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("coupon"))
    points_transaction = models.OneToOneField(PointsTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                              verbose_name=_("points entry"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("birthday reward")
        verbose_name_plural = _("birthday rewards")
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="club_birthday_once_per_year")]

    def __str__(self):
        return f"{self.member.member_number} {self.year}"
