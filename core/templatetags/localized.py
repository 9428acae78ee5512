"""Dates and numbers on customer pages and in customer messages, written the way each language writes them.

    {% load localized %}
    {{ card.expiring_on|localdate }}         fa: ۲ آذر ۱۴۰۵     ar: 23 نوفمبر، 2026   en: Nov. 23, 2026
    {{ row.created_at|localdatetime }}       fa: ۲ آذر ۱۴۰۵، ۲۰:۴۹   en: Nov. 23, 2026, 20:49
    {{ row.created_at|localdate:"short" }}   fa: ۱۴۰۵/۰۹/۰۲     ar: 23/11/2026 (with RLM marks) en: 11/23/2026
    {{ card.balance|localnumber }}           fa: ۱٬۲۵۰          ar: 1,250             en: 1,250
    {{ order.total|localnumber }}            fa: ۳۰۰ / ۱۲٫۵۰   (two decimals unless the amount is whole)
    {{ member_number|localdigits }}          fa: ۱۲۳۴ ۵۶۷۸ ۹۰۱۲ (digits only; spaces and letters stay)

The language is the active one (public views render inside `translation.override(language)`).

- fa: the Solar Hijri (Jalali) calendar with Persian month names (jdatetime), Persian digits ۰-۹ and the
  Persian separators (٬ thousands, ٫ decimals), as Iranian shops, banks and receipts write them.
- ar: the Gregorian calendar with Arabic month names (Django's ar locale) and Western digits 0-9 with
  "," and "." separators. Our choice: the Gulf and Maghreb shops this product is sold to print Western
  digits on receipts, cards and SMS, customers type codes and amounts with them, and Django's own ar
  locale formats use them; Arabic-Indic digits (٠-٩) would be one entry in DIGITS away.
- en: Django's formats for English.

Only what is read is localized. Stored values stay ISO dates and UTC datetimes, and codes that must be typed
or scanned (coupon codes, order numbers, the QR code) are never passed through these filters; where a number
must also be typed (the member number on the card), the page shows it a second time in Western digits.
"""

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

import jdatetime
from django import template
from django.utils import formats, numberformat, timezone, translation

register = template.Library()

DIGITS = {"fa": str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")}
# (thousands, decimal) separators written with the digits above.
SEPARATORS = {"fa": ("\u066c", "\u066b"), "ar": (",", "."), "en": (",", ".")}
JALALI = {"fa"}


def _language(language: str | None) -> str:
    return (language or translation.get_language() or "en").split("-")[0]


def _as_date(value) -> date | None:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def local_digits(text, language: str | None = None) -> str:
    """The digits of `text` in the language's digits (fa: ۰-۹); everything else unchanged."""
    table = DIGITS.get(_language(language))
    text = "" if text is None else str(text)
    return text.translate(table) if table else text


def local_date(value, language: str | None = None, style: str = "long") -> str:
    """A date (or an aware datetime, in the site's time zone; or an ISO string) for people to read.
    `style` is "long" (month name) or "short" (numbers only). Anything else that is not a date: ""."""
    day = _as_date(value)
    if day is None:
        return ""
    language = _language(language)
    if language in JALALI:
        jalali = jdatetime.date.fromgregorian(date=day)
        if style == "short":
            text = f"{jalali.year:04d}/{jalali.month:02d}/{jalali.day:02d}"
        else:
            text = f"{jalali.day} {jdatetime.date.j_months_fa[jalali.month - 1]} {jalali.year}"
        return local_digits(text, language)
    with translation.override(language):
        return local_digits(formats.date_format(day, "SHORT_DATE_FORMAT" if style == "short" else "DATE_FORMAT"),
                            language)


def calendar_year(day: date, language: str | None = None) -> tuple[date, date]:
    """[first day, first day of the next) of the year holding `day`, in the language's calendar."""
    if _language(language) in JALALI:
        year = jdatetime.date.fromgregorian(date=day).year
        return jdatetime.date(year, 1, 1).togregorian(), jdatetime.date(year + 1, 1, 1).togregorian()
    return date(day.year, 1, 1), date(day.year + 1, 1, 1)


def calendar_month(day: date, language: str | None = None) -> tuple[date, date]:
    """[first day, first day of the next) of the month holding `day`, in the language's calendar."""
    if _language(language) in JALALI:
        jalali = jdatetime.date.fromgregorian(date=day)
        year, month = (jalali.year, jalali.month + 1) if jalali.month < 12 else (jalali.year + 1, 1)
        return jalali.replace(day=1).togregorian(), jdatetime.date(year, month, 1).togregorian()
    year, month = (day.year, day.month + 1) if day.month < 12 else (day.year + 1, 1)
    return day.replace(day=1), date(year, month, 1)


def local_year_month(day: date, language: str | None = None) -> str:
    """The month and year of `day` (fa: آذر ۱۴۰۵), as a heading or a link says it."""
    if _language(language) in JALALI:
        jalali = jdatetime.date.fromgregorian(date=day)
        return local_digits(f"{jdatetime.date.j_months_fa[jalali.month - 1]} {jalali.year}", language)
    with translation.override(_language(language)):
        return formats.date_format(day, "YEAR_MONTH_FORMAT")


def local_month_day(day: date, language: str | None = None) -> str:
    """The day and month of `day` (fa: ۱۴ آذر)."""
    if _language(language) in JALALI:
        jalali = jdatetime.date.fromgregorian(date=day)
        return local_digits(f"{jalali.day} {jdatetime.date.j_months_fa[jalali.month - 1]}", language)
    with translation.override(_language(language)):
        return formats.date_format(day, "MONTH_DAY_FORMAT")


def local_year(day: date, language: str | None = None) -> str:
    """The year of `day` in the language's calendar and digits (fa: ۱۴۰۵)."""
    year = jdatetime.date.fromgregorian(date=day).year if _language(language) in JALALI else day.year
    return local_digits(str(year), language)


def local_datetime(value, language: str | None = None, style: str = "long") -> str:
    """A moment for people to read: its date as `local_date` writes it, then the hour and minute
    (24-hour clock, the language's digits), in the site's time zone. A plain date: the date alone."""
    if not isinstance(value, datetime):
        return local_date(value, language, style)
    moment = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local_date(moment.date(), language, style)}، {local_digits(moment.strftime('%H:%M'), language)}" \
        if _language(language) in ("fa", "ar") else f"{local_date(moment.date(), language, style)}, {moment:%H:%M}"


