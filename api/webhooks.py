"""Webhooks for partners: subscriptions, the event fan-out (a transactional outbox), signing, delivery.

How an event reaches a partner:
1. A domain signal arrives (the receivers at the bottom, connected in ApiConfig.ready). Inside
   the event's own transaction (customer_created, order_created, response_submitted) or right
   after its commit (the club's signals, return_updated), `event_emit` writes one pending
   WebhookDelivery per active subscription that wants the event and may see its customer: the
   outbox. An order and its webhook rows commit together, or neither does.
2. On commit, one Celery task per row is queued. If the broker is down, the rows stay pending
   and due: the `api.webhooks_sweep` job (every minute) queues every due pending row again.
3. The task (`delivery_attempt`) locks the row, POSTs the signed JSON and records the answer:
   2xx -> delivered (never sent again); anything else -> pending again, due after an
   exponential backoff (API_WEBHOOK_RETRY_BASE_SECONDS doubling, capped), or failed once
   API_WEBHOOK_MAX_ATTEMPTS attempts have been made.

The body is `{"id": <event id>, "event": "order.created", "created_at": ..., "data": {...}}`;
`data` holds public ids only (a customer is its public id, an order its public id, a coupon its
code, as in the API). Headers: `X-Webhook-Id` (the event id, the same on every retry: receivers
deduplicate on it), `X-Webhook-Event`, `X-Webhook-Timestamp` (Unix seconds of this attempt) and
`X-Webhook-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}" with the subscription's secret>`.

URLs must be https:// to a public host. API_WEBHOOK_ALLOW_INSECURE_URLS (default: DEBUG) also
allows http:// and loopback/private addresses, for a receiver on a laptop or in tests.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from api.models import Partner, PartnerCustomer, WebhookDelivery, WebhookEvent, WebhookSubscription

log = logging.getLogger(__name__)

Status = WebhookDelivery.Status
SECRET_PREFIX = "whsec_"
# Event ids derived from a natural key (uuid5) make a repeated fan-out of the same event a no-op.
EVENT_NAMESPACE = uuid.UUID("0b7e2c4e-4f4a-4d8e-9a53-2f0d3c1f6a10")
USER_AGENT = "ClubCRM-Webhooks/1.0"

# The scope a key needs to subscribe to an event: the one that reads the same data through the API
# (any one of a tuple will do). Managing subscriptions itself needs no scope, only a valid key.
EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    WebhookEvent.CUSTOMER_CREATED: ("customers:read",),
    WebhookEvent.ORDER_CREATED: ("customers:read", "orders:write"),
    WebhookEvent.POINTS_EARNED: ("club:read",),
    WebhookEvent.TIER_CHANGED: ("club:read",),
    WebhookEvent.COUPON_ISSUED: ("club:read",),
    WebhookEvent.COUPON_REDEEMED: ("club:read", "coupons:redeem"),
    WebhookEvent.RETURN_UPDATED: ("returns:write",),
    WebhookEvent.SURVEY_ANSWERED: ("feedback:read",),
}


def _setting(name: str, default):
    return getattr(settings, name, default)


def max_attempts() -> int:
    return int(_setting("API_WEBHOOK_MAX_ATTEMPTS", 10))


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, 8... minutes, capped."""
    base = int(_setting("API_WEBHOOK_RETRY_BASE_SECONDS", 60))
    cap = int(_setting("API_WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def _queue_lease() -> timedelta:
    # A queued row is not due again until this has passed: the sweeper does not pile copies of
    # the same task onto a busy queue; a task lost with its worker is queued again after it.
    return timedelta(seconds=int(_setting("API_WEBHOOK_QUEUE_LEASE_SECONDS", 300)))


def _insecure_urls_allowed() -> bool:
    return bool(_setting("API_WEBHOOK_ALLOW_INSECURE_URLS", settings.DEBUG))


# --- Subscriptions -----------------------------------------------------------------------------


def events_clean(events) -> list[str]:
    """Known event names, each once, in the documented order; at least one."""
    if isinstance(events, str) or not isinstance(events, Iterable):
        raise ValidationError({"events": _("Give a list of event names.")})
    wanted = {str(event).strip() for event in events}
    unknown = sorted(wanted - set(WebhookEvent.values))
    if unknown:
        raise ValidationError({"events": _("Unknown events: %(unknown)s. Known events: %(known)s.")
                               % {"unknown": ", ".join(unknown), "known": ", ".join(WebhookEvent.values)}})
    if not wanted:
        raise ValidationError({"events": _("Subscribe to at least one event.")})
    return [event for event in WebhookEvent.values if event in wanted]


def events_missing_scope(events: Iterable[str], scopes: Iterable[str]) -> str | None:
    """The scope (or scopes, "a or b") lacking for the first event these scopes may not receive."""
    held = set(scopes)
    for event in events:
        needed = EVENT_SCOPES[event]
        if not held.intersection(needed):
            return " or ".join(needed)
    return None


def url_clean(url: str) -> str:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError({"url": _("Enter a valid http(s) URL.")}) from None
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise ValidationError({"url": _("The URL must not contain a user name or password.")})
    if not _insecure_urls_allowed():
        if parts.scheme != "https":
            raise ValidationError({"url": _("Webhook URLs must use https://.")})
        if _is_private_host(parts.hostname or ""):
            raise ValidationError({"url": _("Webhook URLs must point to a public host.")})
    return url


def _is_private_host(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def _destination_problem(url: str) -> str:
    """Why this URL may not be called now ("" if it may): in production its host must resolve to
    public addresses only, so a partner cannot make the CRM call into its own network."""
    if _insecure_urls_allowed():
        return ""
    host = urlsplit(url).hostname or ""
    if _is_private_host(host):
        return "The URL points to a private address."
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except OSError as error:
        return f"Cannot resolve {host}: {error}"
    if any(_is_private_host(address.split("%", 1)[0]) for address in addresses):
        return "The URL's host resolves to a private address."
    return ""


@transaction.atomic
def webhook_subscribe(*, partner: Partner, url: str, events, own_data_only: bool = False,
                      active: bool = True) -> WebhookSubscription:
    """A new subscription with a new signing secret (`subscription.secret`: show it to the partner once)."""
    url = url_clean(url)
    events = events_clean(events)
    # The partner row is the lock that keeps two concurrent requests from passing the limit together.
    Partner.objects.select_for_update().filter(pk=partner.pk).exists()
    limit = int(_setting("API_WEBHOOK_MAX_SUBSCRIPTIONS", 20))
    if WebhookSubscription.objects.filter(partner=partner).count() >= limit:
        raise ValidationError(_("A partner may have at most %(limit)s webhook subscriptions; delete one first.")
                              % {"limit": limit})
    return WebhookSubscription.objects.create(
        partner=partner, url=url, events=events, own_data_only=own_data_only, active=active,
        secret=SECRET_PREFIX + secrets.token_urlsafe(32),
    )


def webhook_unsubscribe(*, subscription: WebhookSubscription) -> None:
    """Delete the subscription and its deliveries (a queued task finds nothing to send)."""
    subscription.delete()


# --- Signing -----------------------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`: what a receiver recomputes and compares."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def delivery_body(delivery: WebhookDelivery) -> bytes:
    envelope = {"id": str(delivery.event_id), "event": delivery.event, "created_at": delivery.created_at.isoformat(),
                "data": delivery.payload}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


# --- The fan-out (the outbox) ------------------------------------------------------------------

# Which events have any active subscription, remembered for a few seconds per process: an import
# of 100,000 customers or a tier review must not ask once per row when nobody subscribed. A
# subscription made in this process clears it at once; in others it takes effect within the TTL.
_memo: tuple[float, frozenset[str]] = (float("-inf"), frozenset())


def subscribed_events_forget(**kwargs) -> None:
    global _memo
    _memo = (float("-inf"), frozenset())


def _subscribed_events() -> frozenset[str]:
    global _memo
    ttl = float(_setting("API_WEBHOOK_SUBSCRIBERS_CACHE_SECONDS", 5))
    now = time.monotonic()
    if now - _memo[0] < ttl:
        return _memo[1]
    events = frozenset(
        event
        for listed in WebhookSubscription.objects.filter(active=True, partner__active=True).values_list("events", flat=True)
        for event in (listed or [])
    )
    _memo = (now, events)
    return events


def _subscribers(event: str, customer_id: int | None, *, partner_id: int | None = None) -> list[WebhookSubscription]:
    """Active subscriptions to `event` that may see the customer: own-data-only ones only when
    their partner created the customer or it was shared with them (as api.scoping.visible_customers)."""
    subscriptions = WebhookSubscription.objects.filter(active=True, partner__active=True)
    if partner_id is not None:
        subscriptions = subscriptions.filter(partner_id=partner_id)
    if customer_id is None:
        subscriptions = subscriptions.filter(own_data_only=False)
    else:
        subscriptions = subscriptions.filter(
            Q(own_data_only=False)
            | Exists(PartnerCustomer.objects.filter(partner_id=OuterRef("partner_id"), customer_id=customer_id))
        )
    # `events` is a short JSON list; filtering it in Python works the same on SQLite and PostgreSQL.
    return [subscription for subscription in subscriptions.only("pk", "events") if event in (subscription.events or [])]


def event_emit(*, event: str, customer_id: int | None, data: Callable[[], dict], key: str | None = None,
               partner_id: int | None = None, own_data_only: bool | None = None, at: datetime | None = None) -> int:
    """Write a pending delivery for each subscription that wants this event, and queue them on commit.

    `data` builds the payload (only called when someone subscribed). `key` names the event
    (e.g. the order's public id): the same event emitted twice is stored once per subscription.
    Returns the number of subscriptions the event goes to."""
    if event not in _subscribed_events():
        return 0
    subscriptions = _subscribers(event, customer_id, partner_id=partner_id)
    if own_data_only is not None:
        subscriptions = [s for s in subscriptions if s.own_data_only == own_data_only]
    if not subscriptions:
        return 0
    at = at or timezone.now()
    event_id = uuid.uuid5(EVENT_NAMESPACE, f"{event}:{key}") if key is not None else uuid.uuid4()
    payload = json.loads(json.dumps(data(), default=str))  # UUIDs, Decimals, datetimes as strings
    WebhookDelivery.objects.bulk_create([
        WebhookDelivery(subscription_id=subscription.pk, event=event, event_id=event_id, payload=payload,
                        created_at=at, next_attempt_at=at + _queue_lease())
        for subscription in subscriptions
    ], ignore_conflicts=True)
    transaction.on_commit(lambda: _enqueue_event(event_id))
    return len(subscriptions)


def _enqueue_event(event_id: uuid.UUID) -> None:
    rows = WebhookDelivery.objects.filter(event_id=event_id, status=Status.PENDING, attempts=0).values_list("pk", "attempts")
    deliveries_enqueue(list(rows))


def deliveries_enqueue(rows: list[tuple[int, int]]) -> int:
    """Queue one delivery task per (delivery id, attempts so far). When the broker is down the rows
    are made due at once, so the next sweep queues them; nothing is lost. Returns how many were queued."""
    from api.tasks import deliver_webhook

    for index, (pk, attempts) in enumerate(rows):
        try:
            deliver_webhook.delay(pk, attempts)
        except (OperationalError, OSError):
            left = [row[0] for row in rows[index:]]
            log.warning("could not queue %s webhook deliveries; the sweeper will queue them again", len(left), exc_info=True)
            WebhookDelivery.objects.filter(pk__in=left, status=Status.PENDING).update(next_attempt_at=timezone.now())
            return index
    return len(rows)


def deliveries_requeue_due(*, now: datetime | None = None, limit: int | None = None) -> int:
    """The sweeper: queue again every pending delivery that is due (its queueing failed, its task was
    lost, or its retry time has come), oldest first, leasing each so the next sweep skips it."""
    now = now or timezone.now()
    limit = limit or int(_setting("API_WEBHOOK_SWEEP_BATCH", 1000))
    rows = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk").values_list("pk", "attempts")[:limit]
    )
    if not rows:
        return 0
    WebhookDelivery.objects.filter(pk__in=[pk for pk, _attempts in rows], status=Status.PENDING,
                                   next_attempt_at__lte=now).update(next_attempt_at=now + _queue_lease())
    return deliveries_enqueue(rows)


def deliveries_retry(*, delivery_ids: Iterable[int], now: datetime | None = None) -> int:
    """Staff's "retry now": one more attempt for pending or failed rows (never for a delivered one).
    A failed row that fails again is failed again; a pending one keeps its backoff."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.select_for_update().filter(pk__in=list(delivery_ids))
            .exclude(status=Status.DELIVERED).order_by("pk").values_list("pk", "attempts")
        )
        WebhookDelivery.objects.filter(pk__in=[pk for pk, _attempts in rows]).update(
            status=Status.PENDING, next_attempt_at=now + _queue_lease()
        )
        transaction.on_commit(lambda: deliveries_enqueue(rows))
    return len(rows)


def deliveries_purge(*, at: datetime | None = None) -> int:
    """Delete delivered and failed rows older than API_WEBHOOK_KEEP_DAYS."""
    at = at or timezone.now()
    cutoff = at - timedelta(days=int(_setting("API_WEBHOOK_KEEP_DAYS", 30)))
    deleted, _rows = WebhookDelivery.objects.filter(status__in=[Status.DELIVERED, Status.FAILED], created_at__lt=cutoff).delete()
    return deleted


# --- Delivery ----------------------------------------------------------------------------------


def delivery_attempt(*, delivery_id: int, expected_attempts: int | None = None, now: datetime | None = None) -> str:
    """Send one delivery once and record the outcome; returns the row's status, or "skipped".

    The row stays locked while the request is made, so a second copy of the task (a sweep, a
    redelivery) skips it instead of sending it again at the same time; `expected_attempts` (the
    count when the task was queued) makes a late copy skip a row that was tried meanwhile."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription__partner").filter(pk=delivery_id, status=Status.PENDING).first()
        )
        if delivery is None or (expected_attempts is not None and delivery.attempts != expected_attempts):
            return "skipped"
        subscription = delivery.subscription
        now = now or timezone.now()
        if not (subscription.active and subscription.partner.active):
            _record(delivery, now=now, status_code=None, error="The subscription or its partner is not active.", final=True)
        else:
            status_code, error = _post(delivery, subscription, now=now)
            _record(delivery, now=now, status_code=status_code, error=error)
        return delivery.status


