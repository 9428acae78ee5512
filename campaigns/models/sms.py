"""Inbound SMS: what customers send us (an opt-out, mostly)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
