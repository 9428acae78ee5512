"""What the email and SMS providers report back about a message: one row per provider event."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models.messages import Message


class DeliveryEvent(models.Model):
    """One report of a provider about one of our messages (a delivery, a bounce, a complaint, an open,
    a click...), normalized. The provider's own event id is unique, so a webhook the provider
    delivers twice (it retries until it gets a 2xx) is recorded, and acted on, once."""

    class Kind(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")
        OPENED = "opened", _("Opened")
        CLICKED = "clicked", _("Clicked")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed at the provider")
        FAILED = "failed", _("Not delivered")

    class Outcome(models.TextChoices):
        """What we did about it (facts, so the sentence is rendered in the reader's language)."""

        RECORDED = "recorded", _("Recorded on the message")
        SUPPRESSED = "suppressed", _("Address suppressed")
        RETRIED = "retried", _("Sent again")
        MARKED_FAILED = "marked_failed", _("Marked failed")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="delivery_events",
                                verbose_name=_("message"))
    provider = models.CharField(_("provider"), max_length=30)
    event_id = models.CharField(_("provider's event id"), max_length=200)
    kind = models.CharField(_("event"), max_length=15, choices=Kind.choices)
    outcome = models.CharField(_("outcome"), max_length=15, choices=Outcome.choices, default=Outcome.RECORDED)
    provider_status = models.CharField(_("provider's status"), max_length=40, blank=True)
    reason = models.CharField(_("reason given"), max_length=500, blank=True)
    url = models.URLField(_("clicked URL"), max_length=2000, blank=True)
    occurred_at = models.DateTimeField(_("occurred"), default=timezone.now)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("delivery event")
        verbose_name_plural = _("delivery events")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="campaigns_delivery_event_once"),
        ]
        indexes = [models.Index(fields=["message", "-occurred_at"], name="campaigns_delivery_message")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.provider})"