def _post(delivery: WebhookDelivery, subscription: WebhookSubscription, *, now: datetime) -> tuple[int | None, str]:
    problem = _destination_problem(subscription.url)
    if problem:
        return None, problem
    body = delivery_body(delivery)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        "X-Webhook-Id": str(delivery.event_id), "X-Webhook-Event": delivery.event, "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": signature(subscription.secret, timestamp, body),
    }
    timeout = float(_setting("API_WEBHOOK_TIMEOUT_SECONDS", 5))
    with requests.Session() as session:
        session.trust_env = False  # no proxies or .netrc credentials from the environment
        try:
            response = session.post(subscription.url, data=body, headers=headers, timeout=timeout,
                                    allow_redirects=False, stream=True)
        except requests.RequestException as error:
            return None, f"{type(error).__name__}: {error}"
        with response:
            if 200 <= response.status_code < 300:
                return response.status_code, ""
            snippet = response.raw.read(200, decode_content=True) or b""
            return response.status_code, f"HTTP {response.status_code}: {snippet.decode(errors='replace')}".strip()


def _record(delivery: WebhookDelivery, *, now: datetime, status_code: int | None, error: str, final: bool = False) -> None:
    attempts = delivery.attempts + 1
    fields = {"attempts": attempts, "last_attempt_at": now, "last_status_code": status_code, "last_error": error[:500]}
    if status_code is not None and 200 <= status_code < 300:
        fields.update(status=Status.DELIVERED, delivered_at=now, last_error="")
    elif final or attempts >= max_attempts():
        fields.update(status=Status.FAILED)
    else:
        fields.update(next_attempt_at=now + retry_delay(attempts))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)


