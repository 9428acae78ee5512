"""Customers: the person, their tags and consent history, and the privacy records kept about them."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from core.audit import HistoricalRecords, history_user
from core.bounds import MONEY_SUM
from core.indexes import PostgresOnlyIndex
from core.text import normalize_for_search
from crm.querysets import CustomerQuerySet
from crm.validators import validate_birth_date, validate_phone_without_extension

# Room for "first last" (100 + 1 + 100) and what folding can add (NFKC expands a few ligatures).
SEARCH_NAME_LENGTH = 255


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


class Customer(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")

    class LifecycleStage(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        NEW = "new", _("New")
        REPEAT = "repeat", _("Repeat")
        LOYAL = "loyal", _("Loyal")
        AT_RISK = "at_risk", _("At risk")
        CHURNED = "churned", _("Churned")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    # Stored lower-cased (see services.normalize_email); uniqueness is case-insensitive.
    email = models.EmailField(_("email"), max_length=254, null=True, blank=True)
    phone = PhoneNumberField(_("phone"), null=True, blank=True, db_index=True,
                             validators=[validate_phone_without_extension])
    external_ref = models.CharField(_("external reference"), max_length=100, null=True, blank=True, unique=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True, validators=[validate_birth_date])
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    language = models.CharField(_("preferred language"), max_length=10, choices=settings.LANGUAGES, default="en")
    city = models.CharField(_("city"), max_length=100, blank=True, db_index=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO 3166 code, e.g. IR, AE, GB."))
    source = models.CharField(_("acquisition source"), max_length=50, blank=True)
    acquired_at = models.DateTimeField(_("acquired at"), null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    notes = models.TextField(_("notes"), blank=True)
    # The names as the search box compares them (core.text.normalize_for_search of "first last" and
    # of the last name), derived on every save and by the bulk writers (refresh_search_names).
    search_name = models.CharField(max_length=SEARCH_NAME_LENGTH, blank=True, default="", editable=False,
                                   verbose_name=_("name for search"))
    search_last_name = models.CharField(max_length=SEARCH_NAME_LENGTH, blank=True, default="", editable=False,
                                        verbose_name=_("last name for search"))

    # Current consent; every change is also a ConsentChange row (who, when, source).
    email_opt_in = models.BooleanField(_("email opt-in"), default=False)
    sms_opt_in = models.BooleanField(_("SMS opt-in"), default=False)

    # Derived from counted orders (DESIGN.md), kept by crm.services in the same
    # transaction as every order write; `rebuild_customer_stats` repairs them.
    first_order_at = models.DateTimeField(_("first order"), null=True, blank=True, editable=False)
    last_order_at = models.DateTimeField(_("last order"), null=True, blank=True, editable=False)
    orders_count = models.PositiveIntegerField(_("orders"), default=0, editable=False)
    total_spent = models.DecimalField(_("total spent"), default=Decimal("0"), editable=False, **MONEY_SUM)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    objects = CustomerQuerySet.as_manager()
    # Audit trail (core.audit): every save, with who and from where. The order figures are
    # derived (and rewritten with UPDATE), updated_at is the history row's own date, and consent
    # has its own trail (ConsentChange: who, when, where from).
    history = HistoricalRecords(
        excluded_fields=["email_opt_in", "sms_opt_in", "first_order_at", "last_order_at", "orders_count", "total_spent",
                         "updated_at", "search_name", "search_last_name"],
        get_user=history_user,
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("import_customers", _("Can import customers from a CSV file")),
            ("erase_customer", _("Can erase (anonymise) a customer")),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("email"), name="crm_customer_email_ci_unique", violation_error_code="email_taken",
                violation_error_message=_("A customer with this email already exists."),
            ),
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False) | Q(external_ref__isnull=False),
                name="crm_customer_has_contact_or_ref",
                violation_error_message=_("Give at least an email, a phone number or an external reference."),
            ),
            models.CheckConstraint(condition=Q(total_spent__gte=0), name="crm_customer_total_spent_gte_0"),
        ]
        indexes = [
            models.Index(fields=["last_order_at"], name="crm_customer_last_order"),
            models.Index(fields=["first_order_at"], name="crm_customer_first_order"),
            # The admin's list: last order newest first, prospects last (`last_order_at DESC NULLS LAST, id DESC`
            # reads this backwards); without it the customers who never ordered are sorted on every page.
            PostgresOnlyIndex(F("last_order_at").desc(nulls_last=True), F("id"), name="crm_customer_last_order_sort"),
            # Name prefix search (CustomerQuerySet.search): `search_name LIKE 'x%'` whatever the database's
            # collation (the pattern operator class); the included columns let PostgreSQL answer from the
            # index alone (bench/bench_admin.py).
            PostgresOnlyIndex(fields=["search_name"], opclasses=["varchar_pattern_ops"],
                              include=["search_last_name", "id"], name="crm_customer_search_name"),
            PostgresOnlyIndex(fields=["search_last_name"], opclasses=["varchar_pattern_ops"],
                              include=["id"], name="crm_customer_search_last_name"),
        ]

    def __str__(self):
        name = self.full_name
        return name or self.email or (str(self.phone) if self.phone else "") or self.external_ref or str(self.public_id)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def save(self, *args, **kwargs):
        self.refresh_search_names()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"first_name", "last_name"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_name", "search_last_name"}
        super().save(*args, **kwargs)

    def refresh_search_names(self) -> None:
        """Derive the search columns from the names; bulk_create and bulk_update callers call it."""
        self.search_name, self.search_last_name = self.search_names_for(self.first_name, self.last_name)

    @staticmethod
    def search_names_for(first_name: str, last_name: str) -> tuple[str, str]:
        """(search_name, search_last_name) of these names, for writers of plain rows (the demo's COPY)."""
        return (
            normalize_for_search(f"{first_name} {last_name}")[:SEARCH_NAME_LENGTH],
            normalize_for_search(last_name)[:SEARCH_NAME_LENGTH],
        )


class ConsentChange(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_changes",
                                 verbose_name=_("customer"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    granted = models.BooleanField(_("granted"))
    source = models.CharField(_("source"), max_length=50, help_text=_("Where the change came from: import, admin, api, unsubscribe link..."))
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("changed by"))

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("consent change")
        verbose_name_plural = _("consent changes")
        indexes = [models.Index(fields=["customer", "channel", "-changed_at"], name="crm_consent_customer_idx")]

    def __str__(self):
        state = _("granted") if self.granted else _("withdrawn")
        return f"{self.get_channel_display()} {state} ({self.source})"


class ErasureEvent(models.Model):
    """A customer was erased (crm.privacy.customer_erase): who did it and when, nothing about the person."""

    customer = models.OneToOneField(Customer, null=True, on_delete=models.SET_NULL, related_name="erasure",
                                    verbose_name=_("customer"))
    erased_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("erased by"))
    erased_at = models.DateTimeField(_("erased at"), default=timezone.now)

    class Meta:
        ordering = ["-erased_at", "-id"]
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")

    def __str__(self):
        return f"{self.erased_at:%Y-%m-%d %H:%M}"


class CustomerAccess(models.Model):
    """A staff member (or a command) looked at or exported a customer's personal data.

    Holds who, when, which customer and what, and nothing about the person: it survives
    erasure (crm.privacy) without keeping any personal data."""

    class Action(models.TextChoices):
        VIEWED = "viewed", _("Viewed")
        EXPORTED = "exported", _("Exported")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="accesses",
                                 verbose_name=_("customer"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("staff"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    source = models.CharField(_("source"), max_length=50, help_text=_("admin, command..."))
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("customer data access")
        verbose_name_plural = _("customer data accesses")
        indexes = [models.Index(fields=["customer", "-at"], name="crm_access_customer_at")]

    def __str__(self):
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"
