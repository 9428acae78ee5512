"""Stored picks for tests of where recommendations appear (the message placeholder, the club card, the
admin's customer page, the API). They are written directly: those surfaces never depend on the engine
(crm.recommend) that computes them."""

from decimal import Decimal

from django.utils import timezone

from crm.models import Product, Recommendation
from tests.factories.crm import ProductFactory


def product(sku: str, name: str, *, price: str | None = "10", url: str = "", active: bool = True,
            category: str = "coffee") -> Product:
    return ProductFactory(sku=sku, name=name, price=Decimal(price) if price is not None else None, url=url,
                          is_active=active, category=category)


def give_picks(customer, *products: Product, reason: str = Recommendation.Reason.BOUGHT_TOGETHER,
               computed_at=None) -> list[Recommendation]:
    """`products` as the customer's picks, best first (rank 1, 2, ...), with falling scores."""
    when = computed_at or timezone.now()
    return Recommendation.objects.bulk_create([
        Recommendation(customer=customer, product=item, rank=rank, score=round(1 - rank / 20, 3), reason=reason,
                       computed_at=when)
        for rank, item in enumerate(products, start=1)
    ])
