import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
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
    members = models.ManyToManyField(Customer, through="SegmentMember", related_name="static_segments", blank=True)
    # The size the last time it was counted (list pages show it without counting again).
    size = models.PositiveIntegerField(_("size"), null=True, blank=True, editable=False)
    size_counted_at = models.DateTimeField(_("counted at"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Who changed the name, slug or rules, and when (the services set the user on every save).
    # The counted size is a cache, not an edit.
    history = HistoricalRecords(excluded_fields=["size", "size_counted_at", "updated_at"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self):
        return self.name


class SegmentMember(models.Model):
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="segment_memberships")
    added_at = models.DateTimeField(_("added"), auto_now_add=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("segment member")
        verbose_name_plural = _("segment members")
        constraints = [models.UniqueConstraint(fields=["segment", "customer"], name="campaigns_segment_member_once")]
        indexes = [models.Index(fields=["customer"], name="campaigns_segmentmember_cust")]


# --- Campaigns, messages and automations ------------------------------------------------------
# Content texts (subject, body, sms_text) are translated per language with modeltranslation
# (campaigns/translation.py): each customer gets their language, English as the fallback.


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
        help_text=_("Each recipient who is a club member gets a unique coupon for this offer ({{ coupon_code }})."),
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
    skipped_no_consent = models.PositiveIntegerField(_("skipped: no consent or address"), default=0, editable=False)
    skipped_suppressed = models.PositiveIntegerField(_("skipped: suppressed"), default=0, editable=False)
    skipped_frequency_cap = models.PositiveIntegerField(_("skipped: frequency cap"), default=0, editable=False)
    # Refreshed after each chunk, so list pages show progress without counting messages.
    sent_count = models.PositiveIntegerField(_("sent"), default=0, editable=False)
    failed_count = models.PositiveIntegerField(_("failed"), default=0, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(condition=models.Q(test_percent__gte=1, test_percent__lte=100),
                                   name="campaigns_campaign_test_percent_range"),
        ]

    def __str__(self):
        return self.name

    @property
    def skipped(self) -> int:
        return self.skipped_no_consent + self.skipped_suppressed + self.skipped_frequency_cap

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

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
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

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
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

    # Marketing messages count towards the frequency cap and respect it; the others are
    # transactional (the customer's own club account or order): exempt from the cap, never from consent.
    MARKETING_KINDS = frozenset({Kind.WIN_BACK, Kind.REPLENISHMENT})

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
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("automation")
        verbose_name_plural = _("automations")

    def __str__(self):
        return self.name

    @property
    def is_marketing(self) -> bool:
        return self.kind in self.MARKETING_KINDS


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

    class SkipReason(models.TextChoices):
        NO_CONSENT = "no_consent", _("No consent or address for the channel")
        SUPPRESSED = "suppressed", _("On the suppression list")
        FREQUENCY_CAP = "frequency_cap", _("Frequency cap reached")

    # Statuses after a backend accepted the message.
    DELIVERED_STATUSES = (Status.SENT,)
    # What counts towards the frequency cap: planned or sent, not failed, skipped or cancelled.
    CAP_STATUSES = (Status.HELD, Status.QUEUED, Status.SENDING, Status.BOUNCED, *DELIVERED_STATUSES)

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False,
                                 help_text=_("Also the idempotency key given to the provider."))
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="messages")
    automation = models.ForeignKey(Automation, null=True, blank=True, on_delete=models.PROTECT, related_name="messages")
    occasion = models.CharField(_("occasion"), max_length=200, blank=True,
                                help_text=_("Automations: what the message is about (an order, a birthday year...)."))
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="messages", verbose_name=_("customer"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=10, default="en")
    variant = models.CharField(_("variant"), max_length=1, blank=True)
    is_marketing = models.BooleanField(_("marketing"), default=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    skip_reason = models.CharField(_("skipped because"), max_length=20, choices=SkipReason.choices, blank=True)
    to_address = models.CharField(_("sent to"), max_length=254, blank=True)
    # Extra placeholders known when the row was written (a birthday coupon, a survey link).
    context = models.JSONField(_("context"), default=dict, blank=True)
    coupon = models.ForeignKey("club.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    provider_id = models.CharField(_("provider id"), max_length=100, blank=True)
    sms_parts = models.PositiveSmallIntegerField(_("SMS parts"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    # Last touch: an order converts at most one message.
    conversion_order = models.OneToOneField("crm.Order", null=True, blank=True, on_delete=models.SET_NULL,
                                            related_name="+", verbose_name=_("converting order"))
    revenue = models.DecimalField(_("revenue"), null=True, blank=True, max_digits=14, decimal_places=2)

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

    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="links")
    automation = models.ForeignKey(Automation, null=True, blank=True, on_delete=models.CASCADE, related_name="links")
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


class Suppression(models.Model):
    """Addresses that must never be messaged again (erased customers, complaints, hard bounces).
    Only the SHA-256 of the normalized address is kept (lower-cased email, E.164 phone)."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")

    class Reason(models.TextChoices):
        ERASED = "erased", _("Customer erased")
        COMPLAINT = "complaint", _("Spam complaint")
        BOUNCE = "bounce", _("Hard bounce")
        MANUAL = "manual", _("Added by staff")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    value_hash = models.CharField(_("SHA-256 of the address"), max_length=64, unique=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, default=Reason.MANUAL)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppression list")

    def __str__(self):
        return f"{self.get_kind_display()} {self.value_hash[:12]}…"


class InboundSms(models.Model):
    """An SMS a customer sent us (through a provider webhook or the partner API)."""

    from_number = models.CharField(_("from"), max_length=32)
    text = models.TextField(_("text"))
    is_stop = models.BooleanField(_("opt-out request"), default=False)
    customers_unsubscribed = models.PositiveIntegerField(_("customers unsubscribed"), default=0)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("inbound SMS")
        verbose_name_plural = _("inbound SMS")

    def __str__(self):
        return f"{self.from_number}: {self.text[:30]}"
