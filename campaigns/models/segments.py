"""Segments: saved rule sets and static lists of customers."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.models import Customer


class Segment(models.Model):
    """A group of customers: *dynamic* (rules, evaluated in SQL whenever it is used) or
    *static* (a list of customers added by hand, from a selection, or from a CSV file)."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("Dynamic (rules)")
        STATIC = "static", _("Static (a list)")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.DYNAMIC)
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    members = models.ManyToManyField(Customer, through="SegmentMember", related_name="static_segments", blank=True,
                                     verbose_name=_("members"))
    # The size the last time it was counted (list pages show it without counting again).
    size = models.PositiveIntegerField(_("size"), null=True, blank=True, editable=False)
    size_counted_at = models.DateTimeField(_("counted at"), null=True, blank=True, editable=False)
    # The moment the materialized membership (SegmentCustomer) was computed: rules that depend on
    # "now" (days since the last order...) were evaluated as of this moment. None: never computed.
    members_computed_at = models.DateTimeField(_("members computed at"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Who changed the name, slug or rules, and when (the services set the user on every save).
    # The counted size is a cache, not an edit.
    history = HistoricalRecords(excluded_fields=["size", "size_counted_at", "members_computed_at", "updated_at"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self):
        return self.name


class SegmentMember(models.Model):
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships",
                                verbose_name=_("segment"))
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="segment_memberships",
                                 verbose_name=_("customer"))
    added_at = models.DateTimeField(_("added"), auto_now_add=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 verbose_name=_("added by"))

    class Meta:
        verbose_name = _("segment member")
        verbose_name_plural = _("segment members")
        constraints = [models.UniqueConstraint(fields=["segment", "customer"], name="campaigns_segment_member_once")]
        indexes = [models.Index(fields=["customer"], name="campaigns_segmentmember_cust")]


class SegmentCustomer(models.Model):
    """The materialized membership of every segment (dynamic and static): one row per segment and
    customer, rewritten set-based by campaigns.segments.segment_members_refresh (on every save and by
    the nightly campaigns.segments_refresh job). The analytics reports read it, so all segments join
    one table; campaign sending evaluates the rules live at send time instead. Never edited by hand.

    SegmentMember is the list a static segment is made of (its source); this table is a cache of
    what every segment selects."""

    pk = models.CompositePrimaryKey("segment", "customer")
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="customer_rows", db_index=False,
                                verbose_name=_("segment"))
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="segment_rows", db_index=False,
                                 verbose_name=_("customer"))

    class Meta:
        verbose_name = _("segment customer")
        verbose_name_plural = _("segment customers")
        # The primary key (segment, customer) serves the reports; this one, deleting a customer.
        indexes = [models.Index(fields=["customer"], name="campaigns_segcust_customer")]


# --- Campaigns, messages and automations ------------------------------------------------------
# Content texts (subject, body, sms_text) are translated per language with modeltranslation
# (campaigns/translation.py): each customer gets their language, English as the fallback.
