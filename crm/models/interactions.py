"""Support's log: calls, emails, chats and visits, and the follow-ups they leave."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.indexes import PostgresOnlyIndex
from crm.models.customers import Customer
from crm.models.orders import Order
from crm.querysets import InteractionQuerySet


class Interaction(models.Model):
    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        CHAT = "chat", _("Chat")
        SMS = "sms", _("SMS")
        VISIT = "visit", _("Visit")
        SOCIAL = "social", _("Social")
        OTHER = "other", _("Other")

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting")
        RESOLVED = "resolved", _("Resolved")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="interactions",
                                 verbose_name=_("customer"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.INBOUND)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("notes"), blank=True)
    # An interaction the product opens itself (a survey's follow-up...) is worded in every language when it is
    # written, {"fa": {"subject": ..., "body": ...}, ...}, and read in the reader's (subject_text, body_text);
    # `subject` and `body` hold the default language's wording for search and exports. Staff's own words: null.
    wording = models.JSONField(_("wording in each language"), null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RESOLVED)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="interactions", verbose_name=_("staff member"),
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    follow_up_on = models.DateField(_("follow up on"), null=True, blank=True)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions",
                              verbose_name=_("order"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = InteractionQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="crm_interaction_timeline"),
            models.Index(
                fields=["staff", "follow_up_on"], condition=~Q(status="resolved"), name="crm_interaction_open_followups"
            ),
            PostgresOnlyIndex(fields=["occurred_at", "id"], name="crm_interaction_occurred"),  # the admin's list
        ]

    def __str__(self):
        return self.subject_text

    def _worded(self, part: str) -> str:
        language = (translation.get_language() or "").split("-")[0]
        return ((self.wording or {}).get(language) or {}).get(part) or getattr(self, part)

    @property
    def subject_text(self) -> str:
        return self._worded("subject")

    @property
    def body_text(self) -> str:
        return self._worded("body")
