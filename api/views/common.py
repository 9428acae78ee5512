import uuid

from django.http import Http404
from rest_framework import exceptions

from api.scoping import visible_customers
from crm.models import Customer


def parse_public_id(value) -> uuid.UUID:
    """A path id that is not a UUID names nothing: 404, like an unknown one."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


def customer_for_path(request, customer_id) -> Customer:
    customer = visible_customers(request.auth).filter(public_id=parse_public_id(customer_id)).first()
    if customer is None:
        raise Http404
    return customer


def customer_for_body(request, public_id, field: str = "customer") -> Customer:
    """A customer named in a request body; unknown and invisible ones read the same."""
    customer = visible_customers(request.auth).filter(public_id=public_id).first()
    if customer is None:
        raise exceptions.ValidationError({field: ["No such customer."]})
    return customer


def partner_source(request) -> str:
    """Orders are unique per source: each partner numbers its own orders."""
    return f"partner:{request.auth.partner_id}"
