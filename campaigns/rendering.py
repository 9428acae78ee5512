"""Message templates: Django's template language, sandboxed.

Marketers write `Hello {{ first_name }}, your code is {{ coupon_code }}` in the admin.
A template may use only the placeholders below (plain strings and numbers, never model
objects, so nothing can reach an attribute or a method), `{% if %}` and comments, and a
short list of harmless filters. Anything else (`{% load %}`, `{% include %}`, `{% url %}`,
`{{ customer.delete }}`...) is refused with a message when the template is saved. The HTML
email body is rendered with autoescape on; subjects and SMS texts are plain text.

In a Persian or Arabic message each placeholder's value is a direction island (core.direction): names, titles
and dates keep their own direction, codes, numbers and order numbers read left to right, so "کد شما: D-175"
does not come out as "175-D". The HTML body uses <bdi>, subjects, SMS texts and the plain-text part of an email the
Unicode isolates (links are left alone). Inside a tag no markup may go: a placeholder in a displayed attribute
(title="{{ first_name }}", alt, aria-label) gets the Unicode isolates, one in any other attribute (a URL) nothing.
A left-to-right message is unchanged: an SMS in Latin letters stays in the cheaper GSM alphabet.
"""

import html
import re
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import FilterExpression, TextNode, Variable, VariableNode, render_value_in_context
from django.template.defaulttags import CommentNode, IfNode, TemplateLiteral
from django.template.smartif import TokenBase
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core import direction
from core.direction import FSI, LRI, PDI, RLI

PLACEHOLDERS = {
    "first_name": _("The customer's first name"),
    "last_name": _("The customer's last name"),
    "tier": _("Club tier (empty for non-members)"),
    "member_number": _("Club member number"),
    "points_balance": _("Points balance"),
    "points_expiring": _("Points expiring soon (CLUB_EXPIRY_WARNING_DAYS)"),
    "points_expiring_on": _("The first date some of them expire"),
    "coupon_code": _("The recipient's own coupon (when the message has an offer)"),
    "coupon_expires_on": _("When that coupon expires"),
    "offer": _("The offer's title"),
    "offer_description": _("The offer's description"),
    "unsubscribe_url": _("The one-click unsubscribe link (email)"),
    "survey_url": _("The survey link: in post-purchase messages and survey invitations, that invitation's own link; "
                    "in campaigns, the survey the campaign chose, else (and in other automations) the survey the "
                    "customer was invited to and has not answered yet (empty when there is none)"),
    "card_url": _("The member's club card link (empty for non-members)"),
    "return_url": _("The link to request a return of the order (post-purchase), or of the customer's latest order "
                    "still within the return window"),
    "survey": _("The survey's title"),
    "order_number": _("The order's number (post-purchase, return updates)"),
    "return_state": _("The return's new state (return updates): requested, approved, rejected, received, refunded, "
                      "exchanged, credited or closed"),
    "products": _("Products due again (replenishment)"),
    "points": _("Points in a club notice (birthday bonus, points expiring)"),
    "expires_on": _("When the points of a warning expire"),
    "confirmation_code": _("The one-time code of a club enrolment a partner asked for (club enrolment codes only)"),
    "partner": _("The partner that asked for the code (club enrolment codes)"),
    "code_minutes": _("How many minutes the code is valid (club enrolment codes)"),
    "recommendations": _("Products picked for the customer: a short list with prices and links in an email, "
                         "the names in a subject or an SMS (empty when the customer has none)"),
}
# Read left to right whatever the language; links are never wrapped (see _IsolatedVariableNode).
LTR_PLACEHOLDERS = frozenset({"member_number", "points_balance", "points_expiring", "coupon_code", "order_number", "points",
                              "confirmation_code"})
