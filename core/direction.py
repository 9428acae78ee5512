"""Direction islands: text whose direction is not the page's is isolated, so it cannot reorder its neighbours.

In a right-to-left page a Latin offer title ("10% off any coffee"), an order number ("D-000175"), a SKU, a
negative amount ("-6.2") or a quoted answer is laid out by the Unicode bidi algorithm together with the text
around it, and comes out as "off any coffee 10%", "000175-D" or "6.2-". Isolating it fixes that:

- customer-entered and mixed content (names, titles, answers) is isolated with its own direction found from its
  first strong letter: `<bdi>` in HTML, FSI ... PDI (U+2068 ... U+2069) in plain text;
- numbers, codes, order numbers, SKUs and amounts are left-to-right islands: `<bdi dir="ltr">` in HTML,
  LRI ... PDI (U+2066 ... U+2069) in plain text.

Templates use the filters of core/templatetags/direction.py (`|bdi`, `|ltr`); messages (SMS, email subjects and
bodies) are isolated by campaigns.rendering with the plain-text forms below.
"""

import re

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

FSI, LRI, RLI, PDI = "\u2068", "\u2066", "\u2067", "\u2069"
# A code inside free text: letters and digits joined by "-", "/" or "." with at least one digit ("D-000175",
# "SKU-12/B", "2.5"), not inside a longer word. Typed by staff or written by the demo, it must stay one
# left-to-right piece on one line.
CODE = re.compile(r"(?<![\w\-/.])(?=[\w\-/.]*\d)[A-Za-z0-9]+(?:[\-/.][A-Za-z0-9]+)+(?![\w\-/])")


def _empty(value) -> bool:
    return value is None or value == ""


def isolate_text(value) -> str:
    """Plain text: `value` isolated in its own direction (FSI ... PDI); "" for nothing."""
    return "" if _empty(value) else f"{FSI}{value}{PDI}"


def ltr_text(value) -> str:
    """Plain text: `value` as a left-to-right island (LRI ... PDI); "" for nothing."""
    return "" if _empty(value) else f"{LRI}{value}{PDI}"


def isolate_html(value) -> SafeString | str:
    """HTML: `value` (escaped unless already safe) in a <bdi>; "" for nothing."""
    return "" if _empty(value) else format_html("<bdi>{}</bdi>", conditional_escape(value))


def ltr_html(value) -> SafeString | str:
    """HTML: `value` (escaped unless already safe) as a left-to-right island, <bdi dir="ltr">; "" for nothing."""
    return "" if _empty(value) else format_html('<bdi dir="ltr">{}</bdi>', conditional_escape(value))


def isolate_codes_html(value) -> SafeString | str:
    """HTML: free text (a subject a person typed) isolated in its own direction, with each code in it (an order
    number, a SKU) a left-to-right island that does not break across lines; "" for nothing."""
    if _empty(value):
        return ""
    text = str(conditional_escape(value))
    return format_html("<bdi>{}</bdi>", mark_safe(CODE.sub(lambda m: f'<bdi dir="ltr">{m.group(0)}</bdi>', text)))  # nosec B308 B703 - escaped above; the codes hold letters, digits, - / . only
