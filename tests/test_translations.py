"""The Persian and Arabic translations: complete, faithful to their placeholders, compiled, and shown on real pages."""

import re
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.cache import cache
from django.utils import translation

from campaigns import tokens
from campaigns.models import Message
from crm.services import LineInput
from feedback import services
from feedback.services import returns
from tests.campaigns.helpers import make_campaign, static_segment
from tests.factories import CustomerFactory
from tests.feedback.helpers import answer_data

LANGUAGES = {"fa": 2, "ar": 6}  # language: number of plural forms
LOCALE = Path(settings.BASE_DIR) / "locale"


# --- reading the .po files (the standard library has no PO parser) ---------------------------------------------

def _unquote(text: str) -> str:
    body = text.strip()
    assert body.startswith('"') and body.endswith('"'), body
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), "\\" + m.group(1)), body[1:-1])


def read_po(path: Path) -> tuple[dict, list[dict]]:
    """(header, entries); each entry has msgid, msgid_plural, msgstr (a list) and flags."""
    entries, entry, key = [], None, None

    def finish():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            finish()
            entry, key = None, None
            continue
        if entry is None:
            entry = {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if isinstance(key, int):
                entry["msgstr"][key] += _unquote(line)
            else:
                entry[key] += _unquote(line)
        else:
            word, _space, rest = line.partition(" ")
            match = re.fullmatch(r"msgstr\[(\d+)\]", word)
            if match:
                key = int(match.group(1))
                entry["msgstr"][key] = _unquote(rest)
            elif word == "msgstr":
                key = 0
                entry["msgstr"][0] = _unquote(rest)
            else:
                assert word in ("msgid", "msgid_plural", "msgctxt"), line
                key = word
                entry[word] = _unquote(rest)
    header = next(e for e in entries if e["msgid"] == "")
    fields = dict(line.split(": ", 1) for line in header["msgstr"][0].splitlines() if ": " in line)
    return fields, [e for e in entries if e["msgid"] != ""]


PLACEHOLDER = re.compile(r"%\([^)]+\)[-+ #0]*\d*(?:\.\d+)?[a-zA-Z]|%%|%[sdr]|\{\{\s*\w+\s*\}\}|\{\w*\}")


def placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module", params=sorted(LANGUAGES))
def catalog(request):
    header, entries = read_po(LOCALE / request.param / "LC_MESSAGES" / "django.po")
    return request.param, header, entries


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="makemessages needs GNU gettext (apt-get install gettext)")
def test_the_catalogs_hold_every_translatable_string_of_the_code(tmp_path, settings, monkeypatch):
    """A string added to the code but never extracted would show in English on a Persian page: extract the
    strings again (into a copy of the catalogs) and find each one translated."""
    # makemessages writes into the locale/ folder of the directory it runs in, whatever LOCALE_PATHS says: run it in a
    # mirror of the project (its folders linked, the catalogs copied), so the project's own catalogs are never rewritten.
    project = tmp_path / "project"
    project.mkdir()
    skipped = {"locale", ".venv", "venv", "tests", "bench", "var", "test-output", "static", ".git"}
    for entry in Path(settings.BASE_DIR).iterdir():
        if entry.name not in skipped:
            (project / entry.name).symlink_to(entry)
    copy = project / "locale"
    shutil.copytree(LOCALE, copy)
    settings.LOCALE_PATHS = [copy]
    monkeypatch.chdir(project)
    call_command("makemessages", locale=sorted(LANGUAGES), no_obsolete=True, verbosity=0, symlinks=True,
                 ignore_patterns=[".venv", "venv", "tests", "bench", "var", "test-output", "static"])
    for language in LANGUAGES:
        _header, entries = read_po(copy / language / "LC_MESSAGES" / "django.po")
        missing = [entry["msgid"] for entry in entries
                   if "fuzzy" in entry["flags"] or not all(text.strip() for text in entry["msgstr"].values())]
        assert missing == [], f"{language}: run makemessages -l {language} and translate {missing}"


