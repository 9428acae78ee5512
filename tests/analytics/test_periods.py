"""analytics.periods.Period: one parser of a period and window, with one set of limits and the same
message in the admin and the commands (the API's side is in tests/api/test_segments.py)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from analytics.periods import Period
from tests.factories import CustomerFactory

# start, end, window -> the field in error and its code.
BAD = [
    ("April", "2026-07-01", "", "start", "invalid_date"),
    ("2026-04-01", "2026-02-30", "", "end", "invalid_date"),
    ("2026-07-01", "2026-04-01", "", "end", "end_before_start"),
    ("2026-04-01", "2026-04-01", "", "end", "end_before_start"),
    ("0001-01-01", "2026-04-01", "", "start", "date_out_of_range"),
    ("2026-04-01", "9000-01-01", "", "end", "date_out_of_range"),
    ("2026-04-01", "2026-07-01", "0", "window", "window_out_of_range"),
    ("2026-04-01", "2026-07-01", "3651", "window", "window_out_of_range"),
    ("2026-04-01", "2026-07-01", "ninety", "window", "invalid_window"),
]


def message_of(start, end, window) -> tuple[str, str, str]:
    with pytest.raises(ValidationError) as error:
        Period.parse(start=start, end=end, window=window)
    (field, errors), = error.value.error_dict.items()
    return field, errors[0].code, errors[0].messages[0]


def test_it_reads_dates_as_text_or_dates_and_the_window_as_text_or_a_number(settings):
    settings.CRM_ACTIVITY_WINDOW_DAYS = 90
    assert Period.parse(start="2026-04-01", end="2026-07-01") == Period(date(2026, 4, 1), date(2026, 7, 1), 90)
    assert Period.parse(start=date(2026, 4, 1), end="2026-07-01", window="30") == Period(date(2026, 4, 1), date(2026, 7, 1), 30)
    assert Period.parse(start="2026-04-01", end="2026-07-01", window=365).window_days == 365
    assert Period.parse(start="2026-04-01", end="2026-07-01", window="60.0").window_days == 60


def test_optional_dates_may_be_left_open():
    period = Period.parse(start=None, end="", required=False)
    assert (period.start, period.end, period.has_dates) == (None, None, False)
    with pytest.raises(ValidationError) as error:
        Period.parse(start="2026-04-01", end=None)
    assert error.value.error_dict["end"][0].code == "required"


@pytest.mark.parametrize("start, end, window, field, code", BAD)
def test_each_bad_input_names_its_field_with_a_code(start, end, window, field, code):
    assert message_of(start, end, window)[:2] == (field, code)


def test_the_messages_carry_their_limits_as_params():
    with pytest.raises(ValidationError) as error:
        Period.parse(start="2026-04-01", end="2026-07-01", window="0")
    assert error.value.error_dict["window"][0].params == {"min": 1, "max": 3650}
    assert message_of("2026-04-01", "2026-07-01", "0")[2] == "The activity window must be between 1 and 3650 days."


@pytest.mark.django_db
@pytest.mark.parametrize("start, end, window, field, code", BAD)
def test_the_admin_dashboard_shows_the_same_message_not_an_error_page(client, marketing_user, start, end, window, field,
                                                                       code):
    client.force_login(marketing_user)
    page = client.get(reverse("admin:analytics_retentiondashboard_changelist"),
                      {"period": "custom", "start": start, "end": end, "window": window})
    assert page.status_code == 200
    assert message_of(start, end, window)[2] in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("start, end, window, field, code", [case for case in BAD if case[2] != "ninety"])
def test_the_retention_command_fails_with_the_same_message(start, end, window, field, code):
    CustomerFactory()
    with pytest.raises(CommandError) as error:
        call_command("retention", "--segment", "all", "--start", start, "--end", end,
                     *(["--window", window] if window else []))
    assert str(error.value) == f"--{field}: {message_of(start, end, window)[2]}"


@pytest.mark.django_db
def test_the_commands_keep_their_open_periods():
    CustomerFactory()
    call_command("customer_metrics", "--segment", "all", "--json")  # no dates: all time
    call_command("customer_metrics", "--segment", "all", "--start", "2026-01-01", "--json")
