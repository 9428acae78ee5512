"""The return and survey links feedback shows on the staff's customer and order pages (core.links)."""

from django.utils import timezone
from django.utils.translation import gettext as _

from core.links import CustomerLink, public_url
from core.templatetags.localized import local_date
from crm.models import Order
from feedback.selectors import return_window_closes
from feedback.services.returns import order_return_link
from feedback.services.survey_links import customer_survey_link


def _return_link(order: Order) -> CustomerLink | None:
    if order.status in (Order.Status.CANCELLED, Order.Status.REFUNDED):
        return None
    closes = return_window_closes(order)
    if closes < timezone.now():
        return None
    return CustomerLink(
        key="return", label=_("Return request link"), url=public_url(order_return_link(order)),
        help=_("For order %(number)s; the customer can ask for a return until %(date)s.") % {
            "number": order.order_number, "date": local_date(closes)},
    )


def order_links(order: Order) -> list[CustomerLink]:
    link = _return_link(order)
    return [link] if link else []


def customer_links(customer) -> list[CustomerLink]:
    """The return link of the customer's latest order still within the return window (the order
    a campaign's {{ return_url }} names too), and the link to their pending survey."""
    links = []
    latest = (Order.objects.filter(customer=customer).exclude(status__in=[Order.Status.CANCELLED, Order.Status.REFUNDED])
              .order_by("-placed_at", "-pk").first())
    if latest is not None and (link := _return_link(latest)):
        links.append(link)
    pending = customer_survey_link(customer)
    if pending is not None:
        survey, path = pending
        links.append(CustomerLink(
            key="survey", label=_("Survey link"), url=public_url(path),
            help=_("Opens the survey “%(survey)s” the customer has not answered yet.") % {"survey": survey.title},
        ))
    return links