class TestCatalogs:
    def test_every_string_is_translated_and_none_is_fuzzy(self, catalog):
        language, header, entries = catalog
        assert len(entries) > 500 and header["Language"] == language
        nplurals = LANGUAGES[language]
        assert f"nplurals={nplurals};" in header["Plural-Forms"]
        for entry in entries:
            assert "fuzzy" not in entry["flags"], entry["msgid"]
            expected = nplurals if "msgid_plural" in entry else 1
            assert len(entry["msgstr"]) == expected, entry["msgid"]
            assert all(text.strip() for text in entry["msgstr"].values()), entry["msgid"]

    def test_every_translation_keeps_the_placeholders_and_tags_of_its_original(self, catalog):
        language, _header, entries = catalog
        for entry in entries:
            wanted = placeholders(entry["msgid"])
            tags = sorted(re.findall(r"</?\w+", entry["msgid"]))
            for text in entry["msgstr"].values():
                if language == "fa":  # Persian writes a percent as ٪ (a plain letter, not a format code)
                    text = text.replace("٪", "%%") if "%%" in entry["msgid"] else text
                if "msgid_plural" in entry:
                    # A plural form may say its number in words ("one", Arabic's "two"), so it may leave the count
                    # out; it may never bring a placeholder that neither English form has.
                    either = placeholders(entry["msgid"]) | placeholders(entry["msgid_plural"])
                    assert not placeholders(text) - either, (language, entry["msgid"], text)
                else:
                    assert placeholders(text) == wanted, (language, entry["msgid"], text)
                assert sorted(re.findall(r"</?\w+", text)) == tags, (language, entry["msgid"], text)

    def test_each_language_is_written_in_its_own_letters(self, catalog):
        language, _header, entries = catalog
        foreign = "[يك]" if language == "fa" else "[پچژگیک\u200c]"  # Arabic yeh/kaf in Persian; Persian letters in Arabic
        for entry in entries:
            for text in entry["msgstr"].values():
                assert not re.search(foreign, text), (language, entry["msgid"], text)

    def test_the_compiled_catalog_matches_the_po_file(self, catalog):
        """The .mo files are compiled from the current .po files (run compilemessages after editing them)."""
        language, _header, entries = catalog
        with translation.override(language):
            for entry in entries:
                if "msgid_plural" in entry:
                    for n, form in ((1, 0 if language == "fa" else 1), (5, 1 if language == "fa" else 3)):
                        got = translation.ngettext(entry["msgid"], entry["msgid_plural"], n)
                        assert got == entry["msgstr"][form], (language, entry["msgid"])
                elif "msgctxt" in entry:
                    got = translation.pgettext(entry["msgctxt"], entry["msgid"])
                    assert got == entry["msgstr"][0], (language, entry["msgctxt"], entry["msgid"])
                else:
                    assert translation.gettext(entry["msgid"]) == entry["msgstr"][0], (language, entry["msgid"])