# --- Receivers of the domain's signals ----------------------------------------------------------


def _customer_public_id(customer_id: int | None):
    from crm.models import Customer

    if customer_id is None:
        return None
    return Customer.objects.filter(pk=customer_id).values_list("public_id", flat=True).first()


def on_customer_created(sender, customer, **kwargs) -> None:
    # Own-data-only subscriptions of the partner creating the customer through the API hear of it
    # when the link is written a moment later (on_partner_customer_saved), in the same transaction.
    event_emit(event=WebhookEvent.CUSTOMER_CREATED, customer_id=customer.pk, key=str(customer.public_id),
               data=lambda: _customer_data(customer))


def on_partner_customer_saved(sender, instance: PartnerCustomer, created: bool, raw: bool = False, **kwargs) -> None:
    if raw or not created or not instance.created:
        return
    customer = instance.customer
    event_emit(event=WebhookEvent.CUSTOMER_CREATED, customer_id=customer.pk, key=str(customer.public_id),
               partner_id=instance.partner_id, own_data_only=True, data=lambda: _customer_data(customer))


def _customer_data(customer) -> dict:
    return {"customer": customer.public_id, "external_ref": customer.external_ref or None, "created_at": customer.created_at}


def on_order_created(sender, order, **kwargs) -> None:
    event_emit(event=WebhookEvent.ORDER_CREATED, customer_id=order.customer_id, key=str(order.public_id), data=lambda: {
        "order": order.public_id, "order_number": order.order_number, "customer": _customer_public_id(order.customer_id),
        "status": order.status, "channel": order.channel, "currency": order.currency, "total": order.total,
        "placed_at": order.placed_at,
    })


