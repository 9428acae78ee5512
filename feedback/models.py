import hashlib
import uuid
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import AuditSourceField, HistoricalRecords, history_user
from crm.models import MONEY, Customer, Interaction, Order


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Survey(models.Model):
    """A questionnaire. Its texts are translated per language (feedback/translation.py)."""

    class Kind(models.TextChoices):
        NPS = "nps", _("Net Promoter Score")
        CSAT = "csat", _("Customer satisfaction")
        CUSTOM = "custom", _("Custom")

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("Only when invited by staff or a partner")
        ORDER_FULFILLED = "order_fulfilled", _("Some days after an order is fulfilled")
        INTERACTION_RESOLVED = "interaction_resolved", _("When a support interaction is resolved")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True)
    thank_you = models.TextField(_("thank-you text"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.NPS)
    languages = models.CharField(
        _("languages"), max_length=50, default="en,fa,ar",
        help_text=_("Comma-separated language codes the survey is offered in; each customer sees their own."),
    )
    starts_at = models.DateTimeField(_("open from"), default=timezone.now)
    ends_at = models.DateTimeField(_("open until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    trigger = models.CharField(_("sent automatically"), max_length=30, choices=Trigger.choices, default=Trigger.MANUAL)
    trigger_delay_days = models.PositiveIntegerField(
        _("days after fulfilment"), default=3, help_text=_("For surveys sent after an order is fulfilled.")
    )
    cooldown_days = models.PositiveIntegerField(
        _("cooldown (days)"), default=90, help_text=_("A customer is invited to this survey at most once in this many days.")
    )
    invitation_valid_days = models.PositiveIntegerField(_("invitation valid for (days)"), default=14)
    public_slug = models.SlugField(
        _("public link"), max_length=60, unique=True, null=True, blank=True,
        # Help texts are read as HTML in the admin: no "<slug>" in them.
        help_text=_("Set to open an anonymous public link at /f/s/ followed by this name; leave empty for invitations only."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")

    def __str__(self):
        return self.title

    @property
    def language_codes(self) -> list[str]:
        known = dict(settings.LANGUAGES)
        return [code.strip() for code in self.languages.split(",") if code.strip() in known] or [settings.LANGUAGE_CODE]

    def is_open(self, at=None) -> bool:
        at = at or timezone.now()
        return self.is_active and self.starts_at <= at and (self.ends_at is None or at < self.ends_at)


class Question(models.Model):
    class Type(models.TextChoices):
        NPS = "nps", _("0-10 (likelihood to recommend)")
        RATING = "rating", _("Rating 1-5")
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        SHORT_TEXT = "short_text", _("Short text")
        LONG_TEXT = "long_text", _("Long text")

    class Score(models.TextChoices):
        NONE = "", _("No")
        NPS = "nps", _("The survey's NPS question")
        CSAT = "csat", _("The survey's CSAT question")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions", verbose_name=_("survey"))
    position = models.PositiveIntegerField(_("position"), default=0)
    type = models.CharField(_("type"), max_length=12, choices=Type.choices)
    text = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    required = models.BooleanField(_("required"), default=True)
    scores = models.CharField(_("scored as"), max_length=4, choices=Score.choices, blank=True, default="")

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "scores"], condition=~Q(scores=""), name="feedback_one_score_question_per_kind",
                violation_error_message=_("A survey has at most one NPS question and one CSAT question."),
            ),
            models.CheckConstraint(
                condition=Q(scores="") | Q(scores="nps", type="nps") | Q(scores="csat", type="rating"),
                name="feedback_score_question_type",
                violation_error_message=_("The NPS question must be 0-10 and the CSAT question a 1-5 rating."),
            ),
        ]

    def __str__(self):
        return self.text

    @property
    def has_choices(self) -> bool:
        return self.type in (self.Type.SINGLE, self.Type.MULTIPLE)


class Choice(models.Model):
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices", verbose_name=_("question"))
    position = models.PositiveIntegerField(_("position"), default=0)
    label = models.CharField(_("label"), max_length=200)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("choice")
        verbose_name_plural = _("choices")

    def __str__(self):
        return self.label


class Invitation(models.Model):
    """A single-use invitation. Only the hash of its token is stored: the link is shown
    once (when created) and cannot be rebuilt from the database."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("survey"))
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_invitations",
                                 verbose_name=_("customer"))
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("order"))
    interaction = models.ForeignKey(Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("interaction"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False, verbose_name=_("token digest"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [
            models.Index(fields=["customer", "survey", "-created_at"], name="feedback_invitation_cooldown"),
            models.Index(fields=["sent_at"], condition=Q(sent_at__isnull=True), name="feedback_invitation_unsent"),
        ]

    def __str__(self):
        return f"{self.survey} -> {self.customer}"

    @staticmethod
    def new_token() -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        return token, hash_token(token)

    @property
    def state(self) -> str:
        if self.answered_at:
            return "answered"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"


class Response(models.Model):
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses", verbose_name=_("survey"))
    invitation = models.OneToOneField(Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="response",
                                      verbose_name=_("invitation"))
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_responses",
                                 verbose_name=_("customer"))
    language = models.CharField(_("language"), max_length=10, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    follow_up = models.OneToOneField(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback_response",
        verbose_name=_("follow-up"),
    )

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        indexes = [models.Index(fields=["survey", "submitted_at"], name="feedback_response_period")]

    def __str__(self):
        return f"{self.survey} #{self.pk}"


# The bands of an answer's score (DESIGN.md), for every report and segment rule that reads them:
# NPS promoters answer 9-10, passives 7-8, detractors 0-6; CSAT counts 4 or 5 (of 1-5) as satisfied.
NPS_PROMOTER_MIN = 9
NPS_PASSIVE_MIN = 7
CSAT_SATISFIED_MIN = 4


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers", verbose_name=_("response"))
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers", verbose_name=_("question"))
    number = models.SmallIntegerField(
        _("score"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    text = models.TextField(_("text"), blank=True)
    choices = models.ManyToManyField(Choice, blank=True, related_name="answers", verbose_name=_("choices"))

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="feedback_one_answer_per_question"),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | Q(number__gte=0, number__lte=10), name="feedback_answer_number_range"
            ),
        ]
        indexes = [models.Index(fields=["question", "number"], name="feedback_answer_scores")]

    def __str__(self):
        return self.text or str(self.number)


class ReturnRequest(models.Model):
    """A customer's request to return goods, worked by staff through its states.

    requested -> approved | rejected; approved -> received;
    received -> refunded | exchanged | credited; any of those (or rejected) -> closed.
    Every transition is a ReturnEvent row (who, when, from, to)."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        RECEIVED = "received", _("Received")
        REFUNDED = "refunded", _("Refunded")
        EXCHANGED = "exchanged", _("Exchanged")
        CREDITED = "credited", _("Store credit issued")
        CLOSED = "closed", _("Closed")

    class Resolution(models.TextChoices):
        REFUND = "refund", _("Refund")
        EXCHANGE = "exchange", _("Exchange")
        STORE_CREDIT = "store_credit", _("Store credit")

    class Channel(models.TextChoices):
        CUSTOMER = "customer", _("Customer's return page")
        STAFF = "staff", _("Staff")
        API = "api", _("Partner API")

    # Still being worked: not yet settled, rejected or closed.
    OPEN_STATES = (State.REQUESTED, State.APPROVED, State.RECEIVED)

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="return_requests", verbose_name=_("order"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="return_requests",
                                 verbose_name=_("customer"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.REQUESTED, db_index=True)
    resolution = models.CharField(_("wanted resolution"), max_length=12, choices=Resolution.choices, default=Resolution.REFUND)
    channel = models.CharField(_("requested through"), max_length=10, choices=Channel.choices, default=Channel.STAFF)
    note = models.TextField(_("note"), blank=True)
    refund_amount = models.DecimalField(_("refunded amount"), default=0, editable=False, **MONEY)
    credit_reference = models.CharField(_("store credit"), max_length=100, blank=True, editable=False,
                                        help_text=_("The coupon code or points transaction of the store credit."))
    rejected = models.BooleanField(_("rejected"), default=False, editable=False)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("requested by"))

    # Audit trail (core.audit); every state transition is also a ReturnEvent row (who, from, to).
    history = HistoricalRecords(excluded_fields=["updated_at"], get_user=history_user)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("return request")
        verbose_name_plural = _("return requests")
        permissions = [("process_return", _("Can approve, receive and refund returns"))]
        indexes = [models.Index(fields=["state", "created_at"], name="feedback_return_queue")]

    def __str__(self):
        return _("Return of order %(number)s") % {"number": self.order.order_number}


class ReturnLine(models.Model):
    class Reason(models.TextChoices):
        DAMAGED = "damaged", _("Damaged")
        WRONG_ITEM = "wrong_item", _("Wrong item")
        WRONG_SIZE = "wrong_size", _("Wrong size")
        NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
        CHANGED_MIND = "changed_mind", _("Changed my mind")
        OTHER = "other", _("Other")

    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines",
                                       verbose_name=_("return request"))
    order_line = models.ForeignKey("crm.OrderLine", on_delete=models.PROTECT, related_name="return_lines",
                                   verbose_name=_("order line"))
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("returned line")
        verbose_name_plural = _("returned lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="feedback_returnline_quantity_gte_1"),
            models.UniqueConstraint(fields=["return_request", "order_line"], name="feedback_returnline_once_per_request"),
        ]

    def __str__(self):
        line = self.order_line
        return _("%(product)s: %(returned)s of %(bought)s returned") % {
            "product": line.product_name or line.sku, "returned": self.quantity, "bought": line.quantity}


class ReturnEvent(models.Model):
    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="events",
                                       verbose_name=_("return request"))
    from_state = models.CharField(_("from"), max_length=10, blank=True)
    to_state = models.CharField(_("to"), max_length=10)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                           verbose_name=_("by"))
    audit_source = AuditSourceField(_("from where"))  # admin, api: <partner>, public page, ... (core.audit)
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("return event")
        verbose_name_plural = _("return events")

    def __str__(self):
        return _("%(from)s to %(to)s") % {"from": self.state_label(self.from_state), "to": self.state_label(self.to_state)}

    @staticmethod
    def state_label(state: str) -> str:
        """A state in the reader's language ("-" before the first)."""
        return str(ReturnRequest.State(state).label) if state in ReturnRequest.State.values else (state or "-")
