"""Partners of the API, their keys, the customers they may see, stored idempotent responses and webhooks.

A key is shown once when it is created; only its SHA-256 hash is stored, next to a short
visible prefix that finds the row (the secret itself has 256 bits of entropy, so a fast
hash is enough: there is nothing to brute-force).
"""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _


class Partner(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True, help_text=_("Who to call about this integration."))
    active = models.BooleanField(_("active"), default=True, help_text=_("An inactive partner's keys are all refused."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self):
        return self.name


class ApiKey(models.Model):
    PREFIX_LENGTH = 8

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("partner"))
    name = models.CharField(_("label"), max_length=100, blank=True, help_text=_("Where the key is used, e.g. 'till 3'."))
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, unique=True, editable=False)
    hashed_key = models.CharField(_("hashed key"), max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    own_data_only = models.BooleanField(
        _("own data only"), default=False,
        help_text=_("The key sees only the customers its partner created or that were shared with it."),
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.partner} {self.prefix}..."

    def is_usable(self, at=None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)

    def refusal(self, at=None) -> str:
        """Why a call with this key is refused ("" when it is not): shown to staff in the admin and the call
        log only; the caller hears "Invalid API key." as for an unknown key (issue 16)."""
        if self.revoked_at is not None:
            return gettext("revoked")
        if not self.is_usable(at):
            return gettext("expired")
        if not self.partner.active:
            return gettext("partner inactive")
        return ""

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class PartnerCustomer(models.Model):
    """A customer a partner created through the API or that was shared with it."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="customer_links",
                                verbose_name=_("partner"))
    customer = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="partner_links",
                                 verbose_name=_("customer"))
    created = models.BooleanField(_("created by the partner"), default=False)
    linked_at = models.DateTimeField(_("linked at"), auto_now_add=True)
    # An own-data-only partner that pushed a person who already existed (api.identity): the values it
    # sent, rendered as the API shows them, which are all it sees of that person. Null: the partner
    # created the customer, or staff shared it, and it sees the customer as stored.
    view = models.JSONField(_("what the partner sees"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("partner customer")
        verbose_name_plural = _("partner customers")
        constraints = [models.UniqueConstraint(fields=["partner", "customer"], name="api_partnercustomer_unique")]
        indexes = [models.Index(fields=["customer", "partner"], name="api_partnercustomer_customer")]

    def __str__(self):
        return f"{self.partner}: {self.customer}"


class EnrolConfirmation(models.Model):
    """The one-time code sent to a customer so that an own-data-only key may enrol them in the club
    (api.enrolment). One per key and customer, replaced when a new code is sent, deleted once used;
    the code itself is kept only as an HMAC (keyed with SECRET_KEY and the row's salt)."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="enrol_confirmations",
                                verbose_name=_("API key"))
    customer = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("customer"))
    code_hash = models.CharField(_("code (HMAC)"), max_length=64, editable=False)
    salt = models.CharField(_("salt"), max_length=32, editable=False)
    channel = models.CharField(_("channel"), max_length=10)
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    tries = models.PositiveSmallIntegerField(_("tries"), default=0)

    class Meta:
        verbose_name = _("club enrolment code")
        verbose_name_plural = _("club enrolment codes")
        constraints = [models.UniqueConstraint(fields=["api_key", "customer"], name="api_enrolconfirmation_unique")]

    def __str__(self):
        return f"{self.api_key_id}: {self.customer_id}"


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an Idempotency-Key, replayed on a retry.

    The row is claimed (inserted, committed) before the work starts: `status_code` is null
    while the first request runs, so a concurrent retry gets 409 instead of doing the work twice."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="idempotency_records",
                                verbose_name=_("API key"))
    key = models.CharField(_("idempotency key"), max_length=255)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    request_hash = models.CharField(_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="api_idempotency_key_unique")]

    def __str__(self):
        return f"{self.api_key.prefix} {self.key}"


