"""The suppression list: addresses that must never be messaged again."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _



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
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppression list")

    def __str__(self):
        return f"{self.get_kind_display()} {self.value_hash[:12]}…"
