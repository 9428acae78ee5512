"""The catalogue and the orders: products, orders and their lines."""

import uuid
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext_lazy as _

from core.bounds import AMOUNT_VALIDATORS, MONEY
from core.indexes import PostgresOnlyIndex
from crm.models.customers import Customer
from crm.querysets import OrderQuerySet


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True, db_index=True)
    replenishment_days = models.PositiveIntegerField(
        _("replenishment interval (days)"), null=True, blank=True,
        help_text=_("How long the product usually lasts; reminders are sent when it is due."),
    )
    price = models.DecimalField(
        _("price"), null=True, blank=True, validators=AMOUNT_VALIDATORS, **MONEY,
        help_text=_("The current catalogue price, shown beside a recommendation."),
    )
    # Defaults in the database too: the imports and the demo write products as plain rows (COPY, INSERT).
    url = models.URLField(_("web page"), max_length=500, blank=True, db_default="",
                          help_text=_("Where a customer can see or buy it."))
    is_active = models.BooleanField(
        _("on sale"), db_default=True, help_text=_("Products not on sale are never recommended."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self):
        return f"{self.sku} {self.name}"


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", _("Placed")
        PAID = "paid", _("Paid")
        FULFILLED = "fulfilled", _("Fulfilled")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    class Channel(models.TextChoices):
        STORE = "store", _("Store")
        ONLINE = "online", _("Online")
        APP = "app", _("App")
        PHONE = "phone", _("Phone")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    # Indexed by (customer, placed_at) below, which serves look-ups by customer alone too.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders", db_index=False,
                                 verbose_name=_("customer"))
    # Order numbers are unique per source (a shop, a till system, a partner).
    source = models.CharField(_("source"), max_length=50, blank=True, default="")
    order_number = models.CharField(_("order number"), max_length=64)
    placed_at = models.DateTimeField(_("placed at"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.FULFILLED)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.STORE)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    total = models.DecimalField(_("total"), validators=AMOUNT_VALIDATORS, **MONEY)
    discount = models.DecimalField(_("discount"), default=Decimal("0"), validators=AMOUNT_VALIDATORS, **MONEY)
    refunded_amount = models.DecimalField(_("refunded"), default=Decimal("0"), editable=False, **MONEY)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # DESIGN.md: a counted order is not cancelled and not fully refunded; its value is
    # its total minus refunds. Stored generated columns so every report and index
    # uses the very same definition.
    is_counted = models.GeneratedField(
        expression=Case(
            When(Q(status__in=["cancelled", "refunded"]) | Q(total__gt=0, refunded_amount__gte=F("total")), then=Value(False)),
            default=Value(True),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
        verbose_name=_("counted"),
    )
    net_total = models.GeneratedField(
        expression=F("total") - F("refunded_amount"),
        output_field=models.DecimalField(**MONEY),
        db_persist=True,
        verbose_name=_("net total"),
    )

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        permissions = [("import_orders", _("Can import orders from a CSV file"))]
        constraints = [
            models.UniqueConstraint(fields=["source", "order_number"], name="crm_order_number_unique_per_source"),
            models.CheckConstraint(condition=Q(total__gte=0), name="crm_order_total_gte_0"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="crm_order_discount_gte_0"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("total")),
                name="crm_order_refund_within_total",
            ),
        ]
        indexes = [
            # Covering index for period metrics: scans by date and reads the rest from the index.
            models.Index(fields=["placed_at", "customer"], include=["is_counted", "net_total"], name="crm_order_placed_cover"),
            models.Index(fields=["customer", "placed_at"], name="crm_order_customer_placed"),
            models.Index(fields=["order_number"], name="crm_order_number_idx"),
            # The admin's list filtered by status (support looks for placed or paid orders), newest first.
            PostgresOnlyIndex(fields=["status", "placed_at", "id"], name="crm_order_status_placed"),
        ]

    def __str__(self):
        return self.order_number


class OrderLine(models.Model):
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="order_lines",
                                verbose_name=_("product"))
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    product_name = models.CharField(_("product name"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1, validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(_("unit price"), validators=AMOUNT_VALIDATORS, **MONEY)

    class Meta:
        ordering = ["id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="crm_orderline_quantity_gte_1"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="crm_orderline_unit_price_gte_0"),
        ]
        indexes = [models.Index(fields=["category", "order"], name="crm_orderline_category")]

    def __str__(self):
        return f"{self.quantity} x {self.product_name or self.sku}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity
