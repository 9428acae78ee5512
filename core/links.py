"""The customer's own links (return request, club card, survey) as staff see them: absolute, with a copy button.

The app that signs a link builds it (feedback: returns and surveys, club: the card); this module only
makes it absolute, the way a customer receives it (PUBLIC_BASE_URL), and describes it for
`templates/admin/includes/customer_links.html`, which draws each with a label and a copy button.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from core.registry import Registry


@dataclass(frozen=True)
class CustomerLink:
    key: str  # "return", "card", "survey": the element ids and the tests find it by this
    label: str
    url: str
    help: str = ""


def public_url(path: str) -> str:
    """The address a customer opens for `path` (the public site, which may not be the admin's host)."""
    return settings.CAMPAIGNS_PUBLIC_BASE_URL + path


# name -> links(customer) -> list[CustomerLink]: what the customer page shows (club: the card; feedback:
# the latest returnable order's return link and the pending survey's link).
customer_link_registry: Registry[Callable[[Any], list[CustomerLink]]] = Registry("customer links")
# name -> links(order) -> list[CustomerLink]: what the order page shows (feedback: its return link).
order_link_registry: Registry[Callable[[Any], list[CustomerLink]]] = Registry("order links")


def customer_links(customer) -> list[CustomerLink]:
    return [link for provide in customer_link_registry.values() for link in provide(customer)]


def order_links(order) -> list[CustomerLink]:
    return [link for provide in order_link_registry.values() for link in provide(order)]
