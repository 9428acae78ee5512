"""Campaigns (one send to segments, with variants and a holdout), their audit events, and
automations (messages sent on an occasion)."""

import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns import holdout
from campaigns.models.segments import Segment

HOLDOUT_VALIDATORS = [MinValueValidator(0), MaxValueValidator(holdout.MAX_PERCENT)]


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class ChannelChoice(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PREFERRED = "preferred", _("Each customer's preferred channel")


class Campaign(models.Model):
    """A one-off message to one or more segments. Its life goes through campaigns.services:
    draft -> scheduled -> sending -> sent, or cancelled."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    class WinnerMetric(models.TextChoices):
        CLICK = "click", _("Click rate")
        CONVERSION = "conversion", _("Conversion rate")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False,
                                 help_text=_("How the partner API names the campaign."))
    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(_("channel"), max_length=10, choices=ChannelChoice.choices, default=ChannelChoice.EMAIL)
    segments = models.ManyToManyField(Segment, related_name="campaigns", verbose_name=_("target segments"), blank=True)
    excluded_segments = models.ManyToManyField(
        Segment, related_name="excluded_from_campaigns", verbose_name=_("excluded segments"), blank=True,
        help_text=_("Customers in any of these segments are left out."),
    )
    subject = models.CharField(_("email subject"), max_length=200, blank=True)
    body = models.TextField(
        _("email body (HTML)"), blank=True,
        help_text=_("Placeholders: {{ first_name }}, {{ tier }}, {{ points_balance }}, {{ points_expiring }}, "
                    "{{ coupon_code }}, {{ offer }}, {{ unsubscribe_url }}."),
    )
    sms_text = models.TextField(_("SMS text"), blank=True)
    offer = models.ForeignKey(
        "club.Offer", null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("offer"),
        help_text=_("Only the club members the offer is for receive an offer campaign; each gets a unique coupon "
                    "({{ coupon_code }})."),
    )
    survey = models.ForeignKey(
        "feedback.Survey", null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns",
        limit_choices_to={"is_active": True}, verbose_name=_("survey"),
        help_text=_("The survey {{ survey_url }} opens for every recipient (their own link). Empty: the survey each "
                    "customer was invited to and has not answered yet, if any."),
    )
    test_percent = models.PositiveSmallIntegerField(
        _("A/B test share (%)"), default=20,
        help_text=_("With 'send the winner after', this share of the audience is split between the variants; "
                    "the rest gets the winner."),
    )
    winner_after_hours = models.PositiveIntegerField(
        _("send the winner to the rest after (hours)"), null=True, blank=True,
        help_text=_("Empty: the whole audience is split between the variants."),
    )
    winner_metric = models.CharField(_("winner by"), max_length=12, choices=WinnerMetric.choices, default=WinnerMetric.CLICK)
    holdout_percent = models.PositiveSmallIntegerField(
        _("holdout (%)"), default=holdout.DEFAULT_PERCENT, validators=HOLDOUT_VALIDATORS,
        help_text=_("This share of the audience (0-50%) is drawn at random and receives nothing, so the campaign's "
                    "effect can be measured against it."),
    )
    holdout_seed = models.CharField(_("holdout seed"), max_length=64, default=secrets.token_hex, editable=False,
                                    help_text=_("With the customer's id, decides who is held out: the draw can be repeated."))
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False,
                              db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True, editable=False)
    winner_variant = models.CharField(_("winning variant"), max_length=1, blank=True, editable=False)
    winner_decided_at = models.DateTimeField(_("winner decided"), null=True, blank=True, editable=False)
    # Frozen when sending starts: who matched, and who was left out and why.
    audience_size = models.PositiveIntegerField(_("matching customers"), default=0, editable=False)
    recipients = models.PositiveIntegerField(_("recipients"), default=0, editable=False)
    held_out = models.PositiveIntegerField(_("held out"), default=0, editable=False)
    skipped_no_consent = models.PositiveIntegerField(_("skipped: no consent or address"), default=0, editable=False)
    skipped_suppressed = models.PositiveIntegerField(_("skipped: suppressed"), default=0, editable=False)
    skipped_frequency_cap = models.PositiveIntegerField(_("skipped: frequency cap"), default=0, editable=False)
    skipped_not_for_offer = models.PositiveIntegerField(_("skipped: not a member the offer is for"), default=0,
                                                        editable=False)
    # Refreshed after each chunk, so list pages show progress without counting messages.
    sent_count = models.PositiveIntegerField(_("sent"), default=0, editable=False)
    failed_count = models.PositiveIntegerField(_("failed"), default=0, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   editable=False, verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(condition=models.Q(test_percent__gte=1, test_percent__lte=100),
                                   name="campaigns_campaign_test_percent_range"),
            models.CheckConstraint(condition=models.Q(holdout_percent__lte=holdout.MAX_PERCENT),
                                   name="campaigns_campaign_holdout_percent_range"),
        ]

    def __str__(self):
        return self.name

    @property
    def skipped(self) -> int:
        return self.skipped_no_consent + self.skipped_suppressed + self.skipped_frequency_cap + self.skipped_not_for_offer

    @property
    def progress_percent(self) -> int:
        if not self.recipients:
            return 0
        return min(100, round(100 * (self.sent_count + self.failed_count) / self.recipients))


class CampaignVariant(models.Model):
    """An A/B variant: its own subject and/or text; empty fields use the campaign's."""

    class Label(models.TextChoices):
        A = "A", "A"
        B = "B", "B"
        C = "C", "C"
        D = "D", "D"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants",
                                 verbose_name=_("campaign"))
    label = models.CharField(_("variant"), max_length=1, choices=Label.choices)
    split_percent = models.PositiveSmallIntegerField(_("share (%)"), default=50)
    subject = models.CharField(_("email subject"), max_length=200, blank=True)
    body = models.TextField(_("email body (HTML)"), blank=True)
    sms_text = models.TextField(_("SMS text"), blank=True)

    class Meta:
        ordering = ["label"]
        verbose_name = _("A/B variant")
        verbose_name_plural = _("A/B variants")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "label"], name="campaigns_variant_label_once"),
            models.CheckConstraint(condition=models.Q(split_percent__lte=100), name="campaigns_variant_split_lte_100"),
        ]

    def __str__(self):
        return f"{self.label} ({self.split_percent}%)"


