"""Message content per language (en, fa, ar): one column per language, English as the fallback."""

from modeltranslation.translator import TranslationOptions, register

from campaigns.models import Automation, Campaign, CampaignVariant

CONTENT_FIELDS = ("subject", "body", "sms_text")


@register(Campaign)
class CampaignTranslation(TranslationOptions):
    fields = CONTENT_FIELDS


@register(CampaignVariant)
class CampaignVariantTranslation(TranslationOptions):
    fields = CONTENT_FIELDS


@register(Automation)
class AutomationTranslation(TranslationOptions):
    fields = ("subject", "subject_b", "body", "sms_text")
