import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions

from api.scoping import club_hidden, partner_order_source, visible_customers, visible_orders
from club.exceptions import NotAMember
from crm.models import Customer, Order


def parse_public_id(value) -> uuid.UUID:
    """A path id that is not a UUID names nothing: 404, like an unknown one."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


def customer_for_path(request, customer_id, queryset=None) -> Customer:
    customer = visible_customers(request.auth, queryset).filter(public_id=parse_public_id(customer_id)).first()
    if customer is None:
        raise Http404
    return customer


def club_customer(request, customer: Customer) -> Customer:
    """The customer, for the club endpoints: a person the key sees through its view (api.identity) is not
    a member for it, whatever others enrolled, until it enrolled them or was shown their card."""
    if club_hidden(request.auth, customer):
        raise NotAMember(_("This customer is not a club member."))
    return customer


def customer_for_body(request, public_id, field: str = "customer") -> Customer:
    """A customer named in a request body; unknown and invisible ones read the same."""
    customer = visible_customers(request.auth).filter(public_id=public_id).first()
    if customer is None:
        raise exceptions.ValidationError({field: [_("No such customer.")]})
    return customer


def order_for_body(request, public_id, field: str = "order", *, message: str | None = None, **filters) -> Order:
    """An order named in a request body (optionally narrowed by `filters`); unknown and invisible ones read the same."""
    order = visible_orders(request.auth).filter(public_id=public_id, **filters).first()
    if order is None:
        raise exceptions.ValidationError({field: [message or _("No such order.")]})
    return order


def partner_source(request) -> str:
    """Orders are unique per source: each partner numbers its own orders."""
    return partner_order_source(request.auth.partner_id)


def line_errors_by_index(error: DjangoValidationError, line_pks: list[int]) -> DjangoValidationError:
    """The services name order lines by their database id (`lines.<pk>`); the partner sent them as a
    list of public ids, so its errors say `lines[<index>]` and never show a database id."""
    if not hasattr(error, "error_dict"):
        return error
    positions = {f"lines.{pk}": f"lines[{index}]" for index, pk in enumerate(line_pks)}
    return DjangoValidationError({positions.get(name, name): messages for name, messages in error.error_dict.items()})