class CampaignEvent(models.Model):
    """What happened to a campaign, who did it and from where: one row per state change, written
    by the service that made the change, in its transaction. Facts, not sentences: the kind and
    its parameters; a page renders them in its reader's language. The dispatcher's own steps
    (a scheduled start, an A/B winner at its hour) have no user."""

    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        SEND_NOW = "send_now", _("Sent now")
        UNSCHEDULED = "unscheduled", _("Back to draft")
        STARTED = "started", _("Started sending")
        CANCELLED = "cancelled", _("Cancelled")
        RESENT_FAILED = "resent_failed", _("Failed messages queued again")
        RESUMED = "resumed", _("Sending resumed")
        WINNER_PICKED = "winner_picked", _("A/B winner picked")
        TEST_SENT = "test_sent", _("Test sent")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events", verbose_name=_("campaign"))
    kind = models.CharField(_("what"), max_length=20, choices=Kind.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                           verbose_name=_("by"))
    source = models.CharField(_("source"), max_length=100, blank=True)
    parameters = models.JSONField(_("details"), default=dict, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("campaign event")
        verbose_name_plural = _("campaign events")
        indexes = [models.Index(fields=["campaign", "-at"], name="campaigns_event_campaign")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.at:%Y-%m-%d %H:%M})"


class Automation(models.Model):
    """A message sent by a periodic job or on a club/feedback event, once per customer and occasion."""

    class Kind(models.TextChoices):
        WIN_BACK = "win_back", _("Win-back")
        REPLENISHMENT = "replenishment", _("Replenishment reminder")
        POST_PURCHASE = "post_purchase", _("Post-purchase thank-you")
        SURVEY_INVITATION = "survey_invitation", _("Survey invitation (not about an order)")
        WELCOME = "welcome", _("Welcome to the club")
        POINTS_EXPIRING = "points_expiring", _("Points expiry warning")
        BIRTHDAY = "birthday", _("Birthday")
        RETURN_UPDATE = "return_update", _("Return updates")
        ENROL_CODE = "enrol_code", _("Club enrolment code")

    # Marketing messages count towards the frequency cap and respect it; the others are
    # transactional (the customer's own club account or order): exempt from the cap, never from consent.
    MARKETING_KINDS = frozenset({Kind.WIN_BACK, Kind.REPLENISHMENT})
    # Addressed: sent to the address written with the message (`Message.to_address`), which the customer gave
    # for this very message (a one-time code asked for at a till), whatever the consents and with nothing of
    # the customer's record in it (campaigns.services.addressed).
    ADDRESSED_KINDS = frozenset({Kind.ENROL_CODE})

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False,
                                 help_text=_("The automation's id in the API."))
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    enabled = models.BooleanField(_("enabled"), default=False)
    channel = models.CharField(_("channel"), max_length=10, choices=ChannelChoice.choices, default=ChannelChoice.PREFERRED)
    days = models.PositiveIntegerField(
        _("days"), default=0,
        help_text=_("Win-back: days since the last counted order. Post-purchase: days after fulfilment. "
                    "Replenishment: days before the product is due. Others: unused."),
    )
    cooldown_days = models.PositiveIntegerField(
        _("cooldown (days)"), default=0, help_text=_("A customer gets this automation at most once in this many days (0: no limit)."),
    )
    subject = models.CharField(_("email subject"), max_length=200, blank=True)
    subject_b = models.CharField(
        _("email subject, variant B"), max_length=200, blank=True,
        help_text=_("Optional: half of the recipients get this subject instead (A/B test)."),
    )
    body = models.TextField(_("email body (HTML)"), blank=True)
    sms_text = models.TextField(_("SMS text"), blank=True)
    offer = models.ForeignKey("club.Offer", null=True, blank=True, on_delete=models.PROTECT, related_name="automations",
                              verbose_name=_("offer"))
    holdout_percent = models.PositiveSmallIntegerField(
        _("holdout (%)"), default=holdout.DEFAULT_PERCENT, validators=HOLDOUT_VALIDATORS,
        help_text=_("Marketing automations (win-back, replenishment): this share of the customers (0-50%) is drawn at "
                    "random when they enter and receives nothing, to measure the effect. Messages about the customer's "
                    "own order or club account are never held back."),
    )
    holdout_seed = models.CharField(_("holdout seed"), max_length=64, default=secrets.token_hex, editable=False,
                                    help_text=_("With the customer's id, decides who is held out: the draw can be repeated."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("automation")
        verbose_name_plural = _("automations")
        constraints = [
            models.CheckConstraint(condition=models.Q(holdout_percent__lte=holdout.MAX_PERCENT),
                                   name="campaigns_automation_holdout_percent_range"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_marketing(self) -> bool:
        return self.kind in self.MARKETING_KINDS

    @property
    def holds_out(self) -> bool:
        """Only marketing automations keep a holdout: a notice about the customer's own order or account is owed."""
        return self.is_marketing and self.holdout_percent > 0
