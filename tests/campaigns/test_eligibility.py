"""Eligibility (consent, address, suppression) has one definition, read by the audience build
and again by the sender at send time."""

import pytest
from django.core import mail

from campaigns import services
from campaigns.models import Message
from campaigns.selectors.audience import with_eligibility
from crm.models import Customer
from crm.services import consent_set
from tests.campaigns.helpers import make_campaign, static_segment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def frozen(campaign):
    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)
    return list(campaign.messages.order_by("pk").values_list("pk", flat=True))


def test_a_customer_who_withdraws_consent_after_the_audience_build_is_skipped_at_send(customers):
    stays, quits = customers(first_name="Stays"), customers(first_name="Quits")
    campaign = make_campaign(segments=[static_segment("s", [stays, quits])])
    ids = frozen(campaign)
    assert campaign.messages.count() == 2  # both were eligible when the audience was frozen

    consent_set(customer=quits, channel="email", granted=False, source="admin")
    result = services.messages_send(message_ids=ids)

    assert (result.sent, result.skipped) == (1, 1)
    assert [email.to for email in mail.outbox] == [[stays.email]]
    skipped = campaign.messages.get(customer=quits)
    assert (skipped.status, skipped.skip_reason) == (Message.Status.SKIPPED, Message.SkipReason.NO_CONSENT)


def test_an_address_suppressed_after_the_audience_build_is_skipped_at_send(customers):
    person = customers()
    campaign = make_campaign(segments=[static_segment("s", [person])])
    ids = frozen(campaign)
    services.suppression_add(email=person.email.upper(), reason="complaint")
    services.messages_send(message_ids=ids)
    message = campaign.messages.get()
    assert (message.status, message.skip_reason) == (Message.Status.SKIPPED, Message.SkipReason.SUPPRESSED)
    assert not mail.outbox


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_the_sender_and_the_audience_agree_on_every_case(customers, channel):
    """Each way of being (not) eligible, changed after the freeze: the sender's verdict is the
    audience definition's verdict at that moment."""
    people = {
        "fine": customers(sms_opt_in=True),
        "withdrew": customers(sms_opt_in=True),
        "suppressed": customers(sms_opt_in=True),
        "lost address": customers(sms_opt_in=True),
    }
    campaign = make_campaign(segments=[static_segment("s", people.values())], channel=channel)
    ids = frozen(campaign)
    consent_set(customer=people["withdrew"], channel=channel, granted=False, source="admin")
    if channel == "email":
        services.suppression_add(email=people["suppressed"].email)
        Customer.objects.filter(pk=people["lost address"].pk).update(email="")
    else:
        services.suppression_add(phone=str(people["suppressed"].phone))
        Customer.objects.filter(pk=people["lost address"].pk).update(phone="")
    expected = dict(with_eligibility(Customer.objects.filter(pk__in=[p.pk for p in people.values()]), channel=channel,
                                     marketing=False).values_list("pk", "_skip"))

    services.messages_send(message_ids=ids)

    got = dict(campaign.messages.values_list("customer_id", "skip_reason"))
    assert got == expected
    assert expected[people["fine"].pk] == "" and expected[people["suppressed"].pk] == Message.SkipReason.SUPPRESSED
    assert expected[people["withdrew"].pk] == expected[people["lost address"].pk] == Message.SkipReason.NO_CONSENT
