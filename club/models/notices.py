"""Notices the club asked to send a member (welcome, birthday, points expiring), once per key."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from club.models.membership import Membership


class MemberNotice(models.Model):
    """A notification the club asked to send (welcome, birthday, points expiring), once per key."""

    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="notices", verbose_name=_("member"))
    kind = models.CharField(_("kind"), max_length=30)
    key = models.CharField(_("key"), max_length=100)
    context = models.JSONField(_("context"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("member notice")
        verbose_name_plural = _("member notices")
        constraints = [models.UniqueConstraint(fields=["member", "kind", "key"], name="club_notice_once")]

    def __str__(self):
        return f"{self.kind} {self.key}"
