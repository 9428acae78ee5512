"""Club content per language (en, fa, ar): one column per language, the default language as the fallback.

Members read tier names, offer titles and descriptions and earning rule names on their card, in messages
and through the API; modeltranslation serves the active language's column and falls back to the default."""

from modeltranslation.translator import TranslationOptions, register

from club.models import EarningRule, Offer, Tier


@register(Tier)
class TierTranslation(TranslationOptions):
    fields = ("name", "description")


@register(Offer)
class OfferTranslation(TranslationOptions):
    fields = ("title", "description")


@register(EarningRule)
class EarningRuleTranslation(TranslationOptions):
    fields = ("name",)