LINK_PLACEHOLDERS = frozenset({"unsubscribe_url", "survey_url", "card_url", "return_url"})
# A list that isolates each of its items itself, and is markup only in the text of an HTML body
# (campaigns.recommendations): an island around the whole list would hold a <ul> inside a <bdi>.
LIST_PLACEHOLDERS = frozenset({"recommendations"})
ALLOWED_FILTERS = frozenset({
    "default", "default_if_none", "upper", "lower", "title", "capfirst", "date", "floatformat", "truncatechars",
    "truncatewords", "yesno", "linebreaksbr", "add", "length",
})

# No loaders: {% include %} and {% extends %} have nothing to read; the node check refuses them anyway.
_engine = Engine(loaders=[], libraries={}, builtins=[], string_if_invalid="", debug=False)


@dataclass(frozen=True)
class Rendered:
    subject: str = ""
    html: str = ""
    text: str = ""
    sms: str = ""


def validate_template(source: str) -> None:
    """Raise ValidationError (with the reason) when `source` is not an allowed template."""
    _compile(source or "")


def render(source: str, context: dict, *, autoescape: bool) -> str:
    if not source:
        return ""
    template = _compile(source)
    return template.render(Context({key: context.get(key, "") for key in PLACEHOLDERS}, autoescape=autoescape))


@lru_cache(maxsize=512)
def _compile(source: str):
    try:
        template = _engine.from_string(source)
    except TemplateSyntaxError as error:
        raise ValidationError(_("Template error: %(error)s") % {"error": error}) from None
    _check_nodes(template.nodelist)
    _isolate_placeholders(template.nodelist)
    return template


# Where a placeholder sits in the HTML body decides how it is isolated (see _IsolatedVariableNode).
MARKUP, ISOLATES, AS_IS = "markup", "isolates", "as is"
# Attributes a reader sees (a tooltip, an image's replacement text, what a screen reader says): isolates help there.
DISPLAYED_ATTRIBUTES = frozenset({"title", "alt", "aria-label", "aria-description", "placeholder", "label"})


class _IsolatedVariableNode(VariableNode):
    """A placeholder whose value is a direction island in a right-to-left message."""

    def __init__(self, filter_expression, *, in_html: str = MARKUP):
        super().__init__(filter_expression)
        self.in_html = in_html

    def render(self, context):
        name = self.filter_expression.var.var if isinstance(self.filter_expression.var, Variable) else ""
        if name in LIST_PLACEHOLDERS:
            return self._render_list(context)
        text = super().render(context)
        if not text or name in LINK_PLACEHOLDERS or not translation.get_language_bidi():
            return text
        ltr = name in LTR_PLACEHOLDERS
        if context.autoescape:  # `text` is escaped already
            if self.in_html == AS_IS:
                return text
            if self.in_html == ISOLATES:
                return mark_safe(direction.ltr_text(text) if ltr else direction.isolate_text(text))  # nosec B308 B703 - `text` is the escaped output of the variable; only isolate characters are added
            return mark_safe(f'<bdi dir="ltr">{text}</bdi>' if ltr else f"<bdi>{text}</bdi>")  # nosec B308 B703 - `text` is escaped; only the <bdi> tags are added
        return direction.ltr_text(text) if ltr else direction.isolate_text(text)

    def _render_list(self, context):
        value = self.filter_expression.resolve(context)
        if context.autoescape and self.in_html == MARKUP and hasattr(value, "__html__"):
            return value.__html__()
        return render_value_in_context(value, context)  # its compact text form (escaped in an HTML body)


def _isolate_placeholders(nodelist, state: "_HtmlState | None" = None) -> "_HtmlState":
    """Wrap every placeholder, following the HTML around it so none inside a tag gets markup."""
    state = state or _HtmlState()
    for index, node in enumerate(nodelist):
        if isinstance(node, TextNode):
            state = state.after(node.s)
        elif type(node) is VariableNode:
            nodelist[index] = _IsolatedVariableNode(node.filter_expression, in_html=state.placeholder_treatment())
        elif isinstance(node, IfNode):
            ends = [_isolate_placeholders(nodes, state) for _condition, nodes in node.conditions_nodelists]
            if node.conditions_nodelists[-1][0] is not None:  # no {% else %}: the text may go straight on
                ends.append(state)
            # Branches that end in different places (a malformed template): assume the worst, inside a tag.
            state = next((end for end in ends if end.mode != "text"), ends[0])
    return state


