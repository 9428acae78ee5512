"""Messages (one to one customer, its delivery status and engagement) and the tracked links
in them."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models.campaigns import Automation, Campaign, Channel
from crm.models import MONEY_SUM, Customer


class Engagement(models.TextChoices):
    """What the customer did with a delivered message, furthest first. Read from the message's
    timestamps (`opened_at`, ...), never stored as a status: a message can be opened *and*
    clicked *and* unsubscribed, and its delivery status stays "sent"."""

    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    CONVERTED = "converted", _("Converted")
    CLICKED = "clicked", _("Clicked")
    OPENED = "opened", _("Opened")


ENGAGEMENT_TIMESTAMPS = {
    Engagement.UNSUBSCRIBED: "unsubscribed_at",
    Engagement.CONVERTED: "converted_at",
    Engagement.CLICKED: "clicked_at",
    Engagement.OPENED: "opened_at",
}


class MessageQuerySet(models.QuerySet):
    def engaged(self, engagement: str) -> "MessageQuerySet":
        """Messages with this engagement (opened includes clicked ones whose pixel was blocked: a click sets both)."""
        return self.filter(**{f"{ENGAGEMENT_TIMESTAMPS[engagement]}__isnull": False})

    def not_engaged(self) -> "MessageQuerySet":
        return self.filter(**{f"{column}__isnull": True for column in ENGAGEMENT_TIMESTAMPS.values()})

    def with_engagement(self) -> "MessageQuerySet":
        """Annotate `furthest_engagement` ("" when none), in SQL what the `Message.engagement` property computes."""
        return self.annotate(furthest_engagement=models.Case(
            *(models.When(**{f"{column}__isnull": False}, then=models.Value(engagement.value))
              for engagement, column in ENGAGEMENT_TIMESTAMPS.items()),
            default=models.Value(""), output_field=models.CharField(),
        ))


class Message(models.Model):
    """One message to one customer: a campaign's recipient or an automation's occasion.

    The row is written before anything is sent (the audience is frozen), then claimed
    with a conditional UPDATE (queued -> sending) by exactly one worker, and marked sent
    only after the email or SMS backend accepted it. `status` follows delivery only;
    what the customer did afterwards is in the engagement timestamps (see Engagement)."""

    class Status(models.TextChoices):
        HELD = "held", _("Waiting for the A/B winner")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")
        SKIPPED = "skipped", _("Skipped")
        CANCELLED = "cancelled", _("Cancelled")
        HELD_OUT = "held_out", _("Held out (control group, never sent)")

    class SkipReason(models.TextChoices):
        NO_CONSENT = "no_consent", _("No consent or address for the channel")
        SUPPRESSED = "suppressed", _("On the suppression list")
        FREQUENCY_CAP = "frequency_cap", _("Frequency cap reached")
        NOT_FOR_OFFER = "not_for_offer", _("Not a club member the offer is for")

    # A holdout customer has a row like a recipient (drawn when the audience is frozen, or at an
    # automation's entry, with that date), in this state: never queued, never sent.
    # Statuses after a backend accepted the message.
    DELIVERED_STATUSES = (Status.SENT,)
    # What counts towards the frequency cap: planned or sent, not failed, skipped or cancelled.
    CAP_STATUSES = (Status.HELD, Status.QUEUED, Status.SENDING, Status.BOUNCED, *DELIVERED_STATUSES)

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False,
                                 help_text=_("Also the idempotency key given to the provider."))
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="messages",
                                 verbose_name=_("campaign"))
    automation = models.ForeignKey(Automation, null=True, blank=True, on_delete=models.PROTECT, related_name="messages",
                                   verbose_name=_("automation"))
    occasion = models.CharField(_("occasion"), max_length=200, blank=True,
                                help_text=_("Automations: what the message is about (an order, a birthday year...)."))
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="messages",
                                 verbose_name=_("customer"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=10, default="en")
    variant = models.CharField(_("variant"), max_length=1, blank=True)
    is_marketing = models.BooleanField(_("marketing"), default=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    skip_reason = models.CharField(_("skipped because"), max_length=20, choices=SkipReason.choices, blank=True)
    to_address = models.CharField(_("sent to"), max_length=254, blank=True)
    # Extra placeholders known when the row was written (a birthday coupon, a survey link).
    context = models.JSONField(_("context"), default=dict, blank=True)
    coupon = models.ForeignKey("club.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("coupon"))
    claim_token = models.UUIDField(null=True, blank=True, editable=False, verbose_name=_("claim token"))
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("claimed at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # An SMS the operator could not deliver is sent again under a new key (the provider drops a repeated key).
    delivery_retries = models.PositiveSmallIntegerField(_("sent again after a failed delivery"), default=0)
    error = models.TextField(_("error"), blank=True)
    provider_id = models.CharField(_("provider id"), max_length=100, blank=True)
    sms_parts = models.PositiveSmallIntegerField(_("SMS parts"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    # Reported by the provider (campaigns.services.delivery).
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    complained_at = models.DateTimeField(_("marked as spam"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    # Last touch: an order converts at most one message.
    conversion_order = models.OneToOneField("crm.Order", null=True, blank=True, on_delete=models.SET_NULL,
                                            related_name="+", verbose_name=_("converting order"))
    revenue = models.DecimalField(_("revenue"), null=True, blank=True, **MONEY_SUM)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], condition=models.Q(campaign__isnull=False),
                                    name="campaigns_message_once_per_campaign"),
            models.UniqueConstraint(fields=["automation", "customer", "occasion"], condition=models.Q(automation__isnull=False),
                                    name="campaigns_message_once_per_occasion"),
            models.CheckConstraint(condition=models.Q(campaign__isnull=True) | models.Q(automation__isnull=True),
                                   name="campaigns_message_one_source"),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="campaigns_message_campaign"),
            models.Index(fields=["customer", "-created_at"], name="campaigns_message_customer"),
            models.Index(fields=["automation", "customer", "-created_at"], name="campaigns_message_automation"),
            models.Index(fields=["customer", "sent_at"], condition=models.Q(sent_at__isnull=False), name="campaigns_message_sent"),
            models.Index(fields=["claimed_at"], condition=models.Q(status="sending"), name="campaigns_message_in_flight"),
            # Provider reports name the message by the provider's id.
            models.Index(fields=["provider_id"], condition=~models.Q(provider_id=""), name="campaigns_message_provider"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} to {self.customer_id} ({self.get_status_display()})"

    @property
    def source(self):
        return self.campaign or self.automation

    @property
    def source_kind(self) -> str:
        """"campaign", or the automation's kind: what after-send hooks are keyed by."""
        return "campaign" if self.campaign_id else (self.automation.kind if self.automation_id else "")

    @property
    def is_addressed(self) -> bool:
        """Sent to the `to_address` it was written with (Automation.ADDRESSED_KINDS), not to the customer's."""
        return self.automation_id is not None and self.automation.kind in Automation.ADDRESSED_KINDS

    @property
    def engagement(self) -> str:
        """The furthest engagement from the timestamps ("" when none); see Engagement."""
        return next((engagement.value for engagement, column in ENGAGEMENT_TIMESTAMPS.items()
                     if getattr(self, column) is not None), "")

    def get_engagement_display(self) -> str:
        return str(Engagement(self.engagement).label) if self.engagement else ""

    @property
    def is_opened(self) -> bool:
        return self.opened_at is not None

    @property
    def is_clicked(self) -> bool:
        return self.clicked_at is not None

    @property
    def is_converted(self) -> bool:
        return self.converted_at is not None

    @property
    def is_unsubscribed(self) -> bool:
        return self.unsubscribed_at is not None


class TrackedLink(models.Model):
    """A URL of a campaign's (or automation's) content, recorded when it is sent.
    Click links name the row, never the URL, so the redirect cannot go anywhere else."""

    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="links",
                                 verbose_name=_("campaign"))
    automation = models.ForeignKey(Automation, null=True, blank=True, on_delete=models.CASCADE, related_name="links",
                                   verbose_name=_("automation"))
    url = models.URLField(_("URL"), max_length=2000)
    clicks = models.PositiveIntegerField(_("clicks"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("tracked link")
        verbose_name_plural = _("tracked links")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "url"], condition=models.Q(campaign__isnull=False),
                                    name="campaigns_link_once_per_campaign"),
            models.UniqueConstraint(fields=["automation", "url"], condition=models.Q(automation__isnull=False),
                                    name="campaigns_link_once_per_automation"),
        ]

    def __str__(self):
        return self.url