# Typed dates: Persian (۰-۹) and Arabic-Indic (٠-٩) digits read as 0-9; "/", "-", "." or the Persian decimal
# separator "٫" (what a phone's numeric keypad offers) between the parts.
_TYPED_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_TYPED_DATE = re.compile(r"(\d{4})[/\-.\u066b](\d{1,2})[/\-.\u066b](\d{1,2})")
_TYPED_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
# A typed year from here on is a Gregorian one (an ISO date from a script or an old bookmark): the Jalali
# years people type are around 1300-1500, the Gregorian ones around 1900-2100.
GREGORIAN_FROM_YEAR = 1700


def parse_local_date(text, language: str | None = None) -> date:
    """The day a person typed, read the way `local_date(..., style="short")` writes it: in fa a Jalali
    yyyy/mm/dd (Persian or ASCII digits; an ISO Gregorian yyyy-mm-dd is read too), elsewhere an ISO date.
    Raises ValueError for anything that is not one real day (۱۴۰۵/۱۳/۰۱, 1404/12/30)."""
    match = _TYPED_DATE.fullmatch(str(text or "").strip().translate(_TYPED_DIGITS))
    if match is None:
        raise ValueError(f"not a date: {text!r}")
    year, month, day = (int(part) for part in match.groups())
    if _language(language) in JALALI and year < GREGORIAN_FROM_YEAR:
        return jdatetime.date(year, month, day).togregorian()
    return date(year, month, day)


def parse_local_time(text) -> time:
    """An hour and minute (and seconds) typed with any of the digits `parse_local_date` reads."""
    match = _TYPED_TIME.fullmatch(str(text or "").strip().translate(_TYPED_DIGITS))
    if match is None:
        raise ValueError(f"not a time: {text!r}")
    return time(*(int(part) for part in match.groups() if part is not None))


def local_input_date(value, language: str | None = None) -> str:
    """A date as an input shows it and `parse_local_date` reads it back: fa ۱۴۰۵/۰۹/۱۴, elsewhere 2026-12-04."""
    day = _as_date(value)
    if day is None:
        return ""
    return local_date(day, language, "short") if _language(language) in JALALI else day.isoformat()


def uses_local_digits(language: str | None = None) -> bool:
    """Whether the (active) language writes numbers in digits of its own (fa: ۰-۹)."""
    return _language(language) in DIGITS


def uses_jalali(language: str | None = None) -> bool:
    """Whether the (active) language reads and writes dates in the Jalali calendar."""
    return _language(language) in JALALI


def local_number(value, language: str | None = None, decimals: int | None = None) -> str:
    """A number grouped by thousands, in the language's digits and separators. Whole numbers have no
    decimals; other amounts two (or `decimals`). Not a number: returned as it came (or "")."""
    if value is None or value == "" or isinstance(value, bool):
        return ""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    if decimals is None:
        decimals = 0 if number == number.to_integral_value() else 2
    language = _language(language)
    thousands, point = SEPARATORS.get(language, SEPARATORS["en"])
    text = numberformat.format(number, point, decimal_pos=decimals, grouping=3, thousand_sep=thousands,
                               force_grouping=True, use_l10n=False)
    return local_digits(text, language)


@register.filter
def localdate(value, style: str = "long") -> str:
    """`{{ value|localdate }}`, `{{ value|localdate:"short" }}` in the active language's calendar."""
    return local_date(value, style=style)


@register.filter
def localdatetime(value, style: str = "long") -> str:
    """`{{ value|localdatetime }}`: the date as `localdate` writes it, and the time (24-hour clock)."""
    return local_datetime(value, style=style)


@register.filter
def localnumber(value, decimals=None) -> str:
    """`{{ value|localnumber }}`, `{{ value|localnumber:2 }}` in the active language's digits."""
    try:
        places = None if decimals in (None, "") else int(decimals)
    except (TypeError, ValueError):
        places = None
    return local_number(value, decimals=places)


@register.filter
def localdigits(value) -> str:
    """`{{ text|localdigits }}`: only the digits change (member numbers, "50% off")."""
    return local_digits(value)
