"""`{% load direction %}`: direction islands in templates (core/direction.py says why).

    {{ customer.full_name|bdi }}        <bdi>Sara Ahmadi</bdi>           names, titles, answers: their own direction
    {{ order.order_number|ltr }}        <bdi dir="ltr">D-000175</bdi>    numbers, codes, SKUs, amounts: left to right

In a template rendered with autoescape off (a plain-text email or an SMS) the same filters give the Unicode
isolates instead (FSI/LRI ... PDI), since there is no markup to read them; where markup is not read although
autoescape is on (<title>, an attribute, an <option>) `|bdi_text` and `|ltr_text` give the isolates.
Nothing (None, "") stays nothing.
"""

from django import template

from core import direction

register = template.Library()


@register.filter(needs_autoescape=True)
def bdi(value, autoescape=True):
    return direction.isolate_html(value) if autoescape else direction.isolate_text(value)


@register.filter(needs_autoescape=True)
def ltr(value, autoescape=True):
    return direction.ltr_html(value) if autoescape else direction.ltr_text(value)


@register.filter
def bdi_text(value):
    return direction.isolate_text(value)


@register.filter
def ltr_text(value):
    return direction.ltr_text(value)


@register.filter
def bdi_codes(value):
    """Free text isolated, with the order numbers and SKUs in it kept left to right on one line."""
    return direction.isolate_codes_html(value)