@dataclass(frozen=True)
class _HtmlState:
    """Just enough of an HTML tokenizer to know whether the next placeholder is in text, in a tag, in which
    attribute, in a comment or in the raw text of <script>, <style>, <title> or <textarea>."""

    mode: str = "text"  # text, tag, comment, raw
    element: str = ""  # the tag being read, or the raw-text element we are in
    attribute: str = ""  # the attribute whose value is being read
    quote: str = ""  # the quote that ends that value; "" when unquoted or not in a value

    def placeholder_treatment(self) -> str:
        if self.mode == "text":
            return MARKUP
        if self.mode == "tag" and self.attribute.rstrip("=") in DISPLAYED_ATTRIBUTES:
            return ISOLATES
        if self.mode == "raw" and self.element in ("title", "textarea"):
            return ISOLATES
        return AS_IS

    def after(self, text: str) -> "_HtmlState":
        state, position = self, 0
        while position < len(text):
            state, position = state._step(text, position)
        return state

    def _step(self, text: str, at: int) -> tuple["_HtmlState", int]:
        if self.mode == "text":
            match = _TAG_OPEN.search(text, at)
            if match is None:
                return self, len(text)
            if match.group(0) == "<!--":
                return _HtmlState(mode="comment"), match.end()
            return _HtmlState(mode="tag", element=("/" if match.group(1) else "") + match.group(2).lower()), match.end()
        if self.mode == "comment":
            end = text.find("-->", at)
            return (self, len(text)) if end < 0 else (_HtmlState(), end + 3)
        if self.mode == "raw":
            match = re.compile(rf"</{self.element}(?=[\s/>])", re.IGNORECASE).search(text, at)
            return (self, len(text)) if match is None else (_HtmlState(mode="tag", element="/" + self.element), match.end())
        return self._step_in_tag(text, at)

    def _step_in_tag(self, text: str, at: int) -> tuple["_HtmlState", int]:
        if self.quote:  # in a quoted value: only its closing quote ends it
            end = text.find(self.quote, at)
            return (self, len(text)) if end < 0 else (_HtmlState(mode="tag", element=self.element), end + 1)
        if self.attribute:  # after `name=`, or in an unquoted value
            char = text[at]
            if char in "\"'" and self.attribute.endswith("="):
                return _HtmlState(mode="tag", element=self.element, attribute=self.attribute[:-1], quote=char), at + 1
            if char.isspace() and self.attribute.endswith("="):
                return self, at + 1
            name = self.attribute.rstrip("=")
            match = _UNQUOTED_VALUE.match(text, at)
            if match.end() < len(text):  # the value ends here: whitespace or ">"
                return _HtmlState(mode="tag", element=self.element), match.end()
            return _HtmlState(mode="tag", element=self.element, attribute=name), len(text)
        match = _IN_TAG.match(text, at)
        if match.group("end"):
            raw = self.element in ("script", "style", "title", "textarea")
            return (_HtmlState(mode="raw", element=self.element) if raw else _HtmlState()), match.end()
        if match.group("name"):
            name = match.group("name").lower()
            return _HtmlState(mode="tag", element=self.element, attribute=name + "=" if match.group("equals") else ""), \
                match.end()
        return self, match.end()


_TAG_OPEN = re.compile(r"<!--|<(/?)([a-zA-Z][^\s/>]*)")
_IN_TAG = re.compile(r"\s+|(?P<end>/?>)|(?P<name>[^\s/>=\"']+)\s*(?P<equals>=)?|.", re.DOTALL)
_UNQUOTED_VALUE = re.compile(r"[^\s>]*")


def _refuse(what: str):
    known = ", ".join(PLACEHOLDERS)
    return ValidationError(_("%(what)s is not allowed in a message. Placeholders: %(known)s.") % {"what": what, "known": known})


