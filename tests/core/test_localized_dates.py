"""One way to write a date and a moment on a staff page, the reader's language's."""

from datetime import date, datetime, timezone as dt_timezone

import pytest
from django.test import override_settings

from core.templatetags.localized import local_date, local_datetime

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