# --- real pages ------------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
class TestPages:
    def test_a_persian_customer_gets_the_survey_in_persian_right_to_left(self, client, survey):  # noqa: F811
        customer = CustomerFactory(language="fa")
        invite = services.invitation_create(survey=survey, customer=customer)
        page = client.get(invite.path)
        html = page.content.decode()
        assert page.status_code == 200 and page["Content-Language"] == "fa"
        assert 'dir="rtl"' in html and 'lang="fa"' in html
        assert "ارسال پاسخ\u200cها" in html  # Send my answers
        assert "اصلاً احتمال ندارد" in html and "به احتمال بسیار زیاد" in html  # the ends of the 0-10 scale
        assert "(الزامی)" in html and "Send my answers" not in html

    def test_a_survey_form_error_is_in_persian(self, client, survey):  # noqa: F811
        customer = CustomerFactory(language="fa")
        invite = services.invitation_create(survey=survey, customer=customer)
        reply = client.post(invite.path, answer_data(survey, csat=4))  # the 0-10 question left out
        html = reply.content.decode()
        assert reply.status_code == 400 and 'dir="rtl"' in html
        assert "لطفاً پاسخ\u200cهای مشخص\u200cشده در زیر را بررسی کنید." in html
        assert "لطفاً عددی از ۰ تا ۱۰ انتخاب کنید." in html
        assert "Please choose a number from 0 to 10." not in html
        reply = client.post(invite.path, answer_data(survey, nps=11, csat=4))
        assert "عددی از ۰ تا ۱۰ انتخاب کنید." in reply.content.decode()

    def test_an_arabic_customer_gets_the_return_page_in_arabic(self, client, place_order):
        customer = CustomerFactory(language="ar")
        order = place_order(customer, days_ago=2, total="300.00", lines=[
            LineInput(sku="BEANS", product_name="Beans", category="coffee", quantity=2, unit_price=Decimal("100")),
        ])
        link = returns.order_return_link(order)
        page = client.get(link)
        html = page.content.decode()
        assert page.status_code == 200 and 'dir="rtl"' in html and 'lang="ar"' in html
        assert f'<h1>إرجاع منتجات من الطلب <bdi dir="ltr">{order.order_number}</bdi></h1>' in html  # the number a left-to-right island
        assert "الكمية المراد إرجاعها" in html and "تالف" in html and "مقاس خاطئ" in html  # a label, return reasons
        assert "استرداد المبلغ" in html and "تقديم طلب الإرجاع" in html  # a resolution, the button
        reply = client.post(link, {"resolution": "refund"})
        assert reply.status_code == 400 and "اختر منتجاً واحداً على الأقل لإرجاعه." in reply.content.decode()

    def test_the_unsubscribe_confirmation_is_in_persian(self, client):
        customer = CustomerFactory(language="fa")
        campaign = make_campaign(segments=[static_segment("s", [customer])])
        message = Message.objects.create(campaign=campaign, customer=customer, channel="email", language="fa")
        path = urlsplit(tokens.unsubscribe_url(message)).path
        page = client.get(path)
        html = page.content.decode()
        assert page.status_code == 200 and 'dir="rtl"' in html and 'lang="fa"' in html
        assert "آیا می\u200cخواهید دیگر ایمیل\u200cهای ما را دریافت نکنید؟" in html
        assert "بله، اشتراکم را لغو کنید" in html and "Yes, unsubscribe me" not in html
        done = client.post(path).content.decode()
        assert "اشتراک شما لغو شد" in done and "از این پس ایمیل\u200cهای تبلیغاتی ما برای شما ارسال نمی\u200cشود." in done


@pytest.mark.parametrize("language", ["fa", "ar"])
def test_every_string_of_the_admins_javascript_is_translated(client, admin_user, language):
    """The admin's widgets (the two-box segment chooser, the calendar) speak the reader's language: Django 5.2
    ships some of their strings untranslated in Persian and Arabic, core/locale fills them."""
    import glob
    import json
    import re
    from pathlib import Path

    import django.contrib.admin

    quoted = r"""(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")"""
    wanted = set()
    for path in glob.glob(str(Path(django.contrib.admin.__file__).parent / "static/admin/js/*.js")) + glob.glob(
            str(Path(django.contrib.admin.__file__).parent / "static/admin/js/admin/*.js")):
        source = Path(path).read_text()
        wanted |= {m.group(1) or m.group(2) for m in re.finditer(r"\bn?gettext\(\s*" + quoted, source)}
        wanted |= {f"{m.group(1) or m.group(2)}\x04{m.group(3) or m.group(4)}"
                   for m in re.finditer(r"\bpgettext\(\s*" + quoted + r"\s*,\s*" + quoted, source)}
    client.force_login(admin_user)
    client.cookies["django_language"] = language
    script = client.get("/admin/jsi18n/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    catalog = json.loads(re.search(r"const newcatalog = (\{.*?\});\n", script, re.S).group(1))
    assert wanted and not sorted(msgid for msgid in wanted if msgid not in catalog)
