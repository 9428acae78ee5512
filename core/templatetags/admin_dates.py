"""The admin templates' side of one calendar (core.admin_dates): in a Jalali language the read-only fields,
the date hierarchy and the history lists write dates as core.templatetags.localized does; otherwise exactly
what Django writes.

    {% load admin_dates %}
    {{ field|readonly_contents }}         instead of {{ field.contents }}
    {% local_date_hierarchy cl %}         instead of {% date_hierarchy cl %}
    {{ record.history_date|admin_moment }}     instead of {{ record.history_date }}
    {{ day|admin_date:"SHORT_DATE_FORMAT" }}   instead of {{ day|date:"SHORT_DATE_FORMAT" }}
"""

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.template.defaultfilters import date as date_filter
from django.utils import formats, timezone

from core.admin_dates import readonly_value
from core.date_inputs import LocalDateInput
from core.date_hierarchy import jalali_date_hierarchy
from core.templatetags.localized import local_date, local_datetime, uses_jalali

register = template.Library()


@register.filter
def readonly_contents(readonly_field):
    value = readonly_value(readonly_field)
    return readonly_field.contents() if value is None else value


@register.inclusion_tag("admin/date_hierarchy.html")
def local_date_hierarchy(cl):
    if not cl.date_hierarchy:
        return {}
    return jalali_date_hierarchy(cl) if uses_jalali() else date_hierarchy(cl)


@register.filter(expects_localtime=True)
def admin_moment(value):
    """`{{ run.finished_at|admin_moment }}`: a date or moment as `{{ value }}` writes it (the history pages,
    our own admin pages); in a Jalali language as local_datetime does."""
    if value in (None, ""):
        return ""
    if uses_jalali():
        return local_datetime(value)
    return formats.localize(timezone.template_localtime(value))


@register.filter(expects_localtime=True)
def admin_date(value, arg="DATE_FORMAT"):
    """`{{ day|admin_date:"SHORT_DATE_FORMAT" }}`: Django's `date` filter; in a Jalali language the Jalali date
    (numbers only for a SHORT_ or numeric format, with the month's name otherwise) and, for a *DATETIME* format,
    the time."""
    if not uses_jalali() or value in (None, ""):
        return date_filter(value, arg)
    style = "long" if arg in ("DATE_FORMAT", "DATETIME_FORMAT") else "short"
    return local_datetime(value, style=style) if "DATETIME" in arg else local_date(value, style=style)


@register.simple_tag
def local_date_input(name, value, **attrs):
    """`{% local_date_input "as_of" as_of id="id_as_of" aria_invalid="true" %}`: a date box of our own admin
    pages' GET forms, in the reader's calendar (core.date_inputs.LocalDateInput); `_` in names become `-`."""
    return LocalDateInput().render(name, value, attrs={key.replace("_", "-"): val for key, val in attrs.items()})
