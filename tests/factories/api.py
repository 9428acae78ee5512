"""Factories for partners, their keys and webhook subscriptions, all made through the API's services:
a key's secret is hashed once and shown once, a subscription's URL and events are checked."""

import factory

from api import services
from api.models import ApiKey, Partner, WebhookSubscription
from api.scopes import SCOPES
from api.webhooks import webhook_subscribe


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Shop {n}")
    contact = "ops@shop.example"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.partner_create(**kwargs)


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """A key with every scope by default; its full text (`Api-Key <secret>`) is on `key.secret`."""

    class Meta:
        model = ApiKey

    partner = factory.SubFactory(PartnerFactory)
    scopes = factory.LazyFunction(lambda: list(SCOPES))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        key, secret = services.api_key_create(**kwargs)
        key.secret = secret
        return key


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    """A subscription made by webhook_subscribe (the URL must pass its checks: https and a public host
    unless API_WEBHOOK_ALLOW_INSECURE_URLS is on)."""

    class Meta:
        model = WebhookSubscription

    partner = factory.SubFactory(PartnerFactory)
    url = "https://hooks.shop.example/crm"
    events = factory.LazyFunction(lambda: ["customer.created"])

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return webhook_subscribe(**kwargs)