class ApiCall(models.Model):
    """One request to /api/v1/: who, what, the answer and how long it took (the admin's call log)."""

    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="calls",
                                verbose_name=_("partner"))
    key_prefix = models.CharField(_("key prefix"), max_length=ApiKey.PREFIX_LENGTH, blank=True)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    status = models.PositiveSmallIntegerField(_("status"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("API call")
        verbose_name_plural = _("API calls")
        indexes = [
            models.Index(fields=["partner", "-at"], name="api_call_partner_at"),
            models.Index(fields=["at"], name="api_call_at"),
        ]

    def __str__(self):
        return f"{self.method} {self.path} {self.status}"


class WebhookEvent(models.TextChoices):
    """What a partner may subscribe to (the `X-Webhook-Event` header and the body's `event`)."""

    CUSTOMER_CREATED = "customer.created", _("Customer created")
    ORDER_CREATED = "order.created", _("Order created")
    POINTS_EARNED = "points.earned", _("Points earned")
    TIER_CHANGED = "tier.changed", _("Tier changed")
    COUPON_ISSUED = "coupon.issued", _("Coupon issued")
    COUPON_REDEEMED = "coupon.redeemed", _("Coupon redeemed")
    RETURN_UPDATED = "return.updated", _("Return updated")
    SURVEY_ANSWERED = "survey.answered", _("Survey answered")


class WebhookSubscription(models.Model):
    """A partner's endpoint and the events it receives, signed with the subscription's secret.

    The secret must be kept in clear (it signs every delivery), so it is shown to the partner
    once, when the subscription is created, and afterwards only to superusers in the admin."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="webhook_subscriptions",
                                verbose_name=_("partner"))
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    own_data_only = models.BooleanField(
        _("own data only"), default=False,
        help_text=_("Only events about customers the partner created or that were shared with it "
                    "(set from the API key that created the subscription)."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        indexes = [models.Index(fields=["partner", "-created_at"], name="api_webhooksub_partner")]

    def __str__(self):
        return f"{self.partner}: {self.url}"


class WebhookDelivery(models.Model):
    """One event for one subscription: the outbox row, written in the event's transaction
    (or right after its commit), then sent by a Celery task and retried with backoff."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    # Indexed by (subscription, event_id) and (subscription, -created_at) below, which serve it alone too.
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries", db_index=False,
        verbose_name=_("subscription")
    )
    event = models.CharField(_("event"), max_length=40, choices=WebhookEvent.choices)
    event_id = models.UUIDField(_("event id"), editable=False)
    # Null until rendered: a large batch's payloads are rendered by the worker before the first attempt
    # (api.webhooks.payloads_render), from the subject named by `subject_id`.
    payload = models.JSONField(_("payload"), default=dict, null=True, blank=True)
    subject_id = models.BigIntegerField(_("subject"), null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            # One row per event and subscription: a fan-out run twice writes nothing new.
            models.UniqueConstraint(fields=["subscription", "event_id"], name="api_webhookdelivery_once"),
        ]
        indexes = [
            # The sweeper's query: due pending rows, oldest first.
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="api_webhookdelivery_due"),
            models.Index(fields=["subscription", "-created_at"], name="api_webhookdelivery_sub"),
            models.Index(fields=["status", "created_at"], name="api_webhookdelivery_status"),
        ]

    def __str__(self):
        return f"{self.event} {self.event_id} -> {self.subscription_id}"


class WebhookDeliveryAttempt(models.Model):
    """One POST of a delivery (or one refusal to make it): what staff read when a partner says
    "we never got it". Written with the outcome on the delivery, in the same transaction."""

    TEXT_LIMIT = 500

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_rows",
                                 verbose_name=_("delivery"))
    number = models.PositiveSmallIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=TEXT_LIMIT, blank=True)
    response_excerpt = models.CharField(_("response excerpt"), max_length=TEXT_LIMIT, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("webhook delivery attempt")
        verbose_name_plural = _("webhook delivery attempts")
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="api_webhookattempt_once")]

    def __str__(self):
        return f"{self.delivery_id} #{self.number}"
