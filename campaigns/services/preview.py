"""What a campaign would look like (a preview for a customer) and a test copy sent to staff.
Neither records anything against the campaign's messages; a test send is audited."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import recommendations, rendering
from campaigns.models import Campaign, CampaignEvent, Channel, ChannelChoice, Message
from campaigns.selectors.audience import campaign_sample_recipient, offer_recipients
from campaigns.services import content
from campaigns.services.events import campaign_event_record
from campaigns.services.sending import build_email
from crm.models import Customer


@dataclass(frozen=True)
class Preview:
    channel: str
    language: str
    subject: str
    html: str
    text: str
    sms: str
    sms_length: object | None


def campaign_preview(*, campaign: Campaign, customer: Customer, variant: str = "A", channel: str | None = None,
                     language: str | None = None) -> Preview:
    """What `customer` would get (no coupon is issued: a placeholder code is shown).

    For an offer campaign the customer must be one the offer is for: anyone else would not get
    the campaign, and their preview would read "0 points" with an empty tier."""
    if campaign.offer_id and not Customer.objects.filter(offer_recipients(campaign.offer), pk=customer.pk).exists():
        raise ValidationError(_("%(customer)s is not a club member the offer is for, so they would not receive this "
                                "campaign. Choose a member.") % {"customer": customer})
    channel = channel or (Channel.SMS if campaign.channel == ChannelChoice.SMS else Channel.EMAIL)
    language = language or customer.language or content.FALLBACK_LANGUAGE
    message = Message(campaign=campaign, customer=customer, channel=channel, language=language, variant=variant)
    variant_obj = campaign.variants.filter(label=variant).first()
    templates = content.campaign_templates(campaign, variant_obj, language)
    for template in templates.values():
        rendering.validate_template(template)
    message.id = 0
    personal = content.personal_values([message])[0]
    context = content.context_for(message, personal, offer=campaign.offer, coupon=None)
    if campaign.offer_id:
        context["coupon_code"] = "XXXX-XXXX-XXXX"
    rendered = content.render_for(message, templates, context, track=False)
    return Preview(channel=channel, language=language, subject=rendered.subject, html=rendered.html, text=rendered.text,
                   sms=rendered.sms, sms_length=content.sms_length_of(rendered.sms) if rendered.sms else None)


def campaign_test_send(*, campaign: Campaign, to: str, customer: Customer | None = None, variant: str = "A",
                       language: str = "en", by=None) -> Preview:
    """Send one copy to a staff address (an email, or a phone number for SMS), marked [TEST].
    Nothing is recorded against the campaign and no coupon is issued."""
    from django.core.validators import validate_email

    from campaigns import sms as sms_module

    to = (to or "").strip()
    is_email = "@" in to
    if is_email:
        validate_email(to)
    sample = customer or campaign_sample_recipient(
        campaign, with_recommendations=recommendations.campaign_uses_recommendations(campaign))
    if sample is None:
        raise ValidationError(_("Nobody would receive this campaign yet, so there is no one to personalise the test as: "
                                "name a customer."))
    preview = campaign_preview(campaign=campaign, customer=sample, variant=variant,
                               channel=Channel.EMAIL if is_email else Channel.SMS, language=language)
    if is_email:
        if not (preview.subject and preview.html):
            raise ValidationError(_("The campaign has no email subject or body to test."))
        rendered = rendering.Rendered(subject=f"[TEST] {preview.subject}", html=preview.html, text=preview.text)
        build_email(message=None, rendered=rendered, to_address=to).send(fail_silently=False)
    else:
        if not preview.sms:
            raise ValidationError(_("The campaign has no SMS text to test."))
        try:
            sms_module.send_sms(to=to, text=f"[TEST] {preview.sms}", idempotency_key=f"test-{timezone.now().timestamp()}")
        except sms_module.SmsError as error:
            raise ValidationError(str(error)) from None
    campaign_event_record(campaign=campaign, kind=CampaignEvent.Kind.TEST_SENT, by=by, channel=preview.channel, variant=variant,
                          language=language)
    return preview
