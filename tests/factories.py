"""factory_boy factories for the crm models.

Build state through the services where the derived figures matter (orders); these
factories are for the rows themselves.
"""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from crm.models import Customer, Interaction, Order, OrderLine, Product


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    is_staff = True
    password = factory.django.Password("correct horse battery staple")


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
    the `place_order` fixture, which goes through the service."""

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
