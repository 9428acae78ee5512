"""What the crm admin's pages share: adopting a row a service created, money as text, the
customer search on lists of a customer's rows."""

from core.direction import ltr_html
from core.templatetags.localized import local_number
from crm.models import Customer


def adopt(target, saved) -> None:
    """Make the admin's unsaved instance the row a service just created, so the admin
    goes on (change message, redirect) with the saved object."""
    for name, value in vars(saved).items():
        if name != "_state":
            setattr(target, name, value)
    target._state.adding = False
    target._state.db = saved._state.db


def money(value, currency: str = "") -> str:
    """An amount for an admin page in the reader's digits and separators (core.templatetags.localized: "۱۰۰٫۰۰ USD"
    in Persian), as a left-to-right island ("-6.20 EUR" stays so in a Persian page)."""
    return ltr_html(f"{local_number(value, decimals=2)} {currency}".strip())


class CustomerSearchMixin:
    """Search a list of rows that belong to a customer with the customer search."""

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(customer__in=Customer.objects.search(search_term).values("pk")), False
