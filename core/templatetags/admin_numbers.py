"""The admin's change lists in the reader's digits: `{% local_paginator_number cl i %}` for templates/admin/pagination.html.

The counts around it (results, selected rows) go through `{% filter localdigits %}` in the overridden templates, so
Django's own translations of those sentences still apply; the selection counter that actions.js rewrites is mended in
the browser (core/static/core/local_digits.js)."""

from django import template
from django.contrib.admin.views.main import PAGE_VAR
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from core.templatetags.localized import local_digits

register = template.Library()


@register.simple_tag
def local_paginator_number(cl, i):
    """django.contrib.admin's `paginator_number`, the number shown in the reader's digits (the link keeps its own)."""
    if i == cl.paginator.ELLIPSIS:
        return format_html("{} ", cl.paginator.ELLIPSIS)
    if i == cl.page_num:
        return format_html('<span class="this-page">{}</span> ', local_digits(i))
    return format_html('<a href="{}"{}>{}</a> ', cl.get_query_string({PAGE_VAR: i}),
                       mark_safe(' class="end"' if i == cl.paginator.num_pages else ""), local_digits(i))  # nosec B308 B703 - a constant
