"""Factories for segments, campaigns and messages.

Segments go through campaigns.segments (the rules are validated and compiled, the size counted);
a campaign is a draft row, as the admin saves it (sending it is campaigns.services' business).
"""

import factory

from campaigns import segments as segment_services
from campaigns.models import Campaign, CampaignVariant, Channel, Message, Segment
from crm.models import Customer
from tests.factories.crm import CustomerFactory


class SegmentFactory(factory.django.DjangoModelFactory):
    """A dynamic segment made by segment_create; the default rules match every customer."""

    class Meta:
        model = Segment

    slug = factory.Sequence(lambda n: f"segment-{n}")
    name = factory.LazyAttribute(lambda segment: segment.slug.replace("-", " ").title())
    kind = Segment.Kind.DYNAMIC
    rules = factory.LazyFunction(lambda: {"all": []})

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return segment_services.segment_create(**kwargs)


class StaticSegmentFactory(SegmentFactory):
    """A static segment; `members=[customer, ...]` are added through segment_add_customers."""

    class Meta:
        skip_postgeneration_save = True

    kind = Segment.Kind.STATIC
    rules = None

    @factory.post_generation
    def members(segment, create, extracted, **kwargs):
        if create and extracted:
            customers = Customer.objects.filter(pk__in=[customer.pk for customer in extracted])
            segment_services.segment_add_customers(segment=segment, customers=customers)


class CampaignFactory(factory.django.DjangoModelFactory):
    """A draft campaign; `segments=[...]`, `excluded_segments=[...]` set its audience."""

    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    name = "Spring sale"
    channel = "email"
    subject_en = "Hello {{ first_name }}"
    body_en = '<p>Hi {{ first_name }}, see <a href="https://shop.example/spring">the sale</a>.</p>'
    sms_text_en = "Hi {{ first_name }}, spring sale at shop.example"
    # A real campaign holds out 10% at random; a test about who receives what would depend on the
    # draw, so a factory campaign holds out nobody unless the test asks (tests/campaigns/test_holdout.py).
    holdout_percent = 0

    @factory.post_generation
    def segments(campaign, create, extracted, **kwargs):
        if create and extracted is not None:
            campaign.segments.set(extracted)

    @factory.post_generation
    def excluded_segments(campaign, create, extracted, **kwargs):
        if create and extracted is not None:
            campaign.excluded_segments.set(extracted)


class CampaignVariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignVariant

    campaign = factory.SubFactory(CampaignFactory)
    label = "B"
    split_percent = 50


class MessageFactory(factory.django.DjangoModelFactory):
    """A queued email of a campaign, as campaign_start leaves it before the sending chunks claim it."""

    class Meta:
        model = Message

    campaign = factory.SubFactory(CampaignFactory)
    customer = factory.SubFactory(CustomerFactory)
    channel = Channel.EMAIL
    status = Message.Status.QUEUED
    to_address = factory.LazyAttribute(lambda message: message.customer.email or "")
