"""Referrals: a member brings a new customer, and is rewarded once for the first order."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from club.models.membership import Membership


class Referral(models.Model):
    referrer = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="referrals",
                                 verbose_name=_("referrer"))
    referred = models.OneToOneField("crm.Customer", on_delete=models.PROTECT, related_name="referred_by",
                                    verbose_name=_("new customer"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    rewarded_at = models.DateTimeField(_("rewarded at"), null=True, blank=True, editable=False)
    order = models.ForeignKey("crm.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False,
                              verbose_name=_("order"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")

    def __str__(self):
        return f"{self.referrer.member_number} -> {self.referred}"
