"""Content translated per language (django-modeltranslation): what every translated model shares."""

from django.conf import settings
from django.db import models
from django.utils import translation


class DefaultLanguageColumns(models.Model):
    """Saves with the default language active, so the original column (`name`, `title`) always holds
    the default language's text whichever language the staff member works in. Segment rules, API
    filters and webhooks read that column; modeltranslation would otherwise store the saver's language."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        with translation.override(settings.MODELTRANSLATION_DEFAULT_LANGUAGE):
            super().save(*args, **kwargs)


def in_default_language(obj, field: str) -> str:
    """A translated field as partners and rules know it (the default language), whoever is reading: for
    payloads with no reader, such as webhooks, whose names must match the API's filters."""
    return getattr(obj, f"{field}_{settings.MODELTRANSLATION_DEFAULT_LANGUAGE}", None) or obj.__dict__.get(field) or ""