def _check_nodes(nodelist) -> None:
    for node in nodelist:
        if isinstance(node, (TextNode, CommentNode)):
            continue
        if isinstance(node, VariableNode):
            _check_expression(node.filter_expression)
        elif isinstance(node, IfNode):
            for condition, nodes in node.conditions_nodelists:
                if condition is not None:
                    _check_condition(condition)
                _check_nodes(nodes)
        else:
            token = getattr(node, "token", None)
            name = token.contents.split()[0] if token is not None and token.contents else type(node).__name__
            raise _refuse("{%% %s %%}" % name)


def _check_condition(condition) -> None:
    if isinstance(condition, TemplateLiteral):
        _check_expression(condition.value)
        return
    if isinstance(condition, TokenBase):
        for part in (getattr(condition, "first", None), getattr(condition, "second", None)):
            if part is not None:
                _check_condition(part)
        return
    raise _refuse(str(condition))


def _check_variable(variable) -> None:
    if not isinstance(variable, Variable) or variable.literal is not None:
        return  # a literal string or number
    lookups = variable.lookups or ()
    if len(lookups) != 1 or lookups[0] not in PLACEHOLDERS:
        raise _refuse("{{ %s }}" % variable.var)


def _check_expression(expression: FilterExpression) -> None:
    _check_variable(expression.var)
    for func, args in expression.filters:
        name = getattr(func, "_filter_name", None) or func.__name__
        if name not in ALLOWED_FILTERS:
            raise _refuse("The filter |%s" % name)
        for is_variable, value in args:
            if is_variable:
                _check_variable(value)


# --- links and the plain-text part ------------------------------------------------------------

_HREF = re.compile(r"""href\s*=\s*(["'])(https?://[^"'\s<>]+)\1""", re.IGNORECASE)


def links_in(source: str) -> list[str]:
    """The absolute http(s) links of an HTML template (those written out, not built from placeholders)."""
    urls = []
    for _quote, url in _HREF.findall(source or ""):
        if "{{" in url or "{%" in url:
            continue
        url = html.unescape(url)
        if url not in urls:
            urls.append(url)
    return urls


def rewrite_links(body: str, tracked: dict[str, str]) -> str:
    """Replace each link of `tracked` (url -> tracking url) in rendered HTML; others stay as they are."""

    def replace(match):
        quote, url = match.group(1), match.group(2)
        target = tracked.get(html.unescape(url))
        return f"href={quote}{html.escape(target)}{quote}" if target else match.group(0)

    return _HREF.sub(replace, body)


_BLOCK_END = re.compile(r"</(p|div|h[1-6]|li|tr|table)>|<br\s*/?>", re.IGNORECASE)
_ANCHOR = re.compile(r"""<a\s[^>]*href\s*=\s*(["'])(.*?)\1[^>]*>(.*?)</a>""", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


_BDI_OPEN = re.compile(r"""<bdi(?:\s+dir\s*=\s*(["']?)(\w+)\1)?[^>]*>""", re.IGNORECASE)
_BDI_CLOSE = re.compile(r"</bdi\s*>", re.IGNORECASE)
_ISOLATE_FOR_DIR = {"ltr": LRI, "rtl": RLI}


def html_to_text(body: str) -> str:
    """A readable text/plain alternative: links as 'text (url)', paragraphs as blank lines, and each <bdi>
    island as the Unicode isolates (FSI or LRI ... PDI), so a Persian text part reads as its HTML part does."""
    body = _BDI_OPEN.sub(lambda m: _ISOLATE_FOR_DIR.get((m.group(2) or "").lower(), FSI), body)
    body = _BDI_CLOSE.sub(PDI, body)
    text = _ANCHOR.sub(lambda m: f"{_TAG.sub('', m.group(3)).strip()} ({html.unescape(m.group(2))})", body)
    text = _BLOCK_END.sub("\n", text)
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
