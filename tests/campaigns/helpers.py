"""Helpers shared by the campaign tests and the tests of other packages that send campaigns
(fixtures are in tests/campaigns/conftest.py and tests/conftest.py)."""

from campaigns.defaults import DEFAULT_AUTOMATIONS, automation_fields
from campaigns.models import Automation, Campaign, CampaignVariant, Segment
from crm import services as crm_services
from tests.factories import CampaignFactory, CustomerFactory, StaticSegmentFactory

_phones = iter(range(1000000, 9999999))


def make_customer(*, email_opt_in=True, sms_opt_in=False, phone=None, language="en", **fields):
    """A customer created through crm.services, so consent is recorded as it is in production."""
    fields.setdefault("first_name", "Sara")
    fields.setdefault("email", CustomerFactory.build().email)
    if sms_opt_in and phone is None:
        phone = f"+98912{next(_phones)}"
    return crm_services.customer_create(email_opt_in=email_opt_in, sms_opt_in=sms_opt_in, phone=phone, language=language,
                                        consent_source="test", **fields)


def static_segment(slug: str, members) -> Segment:
    return StaticSegmentFactory(slug=slug, name=slug.title(), members=list(members))


def make_campaign(*, segments, excluded=(), channel="email", variants=(), **fields) -> Campaign:
    """A draft campaign for these segments; `variants` are (label, share, extra fields) triples."""
    campaign = CampaignFactory(channel=channel, segments=segments, excluded_segments=excluded, **fields)
    for label, share, extra in variants:
        CampaignVariant.objects.create(campaign=campaign, label=label, split_percent=share, **extra)
    return campaign


def send_everything(capture, campaign):
    """Send now and run what the commit queues (start, then the sending chunks), in-process."""
    from campaigns import services

    with capture(execute=True):
        services.campaign_send_now(campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def automation(kind: str, **changes) -> Automation:
    """The automation of this kind, enabled (with `changes`)."""
    # The migration creates them with their default content; a transactional test elsewhere may have flushed them.
    spec = next(spec for spec in DEFAULT_AUTOMATIONS if spec["kind"] == kind)
    item = Automation.objects.filter(kind=kind).first() or Automation.objects.create(**automation_fields(spec))
    # The migration that created it gave it the default holdout of its day; tests choose theirs.
    for name, value in {"enabled": True, "holdout_percent": 0, **changes}.items():
        setattr(item, name, value)
    item.save()
    return item
