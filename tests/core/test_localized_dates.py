"""One way to write a date and a moment on a staff page, the reader's language's."""

from datetime import date, datetime, timezone as dt_timezone

import pytest
from django.test import override_settings

from core.templatetags.localized import (
    calendar_month, calendar_year, local_date, local_datetime, local_input_date, local_month_day, local_year_month,
    parse_local_date,
)

MOMENT = datetime(2026, 12, 4, 20, 49, tzinfo=dt_timezone.utc)


@override_settings(TIME_ZONE="UTC")
@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Dec. 4, 2026, 20:49"),
    ("fa", "۱۳ آذر ۱۴۰۵، ۲۰:۴۹"),
])
def test_it_writes_a_moment_as_the_date_of_the_language_and_a_24_hour_time(language, expected):
    assert local_datetime(MOMENT, language) == expected


def test_it_writes_a_plain_date_without_a_time():
    assert local_datetime(date(2026, 12, 4), "en") == local_date(date(2026, 12, 4), "en") == "Dec. 4, 2026"


def test_it_writes_nothing_for_no_date():
    assert local_datetime(None, "en") == ""


# --- dates typed by a person (core.templatetags.localized.parse_local_date) ----------------------------------

@pytest.mark.parametrize("day", [date(2026, 12, 5), date(2025, 3, 20), date(2025, 3, 21), date(2024, 2, 29), date(1990, 3, 21)])
def test_a_jalali_input_date_reads_back_as_the_same_day(day):
    assert parse_local_date(local_input_date(day, "fa"), "fa") == day


def test_it_writes_an_input_date_in_jalali_with_persian_digits_and_iso_elsewhere():
    assert local_input_date(date(2026, 12, 5), "fa") == "۱۴۰۵/۰۹/۱۴"
    assert local_input_date(date(2026, 12, 5), "en") == local_input_date(date(2026, 12, 5), "ar") == "2026-12-05"
    assert local_input_date(None, "fa") == ""


@pytest.mark.parametrize("typed", ["۱۴۰۵/۰۹/۱۴", "1405/09/14", "1405/9/14", " ۱۴۰۵-۰۹-۱۴ ", "١٤٠٥/٠٩/١٤", "۱۴۰۵٫۰۹٫۱۴", "2026-12-05"])
def test_it_reads_a_jalali_date_in_persian_or_ascii_digits_and_an_iso_date(typed):
    assert parse_local_date(typed, "fa") == date(2026, 12, 5)


def test_jalali_leap_years_have_a_thirtieth_of_esfand():
    assert parse_local_date("1403/12/30", "fa") == date(2025, 3, 20)
    with pytest.raises(ValueError):
        parse_local_date("1404/12/30", "fa")


@pytest.mark.parametrize("typed", ["۱۴۰۵/۱۳/۰۱", "1405/00/10", "1405/07/31", "1405/09", "14050914", "tomorrow", "", None])
def test_it_refuses_what_is_not_one_real_day(typed):
    with pytest.raises(ValueError):
        parse_local_date(typed, "fa")


def test_english_and_arabic_read_only_gregorian_dates():
    assert parse_local_date("2026-12-05", "en") == parse_local_date("2026/12/05", "ar") == date(2026, 12, 5)
    assert parse_local_date("1405/09/14", "en") == date(1405, 9, 14)  # a Gregorian year, however far back


def test_it_spans_jalali_months_and_years():
    assert calendar_month(date(2026, 12, 5), "fa") == (date(2026, 11, 22), date(2026, 12, 22))  # Azar 1405
    assert calendar_year(date(2026, 12, 5), "fa") == (date(2026, 3, 21), date(2027, 3, 21))
    assert calendar_month(date(2026, 12, 5), "en") == (date(2026, 12, 1), date(2027, 1, 1))
    assert local_year_month(date(2026, 12, 5), "fa") == "آذر ۱۴۰۵" and local_month_day(date(2026, 12, 5), "fa") == "۱۴ آذر"
