"""Date inputs that read and write the reader's calendar (core.templatetags.localized): in Persian a Jalali
yyyy/mm/dd typed with Persian or ASCII digits (an ISO Gregorian date is read too, for scripts and old
bookmarks); in the other languages the browser's ISO date input, as before.

The admin uses them in Persian only (core.admin_dates); our own admin pages' forms use `LocalDateField`,
which follows the active language by itself.
"""

from datetime import date, datetime

from django import forms
from django.contrib.admin.widgets import BaseAdminTimeWidget
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.templatetags.localized import local_input_date, parse_local_date, parse_local_time, uses_jalali


def invalid_date_message() -> str:
    """'Enter a valid date, e.g. ۱۴۰۵/۰۹/۱۴.' with today as the example, written as the input wants it."""
    return _("Enter a valid date, e.g. %(example)s.") % {"example": local_input_date(timezone.localdate())}


def parse_date_param(value, *, required: bool = False) -> date | None:
    """A date from a query string or a form of our own pages, typed in the reader's calendar.
    Empty: None (or the message when `required`). Raises ValidationError with `invalid_date_message`."""
    if value is None or not str(value).strip():
        if required:
            raise ValidationError(_("This field is required."), code="required")
        return None
    try:
        return parse_local_date(value)
    except ValueError:
        raise ValidationError(invalid_date_message(), code="invalid") from None


class LocalDateInput(forms.DateInput):
    """In Persian a left-to-right text box showing ۱۴۰۵/۰۹/۱۴ (numeric keyboard on phones); elsewhere the
    browser's `<input type="date">` with an ISO value."""

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        if uses_jalali():
            widget["type"] = "text"
            widget["attrs"] = {"dir": "ltr", "inputmode": "numeric", "autocomplete": "off", "size": "10",
                               "placeholder": local_input_date(timezone.localdate()),
                               "class": "vLocalDateField", **widget["attrs"],
                               # local_date_picker.js puts a month to click a day in beside the box, with these labels
                               "data-calendar-choose": _("Choose a date"), "data-calendar-today": _("Today"),
                               "data-calendar-previous": _("Previous month"), "data-calendar-next": _("Next month")}
        else:
            widget["type"] = "date"
        return context

    def format_value(self, value):
        if isinstance(value, (date, datetime)):
            return local_input_date(value)
        return super().format_value(value)  # what was typed, shown back with its error


class LocalDateField(forms.DateField):
    """A date typed in the reader's calendar (`parse_local_date`); its error gives an example to copy."""

    widget = LocalDateInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return parse_local_date(value)
        except ValueError:
            raise ValidationError(invalid_date_message(), code="invalid") from None


class LocalTimeField(forms.TimeField):
    """An hour and minute typed with Persian or ASCII digits."""

    def to_python(self, value):
        if value in self.empty_values or not isinstance(value, str):
            return super().to_python(value)
        try:
            return parse_local_time(value)
        except ValueError:
            return super().to_python(value)  # the other formats Django reads, and its message


class LocalSplitDateTimeWidget(forms.SplitDateTimeWidget):
    """The admin's date and time boxes (templates/admin/widgets/split_datetime.html), the date in the reader's
    calendar. The time keeps the admin's clock shortcut; the date has no Gregorian calendar pop-up."""

    template_name = "admin/widgets/split_datetime.html"

    def __init__(self, attrs=None):
        forms.MultiWidget.__init__(self, [LocalDateInput(attrs), BaseAdminTimeWidget(attrs)], attrs)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["date_label"] = _("Date:")
        context["time_label"] = _("Time:")
        return context


class LocalSplitDateTimeField(forms.SplitDateTimeField):
    """A moment typed as a date in the reader's calendar and a time, in the site's time zone."""

    widget = LocalSplitDateTimeWidget

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # As MultiValueField sets up its own: the parts are optional, the whole field says what is missing.
        incomplete = {"incomplete": self.error_messages["incomplete"]}
        self.fields = (
            LocalDateField(required=False, disabled=self.disabled, error_messages=incomplete),
            LocalTimeField(required=False, disabled=self.disabled,
                           error_messages={**incomplete, "invalid": self.error_messages["invalid_time"]}),
        )


def use_local_date_inputs(form: forms.BaseForm) -> None:
    """In a Jalali language, the date and date-time fields of one of our own forms read and write that calendar
    (call it at the end of the form's __init__; the ModelAdmins' forms get theirs from core.admin_dates).
    Elsewhere the form keeps its fields and widgets."""
    if not uses_jalali():
        return
    for name, field in list(form.fields.items()):
        if isinstance(field, (LocalDateField, LocalSplitDateTimeField)):
            continue
        if isinstance(field, forms.SplitDateTimeField):
            local = LocalSplitDateTimeField(required=field.required)
        elif isinstance(field, forms.DateField):
            local = LocalDateField(required=field.required)
        else:
            continue
        for attribute in ("label", "help_text", "initial", "disabled", "show_hidden_initial"):
            setattr(local, attribute, getattr(field, attribute))
        local.validators = [*field.validators]
        form.fields[name] = local


def iso_date_params(params, *names: str) -> dict:
    """The query parameters of one of our own pages, the `names` dates among them typed in a Jalali language's
    calendar written as ISO dates (what the pages' parsers read; an ISO date stays as it is). Other languages:
    the parameters unchanged. Raises ValidationError({name: invalid_date_message()}) for a date that is none."""
    values = {key: params.get(key) for key in params}
    if not uses_jalali():
        return values
    errors = {}
    for name in names:
        text = values.get(name)
        if text and text.strip():
            try:
                values[name] = parse_local_date(text).isoformat()
            except ValueError:
                errors[name] = invalid_date_message()
    if errors:
        raise ValidationError(errors)
    return values
