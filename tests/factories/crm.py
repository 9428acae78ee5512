"""Factories for the crm models.

CustomerFactory, OrderFactory and friends make the rows themselves; PlacedOrderFactory goes
through crm.services.order_create, so the derived figures, the club's points and the signals
follow as they do in production.
"""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from crm import services
from crm.models import Customer, Interaction, Order, OrderLine, Product


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    city = "Tehran"
    country = "IR"
    language = "en"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Faker("word")
    category = "coffee"


class OrderFactory(factory.django.DjangoModelFactory):
    """A raw order row; call crm.services.customers_refresh_order_stats after, or use
    PlacedOrderFactory (or the `place_order` fixture), which go through the service."""

    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    order_number = factory.Sequence(lambda n: f"ORD-{n:06d}")
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    status = Order.Status.FULFILLED
    total = Decimal("100.00")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    product_name = "Coffee beans"
    category = "coffee"
    quantity = 1
    unit_price = Decimal("100.00")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    subject = "Asked about delivery"
    channel = Interaction.Channel.PHONE


class CustomerWithConsentFactory(CustomerFactory):
    """A customer created through crm.services.customer_create, so consent is recorded as in production
    (`email_opt_in`, `sms_opt_in`, `consent_source`, `tags` go to the service)."""

    email_opt_in = True
    sms_opt_in = False
    consent_source = "test"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.customer_create(**kwargs)


class PlacedOrderFactory(factory.django.DjangoModelFactory):
    """An order placed through crm.services.order_create; `lines` is a list of crm.services.LineInput."""

    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    order_number = factory.Sequence(lambda n: f"PO-{n:06d}")
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    total = Decimal("100.00")
    lines = ()

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.order_create(**kwargs)


class LoggedInteractionFactory(InteractionFactory):
    """An interaction logged through crm.services.interaction_log (resolved ones may invite to a survey)."""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.interaction_log(**kwargs)
