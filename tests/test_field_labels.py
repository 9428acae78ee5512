"""Every field of our models has a label in the reader's language: the admin's column headers, filters and forms
show them, and an English word in a Persian page is a defect (a field without verbose_name shows its Python name)."""

import pytest
from django.apps import apps
from django.utils import translation
from django.utils.functional import Promise

OUR_APPS = ("core", "crm", "club", "feedback", "campaigns", "analytics", "api")


def _our_fields():
    for model in apps.get_models():
        # django-simple-history's Historical* copies: their own fields (history_date...) are the library's.
        if model._meta.app_label in OUR_APPS and not model.__name__.startswith("Historical"):
            for field in model._meta.get_fields():
                if getattr(field, "concrete", False) and not field.auto_created:
                    yield model, field


def test_every_field_has_a_translatable_label():
    missing = [f"{model._meta.label}.{field.name}" for model, field in _our_fields()
               if not isinstance(field.verbose_name, Promise)]
    assert not missing, f"fields without verbose_name=_(...): {missing}"


@pytest.mark.parametrize("language", ["fa", "ar"])
def test_every_field_label_is_translated(language):
    # django-modeltranslation's per-language copies ("title [fa]") are labelled from the translated original.
    labels = {str(field.verbose_name) for _model, field in _our_fields() if not hasattr(field, "translated_field")}
    with translation.override(language):
        untranslated = sorted(label for label in labels if translation.gettext(label) == label and any(c.isalpha() for c in label))
    # Names that are the same in every language.
    assert set(untranslated) <= {"SKU", "P(alive)"}, untranslated
