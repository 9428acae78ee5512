"""The products picked for each customer (computed by crm.recommend)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models.customers import Customer
from crm.models.orders import Product


class Recommendation(models.Model):
    """One of a customer's products picked for them (crm.recommend computes and replaces them set-based)."""

    class Reason(models.TextChoices):
        BOUGHT_TOGETHER = "together", _("Bought together with their products")
        DUE_AGAIN = "due", _("Due again")
        POPULAR = "popular", _("Popular with similar customers")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="recommendations",
                                 verbose_name=_("customer"))
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+", verbose_name=_("product"))
    rank = models.PositiveSmallIntegerField(_("rank"))
    score = models.FloatField(_("score"))
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["customer", "rank"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        constraints = [
            models.UniqueConstraint(fields=["customer", "rank"], name="crm_recommendation_rank_unique"),
            models.UniqueConstraint(fields=["customer", "product"], name="crm_recommendation_product_unique"),
        ]

    def __str__(self):
        return f"{self.rank}. {self.product_id}"
