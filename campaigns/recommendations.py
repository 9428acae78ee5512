"""`{{ recommendations }}` in a message: the customer's own picks (crm.Recommendation), in their language.

In an email body it is a short list, each product with its name, its price (written as the customer's
language writes numbers, as every other amount in a message) and a link to its page when it has one; the
plain-text part is made from that list as from the rest of the body. In a subject or an SMS it is the
compact form: the names only, separated as the language separates a list, cut to SMS_LENGTH characters.
A customer without picks gets an empty string (and the campaign's pages say how many recipients have none).

The picks of a batch of messages are read together, in one query, the first time a message of the
batch uses the placeholder: a campaign that does not use it reads nothing, one that does reads them once
per batch whatever its size (campaigns.services.content.personal_values).

Right to left: each name is its own direction island and each price a left-to-right one (<bdi> in HTML,
the Unicode isolates in plain text), so "Filters 100" keeps its order in a Persian SMS. A left-to-right
message is unchanged.
"""

import re
from collections import defaultdict

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language_info

from core import direction
from core.templatetags.localized import local_number

NAME = "recommendations"
EMAIL_ITEMS = 3  # a short list: the first picks are the strongest
SMS_ITEMS = 3
SMS_LENGTH = 60  # the compact form never takes more of an SMS than this
LIST_SEPARATOR = {"fa": "، ", "ar": "، "}
USES_PLACEHOLDER = re.compile(r"{{\s*" + NAME + r"\b")


def uses_recommendations(templates) -> bool:
    """Whether any of these message templates says {{ recommendations }}."""
    return any(USES_PLACEHOLDER.search(template or "") for template in templates)


def campaign_uses_recommendations(campaign) -> bool:
    """Whether the campaign's content (any variant, any language) says {{ recommendations }}."""
    from campaigns.services.content import all_templates

    return uses_recommendations(all_templates(campaign))


class BatchPicks:
    """The picks of a batch's customers, read in one query on first use."""

    def __init__(self, customer_ids):
        self.customer_ids = sorted(set(customer_ids))
        self._by_customer = None

    def of(self, customer_id: int) -> list:
        if self._by_customer is None:
            from crm.selectors import recommendations_for

            grouped = defaultdict(list)
            for pick in recommendations_for(self.customer_ids, limit=max(EMAIL_ITEMS, SMS_ITEMS)):
                grouped[pick.customer_id].append(pick)
            self._by_customer = dict(grouped)
        return self._by_customer.get(customer_id, [])


class Picks:
    """One customer's picks as a placeholder value: `str()` is the compact form (subjects, SMS, filters),
    `__html__()` the list of an email body. Empty (falsy, renders "") when the customer has none."""

    def __init__(self, batch: BatchPicks, customer_id: int, language: str):
        self.batch, self.customer_id, self.language = batch, customer_id, language

    @property
    def items(self) -> list:
        return self.batch.of(self.customer_id)

    def __bool__(self):
        return bool(self.items)

    def __len__(self):
        return len(self.items)

    @property
    def _bidi(self) -> bool:
        try:
            return get_language_info(self.language)["bidi"]
        except KeyError:
            return False

    def __str__(self):
        return compact_text(self.items, self.language, bidi=self._bidi)

    def __html__(self) -> SafeString:
        return email_list(self.items, self.language, bidi=self._bidi)


def price_text(product, language: str) -> str:
    return local_number(product.price, language) if product.price is not None else ""


def compact_text(picks, language: str, *, bidi: bool, limit: int = SMS_LENGTH) -> str:
    """"Beans 250g, Filters 100": the names of the first picks that fit in `limit` characters (the first
    one always, cut with an ellipsis when it alone is too long)."""
    separator = LIST_SEPARATOR.get(language, ", ")
    names = [" ".join(pick.product.name.split()) for pick in picks[:SMS_ITEMS]]
    chosen, length = [], 0
    for name in names:
        extra = len(name) + (len(separator) if chosen else 0)
        if chosen and length + extra > limit:
            break
        if not chosen and len(name) > limit:
            name = name[:limit - 1].rstrip() + "…"
            extra = len(name)
        chosen.append(name)
        length += extra
    return separator.join(direction.isolate_text(name) if bidi else name for name in chosen)


def email_list(picks, language: str, *, bidi: bool) -> SafeString:
    """The list of an email body: name (linked to the product's page when it has one) and price."""
    if not picks:
        return mark_safe("")  # nosec B308 B703 - a constant empty string
    rows = []
    for pick in picks[:EMAIL_ITEMS]:
        product = pick.product
        name = escape(product.name)
        if bidi:
            name = f"<bdi>{name}</bdi>"
        if product.url and product.url.lower().startswith(("https://", "http://")):
            name = f'<a href="{escape(product.url)}">{name}</a>'
        price = escape(price_text(product, language))
        if price and bidi:
            price = f'<bdi dir="ltr">{price}</bdi>'
        rows.append(f"<li>{name}{' · ' + price if price else ''}</li>")
    return mark_safe('<ul class="recommendations">' + "".join(rows) + "</ul>")  # nosec B308 B703 - every value above is escaped