def on_points_changed(sender, transaction, **kwargs) -> None:
    from club.models import PointsTransaction

    row = transaction
    if row.kind != PointsTransaction.Kind.EARN or row.points <= 0:
        return
    customer_id = row.member.customer_id
    event_emit(event=WebhookEvent.POINTS_EARNED, customer_id=customer_id, key=str(row.pk), data=lambda: {
        "customer": _customer_public_id(customer_id), "points": row.points, "source": row.source,
        "order": _order_public_id(row.order_id), "created_at": row.created_at,
    })


def _order_public_id(order_id: int | None):
    from crm.models import Order

    if order_id is None:
        return None
    return Order.objects.filter(pk=order_id).values_list("public_id", flat=True).first()


def on_tier_changed(sender, member, from_tier=None, to_tier=None, reason: str = "", **kwargs) -> None:
    event_emit(event=WebhookEvent.TIER_CHANGED, customer_id=member.customer_id, data=lambda: {
        "customer": _customer_public_id(member.customer_id), "from_tier": from_tier.name if from_tier else None,
        "to_tier": to_tier.name if to_tier else None, "reason": reason,
    })


def on_coupon_issued(sender, coupon, **kwargs) -> None:
    customer_id = coupon.member.customer_id
    event_emit(event=WebhookEvent.COUPON_ISSUED, customer_id=customer_id, key=str(coupon.pk), data=lambda: {
        "customer": _customer_public_id(customer_id), "code": coupon.code, "kind": coupon.kind, "offer": coupon.offer_id,
        "discount_kind": coupon.discount_kind, "value": coupon.value, "min_order_value": coupon.min_order_value,
        "valid_from": coupon.valid_from, "expires_at": coupon.expires_at,
    })


