"""One calendar in the admin: in Persian every date the admin shows or reads is a Jalali one (the calendar
of core.templatetags.localized); in Arabic and English the admin stays as Django writes it. The change lists'
number columns are written in the reader's digits the same way (Persian: ۰-۹).

The project's admin site (core.admin_site) gives every ModelAdmin registered on it, and their inlines,
`LocalDatesAdminMixin`; the read-only fields, the date hierarchy and the history pages are written by the
templates in templates/admin/ and templates/simple_history/ (core.templatetags.admin_dates).
"""

from datetime import datetime

from django.contrib import admin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path, label_for_field
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from core.date_inputs import LocalDateField, LocalDateInput, LocalSplitDateTimeField, LocalSplitDateTimeWidget
from core.templatetags.localized import (
    calendar_month, calendar_year, local_datetime, local_number, uses_jalali, uses_local_digits,
)

_WITH_LOCAL_DATES: dict[type, type] = {}


def with_local_dates(admin_class: type) -> type:
    """`admin_class` with LocalDatesAdminMixin first (one class per admin class, so it stays the same
    between requests)."""
    if issubclass(admin_class, LocalDatesAdminMixin):
        return admin_class
    if admin_class not in _WITH_LOCAL_DATES:
        _WITH_LOCAL_DATES[admin_class] = type(admin_class.__name__, (LocalDatesAdminMixin, admin_class), {
            "__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__,
            "__doc__": admin_class.__doc__,
        })
    return _WITH_LOCAL_DATES[admin_class]


def _field_at(model, path) -> models.Field | None:
    """The field `path` ("placed_at", "customer__created_at") names on `model`, if it names one."""
    if not isinstance(path, str):
        return None
    try:
        return get_fields_from_path(model, path)[-1]
    except (FieldDoesNotExist, NotRelationField, AttributeError):
        return None


def date_field(model, path) -> models.DateField | None:
    """The DateField or DateTimeField `path` names on `model`, if it names one (a field with choices is shown by its
    choice, not as a date)."""
    field = _field_at(model, path)
    return field if isinstance(field, models.DateField) and not field.choices else None


def readonly_value(readonly_field) -> str | None:
    """What a read-only date field of a change form shows in a Jalali language; None: Django's own `contents()`
    (display methods write their own dates, with core.templatetags.localized, and are not called twice here)."""
    name, instance = readonly_field.field["field"], readonly_field.form.instance
    if not uses_jalali() or date_field(type(instance), name) is None or "__" in name:
        return None
    value = getattr(instance, name, None)
    return local_datetime(value) if value is not None else readonly_field.empty_value_display


def number_field(model, path) -> models.Field | None:
    """The number field (integer, decimal, float; not an id, not a choice) `path` names on `model`, if it names one."""
    field = _field_at(model, path)
    numbers = (models.IntegerField, models.DecimalField, models.FloatField)
    return field if isinstance(field, numbers) and not field.choices and not field.primary_key else None


def _local_columns() -> bool:
    """Whether the reader's language writes the change lists' dates or numbers otherwise than Django does."""
    return uses_jalali() or uses_local_digits()


class LocalDatesAdminMixin:
    """In a Jalali language: the change list's date columns written in that calendar (same label, same
    sorting, same CSS class), and the forms' date and date-time inputs reading and writing it. In a language
    with its own digits, the number columns in them."""

    def get_list_display(self, request):
        names = super().get_list_display(request)
        if not _local_columns():
            return names
        editable = set(getattr(self, "list_editable", ()) or ())
        return [name if name in editable else self._local_date_column(name) for name in names]

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if not uses_jalali():
            return filters
        return [(name, JalaliDateFieldListFilter) if date_field(self.model, name) is not None else name for name in filters]

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        if not _local_columns() or not links:
            return links
        return [self._local_date_column(name) for name in links]

    def get_sortable_by(self, request):
        sortable = super().get_sortable_by(request)
        if not _local_columns() or sortable is None:
            return sortable
        return [*sortable, *(self._local_date_column(name) for name in sortable)]

    def _local_date_column(self, name):
        """A display callable for a date field (in a Jalali language) or a number field (in a language with its own
        digits) named in list_display; else `name` itself."""
        columns = self.__dict__.setdefault("_local_date_columns", {}).setdefault(
            (uses_jalali(), uses_local_digits()), {})
        if not isinstance(name, str):
            return name
        if name not in columns:
            columns[name] = name
            if uses_jalali() and date_field(self.model, name) is not None:
                columns[name] = _column(name, label_for_field(name, self.model, self), local_datetime)
            elif uses_local_digits() and (field := number_field(self.model, name)) is not None:
                decimals = field.decimal_places if isinstance(field, models.DecimalField) else None
                columns[name] = _column(name, label_for_field(name, self.model, self),
                                        lambda value, decimals=decimals: local_number(value, decimals=decimals))
        return columns[name]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if uses_jalali() and isinstance(db_field, models.DateField) and not db_field.choices \
                and "widget" not in kwargs and db_field.__class__ not in type(self).formfield_overrides:
            if isinstance(db_field, models.DateTimeField):
                return db_field.formfield(form_class=LocalSplitDateTimeField, widget=LocalSplitDateTimeWidget, **kwargs)
            return db_field.formfield(form_class=LocalDateField, widget=LocalDateInput, **kwargs)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_inlines(self, request, obj):
        return [with_local_dates(inline) for inline in super().get_inlines(request, obj)]


def _column(path: str, label, write):
    """A change list column showing the value at `path` as `write` writes it (same label and sorting)."""
    def column(obj):
        value = obj
        for part in path.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return None  # the admin's empty value ("-")
        return write(value)

    column.__name__ = path  # the cells and the header keep the classes field-<name> and column-<name>
    return admin.display(description=label, ordering=path)(column)


class JalaliDateFieldListFilter(admin.DateFieldListFilter):
    """Django's date filter of a change list, its "This month" and "This year" the Jalali month and year."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        since, until = self.lookup_kwarg_since, self.lookup_kwarg_until
        links = list(self.links)
        today = links[1][1][since]  # ("Today", {since: today, until: tomorrow}): a date, or local midnight
        day = today.date() if isinstance(today, datetime) else today
        for index, (first, last) in ((3, calendar_month(day)), (4, calendar_year(day))):
            if isinstance(today, datetime):  # local midnight of those days, in the same time zone
                first, last = (today.replace(year=d.year, month=d.month, day=d.day) for d in (first, last))
            links[index] = (links[index][0], {since: first, until: last})
        self.links = tuple(links)
