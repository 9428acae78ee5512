from decimal import Decimal

import pytest

from campaigns import sms
from campaigns.models import Campaign, CampaignVariant, Segment, SegmentMember
from club.models import EarningRule, Offer, Tier
from config.celery import app as celery_app
from crm import services as crm_services
from tests.factories import CustomerFactory


@pytest.fixture(autouse=True)
def campaign_settings(settings, tmp_path):
    """Messages go to memory (mail.outbox, LocmemBackend.outbox) with https links."""
    settings.SMS_BACKEND = "campaigns.sms.LocmemBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.CAMPAIGNS_PUBLIC_BASE_URL = "https://crm.example.com"
    settings.DEFAULT_FROM_EMAIL = "club@shop.example"
    sms.LocmemBackend.outbox = []
    return settings


@pytest.fixture
def celery_eager():
    """Celery runs queued tasks in-process (the campaign test modules use it through pytestmark)."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def sms_outbox():
    return sms.LocmemBackend.outbox


_phones = iter(range(1000000, 9999999))


def make_customer(*, email_opt_in=True, sms_opt_in=False, phone=None, language="en", **fields):
    """A customer created through crm.services, so consent is recorded as it is in production."""
    fields.setdefault("first_name", "Sara")
    fields.setdefault("email", CustomerFactory.build().email)
    if sms_opt_in and phone is None:
        phone = f"+98912{next(_phones)}"
    return crm_services.customer_create(email_opt_in=email_opt_in, sms_opt_in=sms_opt_in, phone=phone, language=language,
                                        consent_source="test", **fields)


@pytest.fixture
def customers(db):
    return make_customer


def static_segment(slug: str, members) -> Segment:
    segment = Segment.objects.create(name=slug.title(), slug=slug, kind=Segment.Kind.STATIC)
    SegmentMember.objects.bulk_create([SegmentMember(segment=segment, customer=customer) for customer in members])
    return segment


def make_campaign(*, segments, excluded=(), channel="email", variants=(), **fields) -> Campaign:
    fields.setdefault("name", "Spring sale")
    fields.setdefault("subject_en", "Hello {{ first_name }}")
    fields.setdefault("body_en", '<p>Hi {{ first_name }}, see <a href="https://shop.example/spring">the sale</a>.</p>')
    fields.setdefault("sms_text_en", "Hi {{ first_name }}, spring sale at shop.example")
    campaign = Campaign.objects.create(channel=channel, **fields)
    campaign.segments.set(segments)
    campaign.excluded_segments.set(excluded)
    for label, share, extra in variants:
        CampaignVariant.objects.create(campaign=campaign, label=label, split_percent=share, **extra)
    return campaign


@pytest.fixture
def club(db):
    """A tier ladder, a purchase rule and an offer, for personalisation and coupons."""
    tiers = {
        "bronze": Tier.objects.create(name="Bronze", rank=1, threshold=0, birthday_discount_value=Decimal("10")),
        "gold": Tier.objects.create(name="Gold", rank=3, threshold=2000, counts_as_loyal=True),
    }
    EarningRule.objects.create(name="1 point per unit", kind=EarningRule.Kind.PURCHASE, points_per_unit=Decimal("1"))
    offer = Offer.objects.create(title="15% off everything", kind=Offer.Kind.PERCENT, value=Decimal("15"), points_cost=0)
    return {"tiers": tiers, "offer": offer}


def send_everything(capture, campaign):
    """Send now and run what the commit queues (start, then the sending chunks), in-process."""
    from campaigns import services

    with capture(execute=True):
        services.campaign_send_now(campaign=campaign)
    campaign.refresh_from_db()
    return campaign