def on_coupon_redeemed(sender, coupon, redemption, **kwargs) -> None:
    customer_id = coupon.member.customer_id
    event_emit(event=WebhookEvent.COUPON_REDEEMED, customer_id=customer_id, key=str(redemption.pk), data=lambda: {
        "customer": _customer_public_id(customer_id), "code": coupon.code, "order": _order_public_id(redemption.order_id),
        "order_value": redemption.order_value, "discount": redemption.discount, "redeemed_at": redemption.redeemed_at,
    })


def on_return_updated(sender, return_request, **kwargs) -> None:
    request = return_request
    event_emit(event=WebhookEvent.RETURN_UPDATED, customer_id=request.customer_id, key=f"{request.public_id}:{request.state}",
               data=lambda: {
                   "return": request.public_id, "order": _order_public_id(request.order_id),
                   "customer": _customer_public_id(request.customer_id), "state": request.state,
                   "resolution": request.resolution, "refund_amount": request.refund_amount, "updated_at": request.updated_at,
               })


def on_response_submitted(sender, response, **kwargs) -> None:
    event_emit(event=WebhookEvent.SURVEY_ANSWERED, customer_id=response.customer_id, key=str(response.pk), data=lambda: {
        "survey": response.survey_id, "response": response.pk, "customer": _customer_public_id(response.customer_id),
        "submitted_at": response.submitted_at,
    })


def connect() -> None:
    from club import signals as club_signals
    from crm import signals as crm_signals
    from feedback import signals as feedback_signals

    pairs = [
        (crm_signals.customer_created, on_customer_created),
        (crm_signals.order_created, on_order_created),
        (club_signals.points_changed, on_points_changed),
        (club_signals.tier_changed, on_tier_changed),
        (club_signals.coupon_issued, on_coupon_issued),
        (club_signals.coupon_redeemed, on_coupon_redeemed),
        (feedback_signals.return_updated, on_return_updated),
        (feedback_signals.response_submitted, on_response_submitted),
    ]
    for signal, receiver in pairs:
        signal.connect(receiver, dispatch_uid=f"api.webhooks.{receiver.__name__}")
    post_save.connect(on_partner_customer_saved, sender=PartnerCustomer, dispatch_uid="api.webhooks.partner_customer")
    for model in (WebhookSubscription, Partner):
        post_save.connect(subscribed_events_forget, sender=model, dispatch_uid=f"api.webhooks.forget.save.{model.__name__}")
        post_delete.connect(subscribed_events_forget, sender=model, dispatch_uid=f"api.webhooks.forget.delete.{model.__name__}")
