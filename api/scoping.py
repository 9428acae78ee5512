"""What a key may see. Own-data-only keys see only their partner's customers (and what
hangs off them); everything else is 404, so nothing about other customers leaks.

A person such a key found by identity (api.identity: its link has a `view`) is seen only as it
sent it: of that person's orders and returns it sees only its own; its history and consents read
as empty; for the club the person is not a member (the card, ledger, coupons and offers answer as
for any customer who is not a member) until the key enrolled them or was shown their card
(api.enrolment.partner_club_enrol); and the person is left out of segments and metrics, which are
computed from what others stored. Its webhooks follow the same rule (api.webhooks.outbox)."""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from api.models import ApiKey, PartnerCustomer
from campaigns.models import Segment
from campaigns.segments import segment_customers
from crm.models import Customer, Order
from feedback.models import ReturnRequest


def _shared_with(key: ApiKey, customer_ref: str) -> Exists:
    return Exists(PartnerCustomer.objects.filter(partner_id=key.partner_id, customer=OuterRef(customer_ref)))


def _seen_as_stored(key: ApiKey, customer_ref: str) -> Exists:
    return Exists(PartnerCustomer.objects.filter(partner_id=key.partner_id, customer=OuterRef(customer_ref),
                                                 view__isnull=True))


def seen_through_view(key: ApiKey, customer: Customer) -> bool:
    """A person the key found by identity (api.identity): all it sees is what it sent. That person's
    history, consents and club membership are other people's records: read as empty, or as not a member."""
    return key.own_data_only and PartnerCustomer.objects.filter(
        partner_id=key.partner_id, customer=customer, view__isnull=False).exists()


# In a view: the key sees the person's club membership (it brought them into the club, or was shown their card).
VIEW_CLUB = "_club"


def club_hidden(key: ApiKey, customer: Customer) -> bool:
    """A person the key sees through its view and whose club membership it was not let into: for the key,
    not a member, whoever enrolled them (the card, points and coupons are other people's records)."""
    if not key.own_data_only:
        return False
    view = (PartnerCustomer.objects.filter(partner_id=key.partner_id, customer=customer, view__isnull=False)
            .values_list("view", flat=True).first())
    return view is not None and not view.get(VIEW_CLUB)


def partner_order_source(partner_id: int) -> str:
    """Orders are unique per source: each partner numbers its own orders."""
    return f"partner:{partner_id}"


def partner_of_source(source: str) -> int | None:
    """The partner that sent an order with this source (partner_order_source), else None."""
    prefix, _sep, number = (source or "").partition(":")
    return int(number) if prefix == "partner" and number.isdigit() else None


def _own_orders(key: ApiKey, prefix: str = "") -> Q:
    customer_ref = f"{prefix}customer_id"
    return Q(_seen_as_stored(key, customer_ref)) | (
        Q(_shared_with(key, customer_ref)) & Q(**{f"{prefix}source": partner_order_source(key.partner_id)}))


def visible_customers_as_stored(key: ApiKey, queryset: QuerySet | None = None) -> QuerySet:
    """The customers the key sees as stored: all it sees, but for people it sees through a view."""
    queryset = Customer.objects.all() if queryset is None else queryset
    if key.own_data_only:
        queryset = queryset.filter(_seen_as_stored(key, "pk"))
    return queryset


def visible_customers(key: ApiKey, queryset: QuerySet | None = None) -> QuerySet:
    queryset = Customer.objects.all() if queryset is None else queryset
    if key.own_data_only:
        queryset = queryset.filter(_shared_with(key, "pk"))
    return queryset


def visible_orders(key: ApiKey, queryset: QuerySet | None = None) -> QuerySet:
    queryset = Order.objects.all() if queryset is None else queryset
    if key.own_data_only:
        queryset = queryset.filter(_own_orders(key))
    return queryset


def visible_returns(key: ApiKey, queryset: QuerySet | None = None) -> QuerySet:
    queryset = ReturnRequest.objects.all() if queryset is None else queryset
    if key.own_data_only:
        queryset = queryset.filter(Q(_seen_as_stored(key, "customer_id")) | (
            Q(_shared_with(key, "customer_id")) & Q(order__source=partner_order_source(key.partner_id))))
    return queryset


def visible_segment_sizes(key: ApiKey, segments: list[Segment]) -> dict[int, int | None]:
    """{segment id: size} as this key may know it.

    A key that sees every customer gets the size counted by the segment jobs (no count of a
    large table while a partner waits). An own-data-only key must not learn how many of the
    other customers a segment holds: it gets the number of its own customers in each segment,
    all the segments of a page counted in one statement."""
    if not key.own_data_only:
        return {segment.pk: segment.size for segment in segments}
    if not segments:
        return {}
    counts = visible_customers_as_stored(key).aggregate(**{
        f"s{segment.pk}": Count("pk", filter=Q(pk__in=segment_customers(segment).values("pk"))) for segment in segments
    })
    return {segment.pk: counts[f"s{segment.pk}"] for segment in segments}
