"""The fan-out (a transactional outbox): one pending WebhookDelivery per subscription that wants an
event, written in the event's transaction; queueing, the sweeper, staff's retry and the purge.

Inside the event's own transaction (customer_created, orders_created and the points and tier changes a
batch of orders brings, response_submitted) or right after its commit (a single change of points, tier or
coupon, return_updated), `events_emit` writes the rows: an order, its points and their webhook rows commit
together, or none does. On PostgreSQL a batch's rows are written by one
INSERT ... SELECT over arrays of its events and their (event, subscription) pairs, no row object
built in Python; elsewhere by one bulk insert. One row per subscription stays the unit of delivery:
each has its own attempts, backoff, status and staff's retry. On commit, one Celery task per row is queued;
if the broker is down, the rows stay pending and due, and the `api.webhooks_sweep` job (every
minute) queues every due pending row again.
"""

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone
from kombu.exceptions import OperationalError

from api.models import PartnerCustomer, WebhookDelivery, WebhookSubscription
from api.webhooks.subscriptions import setting
from core.remembered import forget, remembered
from core.rows import instances_insert

log = logging.getLogger(__name__)

Status = WebhookDelivery.Status
# Event ids derived from a natural key (uuid5) make a repeated fan-out of the same event a no-op.
EVENT_NAMESPACE = uuid.UUID("0b7e2c4e-4f4a-4d8e-9a53-2f0d3c1f6a10")
SUBSCRIPTIONS_CACHE_KEY = "api.webhooks.subscriptions"


