"""No English sentence of Django's own on a Persian page: what Django ships untranslated in Persian is translated
in locale_django/ (kept by hand). When a Django upgrade adds such a string, this test names it."""

from pathlib import Path

import django
import polib
import pytest
from django.utils import translation

DJANGO = Path(django.__file__).parent
CATALOGUES = ["conf/locale", "contrib/admin/locale", "contrib/auth/locale", "contrib/contenttypes/locale"]


def untranslated(language: str) -> list[polib.POEntry]:
    entries = []
    for catalogue in CATALOGUES:
        po = polib.pofile(str(DJANGO / catalogue / language / "LC_MESSAGES" / "django.po"))
        entries += [entry for entry in po if not entry.obsolete and not entry.translated()]
    return entries


@pytest.mark.parametrize("language", ["fa", "ar"])
def test_every_string_django_leaves_untranslated_is_translated_here(language):
    missing = []
    with translation.override(language):
        for entry in untranslated(language):
            if entry.msgid_plural:
                text = translation.ngettext(entry.msgid, entry.msgid_plural, 2)
                english = entry.msgid_plural
            else:
                text, english = translation.gettext(entry.msgid), entry.msgid
            if text == english and entry.msgid not in ("IPv4", "IPv6"):  # names that read the same in every language
                missing.append(entry.msgid)
    assert not missing, f"untranslated in {language}: {missing} (add them to locale_django/{language}/LC_MESSAGES/django.po)"


def test_the_admin_asks_to_correct_errors_in_persian():
    with translation.override("fa"):
        assert translation.ngettext("Please correct the error below.", "Please correct the errors below.", 1) \
            == "لطفاً خطای زیر را اصلاح کنید."