def max_attempts() -> int:
    return int(setting("API_WEBHOOK_MAX_ATTEMPTS", 10))


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, 8... minutes, capped."""
    base = int(setting("API_WEBHOOK_RETRY_BASE_SECONDS", 60))
    cap = int(setting("API_WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def queue_lease() -> timedelta:
    # A queued row is not due again until this has passed: the sweeper does not pile copies of
    # the same task onto a busy queue; a task lost with its worker is queued again after it.
    return timedelta(seconds=int(setting("API_WEBHOOK_QUEUE_LEASE_SECONDS", 300)))


# --- Who subscribed to what -----------------------------------------------------------------------
# The active subscriptions (a few rows) are remembered in Django's cache (core.remembered) for
# API_WEBHOOK_SUBSCRIBERS_CACHE_SECONDS (5): an import of 100,000 customers or a tier review must not ask
# once per row when nobody subscribed, and each event of a batch finds its subscribers without a query.
# Saving or deleting a subscription or a partner forgets them (in every process when the cache is shared,
# CACHE_URL).


def active_subscriptions() -> list[tuple[int, int, bool, list[str]]]:
    """(id, partner id, own data only, events) of every active subscription of an active partner, by id."""
    return remembered(SUBSCRIPTIONS_CACHE_KEY, int(setting("API_WEBHOOK_SUBSCRIBERS_CACHE_SECONDS", 5)), lambda: [
        (pk, partner_id, own_data_only, list(events or [])) for pk, partner_id, own_data_only, events in
        WebhookSubscription.objects.filter(active=True, partner__active=True).order_by("pk")
        .values_list("pk", "partner_id", "own_data_only", "events")])


def subscribed_events() -> frozenset[str]:
    return frozenset(event for *_subscription, events in active_subscriptions() for event in events)


def subscribed_events_forget(**kwargs) -> None:
    forget(SUBSCRIPTIONS_CACHE_KEY)


# --- The fan-out --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Emission:
    """One event about one thing: whose it is (for own-data-only subscriptions), its natural key
    (the same key twice is one event) and the subject the payload is rendered from."""

    customer_id: int | None
    subject: object = None
    key: str | None = None
    # The partner whose own record the subject is (an order it sent, a return of such an order): the only
    # own-data-only partner told about it when it sees the customer through its view (api.identity).
    owner_partner_id: int | None = None


def subscribers_for(event: str, customer_ids: Iterable[int | None], *, partner_id: int | None = None,
                    own_data_only: bool | None = None) -> dict[int | None, list[tuple[int, int | None]]]:
    """The subscriptions that may get `event` for each customer (the remembered subscriptions, and one query
    for the links of own-data-only ones, whatever the number of customers), as (subscription id, partner id
    when it sees the customer only through its view, else None): own-data-only subscriptions only when their partner created the customer or it was shared with them
    (as api.scoping.visible_customers). A view-only one gets only events about its own records
    (`Emission.owner_partner_id`, see `recipients_of`)."""
    wanting = [row for row in active_subscriptions() if event in row[3]
               and (partner_id is None or row[1] == partner_id) and (own_data_only is None or row[2] == own_data_only)]
    customer_ids = set(customer_ids)
    own_partners = {partner for _pk, partner, own, _events in wanting if own}
    linked: dict[tuple[int, int], bool] = {}  # (partner, customer) -> seen through a view
    if own_partners and customer_ids - {None}:
        links = PartnerCustomer.objects.filter(partner_id__in=own_partners, customer_id__in=customer_ids - {None})
        linked = {(partner, customer): through_view for partner, customer, through_view in links.annotate(
            through_view=ExpressionWrapper(Q(view__isnull=False), output_field=BooleanField()),
        ).values_list("partner_id", "customer_id", "through_view")}
    return {
        customer_id: [(pk, partner if own and linked[(partner, customer_id)] else None)
                      for pk, partner, own, _events in wanting if not own or (partner, customer_id) in linked]
        for customer_id in customer_ids
    }


def recipients_of(emission: Emission, subscribers: dict[int | None, list[tuple[int, int | None]]]) -> list[int]:
    """The subscriptions told of this emission: a partner that sees the customer through its view only
    of what it sent itself (the person's other orders, points, tiers and coupons are not its to read)."""
    return [pk for pk, view_partner in subscribers[emission.customer_id]
            if view_partner is None or view_partner == emission.owner_partner_id]


def events_emit(*, event: str, emissions: Sequence[Emission], render: Callable[[list], list[dict]],
                partner_id: int | None = None, own_data_only: bool | None = None, at: datetime | None = None,
                deferrable: bool = False) -> int:
    """Write a pending delivery per subscription that wants each event, and queue them on commit.

    `render` turns the subjects into their payloads, all at once (only called when someone
    subscribed), so a batch costs the same few queries as one event. A `deferrable` event (its
    subjects are rows the renderer loads again by id) of API_WEBHOOK_RENDER_IN_WORKER_AT events or
    more is written without its payloads: the worker renders them before the first attempt
    (payloads_render), so a file of 5,000 orders does not render 10,000 payloads inside its
    transaction. Returns the number of rows."""
    if event not in subscribed_events() or not emissions:
        return 0
    subscribers = subscribers_for(event, {emission.customer_id for emission in emissions},
                                  partner_id=partner_id, own_data_only=own_data_only)
    recipients = [recipients_of(emission, subscribers) for emission in emissions]
    wanted = [(emission, told) for emission, told in zip(emissions, recipients) if told]
    if not wanted:
        return 0
    at = at or timezone.now()
    deferred = deferrable and len(wanted) >= int(setting("API_WEBHOOK_RENDER_IN_WORKER_AT", 200))
    if deferred:
        payloads = [None] * len(wanted)
    else:
        payloads = payloads_json(render([emission.subject for emission, _told in wanted]))
    event_ids = [uuid.uuid5(EVENT_NAMESPACE, f"{event}:{emission.key}") if emission.key is not None else uuid.uuid4()
                 for emission, _told in wanted]
    subject_ids = [emission.subject.pk if deferred else None for emission, _told in wanted]
    if connection.vendor == "postgresql":
        count, written = _deliveries_insert_select(event, event_ids, payloads, subject_ids,
                                                   [told for _emission, told in wanted], at)
        # The rows just written are queued as they are: no look-up among every pending delivery after the commit.
        if written:  # a replayed batch may write nothing: no trip to the broker then
            transaction.on_commit(lambda: deliveries_enqueue(written))
    else:
        rows = [
            WebhookDelivery(subscription_id=subscription_id, event=event, event_id=event_id, payload=payload,
                            subject_id=subject_id, created_at=at, next_attempt_at=at + queue_lease())
            for (_emission, told), event_id, payload, subject_id in zip(wanted, event_ids, payloads, subject_ids, strict=True)
            for subscription_id in told
        ]
        instances_insert(rows, ignore_conflicts=True)
        count = len(rows)
        transaction.on_commit(lambda: events_enqueue(event_ids))
    return count


def _deliveries_insert_select(event: str, event_ids: list[uuid.UUID], payloads: list, subject_ids: list[int | None],
                              recipients: list[list[int]], at: datetime) -> tuple[int, list[tuple[int, int, int]]]:
    """The outbox rows of a batch of events in one INSERT ... SELECT (PostgreSQL): the events as arrays
    joined to their (event, subscription) pairs, so no row object is built in Python. Returns the
    number of rows meant (as the portable road: a row already there is skipped, not counted out), and the
    rows written as `deliveries_enqueue` takes them (id, attempts, subscription id)."""
    pairs_event = [index for index, told in enumerate(recipients, start=1) for _subscription in told]
    pairs_subscription = [subscription for told in recipients for subscription in told]
    encoder = WebhookDelivery._meta.get_field("payload").encoder
    payload_texts = [None if payload is None else json.dumps(payload, cls=encoder) for payload in payloads]
    table = WebhookDelivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (subscription_id, event, event_id, payload, subject_id, status, attempts, "  # nosec B608 - the model's own table; values are parameters
            "next_attempt_at, last_attempt_at, last_status_code, last_error, delivered_at, created_at) "
            "SELECT t.subscription_id, %s, e.event_id, e.payload, e.subject_id, %s, 0, %s, NULL, NULL, '', NULL, %s "
            "FROM unnest(%s::uuid[], %s::text[]::jsonb[], %s::bigint[]) WITH ORDINALITY AS e(event_id, payload, subject_id, n) "
            "JOIN unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS t(n, subscription_id, k) ON t.n = e.n "
            "ORDER BY t.k ON CONFLICT DO NOTHING RETURNING id, attempts, subscription_id",
            [event, Status.PENDING, at + queue_lease(), at, event_ids, payload_texts, subject_ids, pairs_event, pairs_subscription],
        )
        written = sorted(cursor.fetchall())
    return len(pairs_subscription), written


def payloads_json(payloads: list[dict]) -> list[dict]:
    """UUIDs, Decimals, datetimes as strings: the JSON the receiver gets."""
    return json.loads(json.dumps(payloads, default=str))


def event_emit(*, event: str, customer_id: int | None, data: Callable[[], dict], key: str | None = None,
               partner_id: int | None = None, own_data_only: bool | None = None, at: datetime | None = None) -> int:
    """One event whose payload `data()` builds (only called when someone subscribed)."""
    return events_emit(event=event, emissions=[Emission(customer_id=customer_id, key=key)],
                       render=lambda subjects: [data()], partner_id=partner_id, own_data_only=own_data_only, at=at)


def events_enqueue(event_ids: list[uuid.UUID]) -> int:
    rows = WebhookDelivery.objects.filter(event_id__in=event_ids, status=Status.PENDING, attempts=0) \
        .order_by("pk").values_list("pk", "attempts", "subscription_id")
    return deliveries_enqueue(list(rows))


def deliveries_enqueue(rows: list[tuple[int, int, int]]) -> int:
    """Queue the deliveries (delivery id, attempts so far, subscription id): one task per subscription and
    chunk of API_WEBHOOK_TASK_CHUNK deliveries, so a batch of 1,000 orders queues a few tasks rather than
    thousands, and a slow endpoint only delays its own deliveries. When the broker is down the rows are made
    due at once, so the next sweep queues them; nothing is lost. Returns how many were queued."""
    from api.tasks import deliver_webhooks

    size = int(setting("API_WEBHOOK_TASK_CHUNK", 50))
    by_subscription: dict[int, list[list[int]]] = {}
    for pk, attempts, subscription_id in rows:
        by_subscription.setdefault(subscription_id, []).append([pk, attempts])
    chunks = [deliveries[start:start + size] for deliveries in by_subscription.values()
              for start in range(0, len(deliveries), size)]
    queued: set[int] = set()
    try:
        # One connection to the broker for all the chunks.
        with deliver_webhooks.app.producer_or_acquire() as producer:
            for chunk in chunks:
                # A short argsrepr: Celery would otherwise format every [id, attempts] pair of the chunk for its
                # monitoring events, a third of the queueing's time for a batch.
                deliver_webhooks.apply_async((chunk,), producer=producer,
                                             argsrepr=f"({len(chunk)} deliveries from {chunk[0][0]})")
                queued.update(pk for pk, _attempts in chunk)
    except (OperationalError, OSError):
        left = [pk for pk, _attempts, _subscription in rows if pk not in queued]
        log.warning("could not queue %s webhook deliveries; the sweeper will queue them again", len(left), exc_info=True)
        WebhookDelivery.objects.filter(pk__in=left, status=Status.PENDING).update(next_attempt_at=timezone.now())
    return len(queued)


def deliveries_requeue_due(*, now: datetime | None = None, limit: int | None = None) -> int:
    """The sweeper: queue again every pending delivery that is due (its queueing failed, its task was
    lost, or its retry time has come), oldest first, leasing each so the next sweep skips it."""
    now = now or timezone.now()
    limit = limit or int(setting("API_WEBHOOK_SWEEP_BATCH", 1000))
    rows = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk").values_list("pk", "attempts", "subscription_id")[:limit]
    )
    if not rows:
        return 0
    WebhookDelivery.objects.filter(pk__in=[row[0] for row in rows], status=Status.PENDING,
                                   next_attempt_at__lte=now).update(next_attempt_at=now + queue_lease())
    return deliveries_enqueue(rows)


def deliveries_retry(*, delivery_ids: Iterable[int], now: datetime | None = None) -> int:
    """Staff's "retry now": one more attempt for pending or failed rows (never for a delivered one).
    A failed row that fails again is failed again; a pending one keeps its backoff."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.select_for_update().filter(pk__in=list(delivery_ids))
            .exclude(status=Status.DELIVERED).order_by("pk").values_list("pk", "attempts", "subscription_id")
        )
        WebhookDelivery.objects.filter(pk__in=[row[0] for row in rows]).update(
            status=Status.PENDING, next_attempt_at=now + queue_lease()
        )
        transaction.on_commit(lambda: deliveries_enqueue(rows))
    return len(rows)


def deliveries_purge(*, at: datetime | None = None) -> int:
    """Delete delivered and failed rows older than API_WEBHOOK_KEEP_DAYS."""
    at = at or timezone.now()
    cutoff = at - timedelta(days=int(setting("API_WEBHOOK_KEEP_DAYS", 30)))
    _total, by_model = WebhookDelivery.objects.filter(status__in=[Status.DELIVERED, Status.FAILED],
                                                      created_at__lt=cutoff).delete()
    return by_model.get(WebhookDelivery._meta.label, 0)  # the deliveries; their attempts go with them
