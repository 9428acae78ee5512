"""Webhooks for partners, by subdomain:

- `subscriptions`: which events a key may subscribe to, URL validation and destination safety,
  the subscribe/unsubscribe services;
- `outbox`: the fan-out of an event into pending deliveries (in the event's transaction), queueing,
  the sweeper, staff's retry, the purge;
- `delivery`: one attempt (claim, POST to the checked address, record);
- `signing`: the body and its HMAC signature;
- `events`: the receivers of the domain's signals and the payloads they carry.

The body is `{"id": <event id>, "event": "order.created", "created_at": ..., "data": {...}}`.
Headers: `X-Webhook-Id` (the event id, the same on every retry: receivers deduplicate on it),
`X-Webhook-Event`, `X-Webhook-Timestamp` (Unix seconds of this attempt) and
`X-Webhook-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}" with the subscription's secret>`.

The names below are what other modules (views, admin, tasks, jobs, tests) use.
"""

from django.core.exceptions import ValidationError

from api.webhooks.delivery import USER_AGENT, delivery_attempt
from api.webhooks.events import (
    RENDERERS,
    connect,
    event_announce,
    on_coupon_issued,
    on_coupon_redeemed,
    on_customer_created,
    on_orders_created,
    on_partner_customer_saved,
    on_points_changed,
    on_points_earned,
    on_response_submitted,
    on_return_updated,
    on_tier_changed,
    on_tiers_changed,
    payloads_render,
)
from api.webhooks.outbox import (
    EVENT_NAMESPACE,
    Emission,
    deliveries_enqueue,
    deliveries_purge,
    deliveries_requeue_due,
    deliveries_retry,
    event_emit,
    events_emit,
    max_attempts,
    retry_delay,
    subscribed_events,
    subscribed_events_forget,
)
from api.webhooks.signing import delivery_body, signature
from api.webhooks.subscriptions import (
    EVENT_SCOPES,
    SECRET_PREFIX,
    events_clean,
    events_missing_scope,
    url_clean,
    webhook_subscribe,
    webhook_unsubscribe,
)

__all__ = [
    "RENDERERS", "event_announce", "EVENT_NAMESPACE", "EVENT_SCOPES", "SECRET_PREFIX", "USER_AGENT", "Emission", "ValidationError", "connect",
    "deliveries_enqueue", "deliveries_purge", "deliveries_requeue_due", "deliveries_retry", "delivery_attempt",
    "delivery_body", "event_emit", "events_clean", "events_emit", "events_missing_scope", "max_attempts",
    "on_coupon_issued", "on_coupon_redeemed", "on_customer_created", "on_orders_created", "on_partner_customer_saved",
    "on_points_changed", "on_points_earned", "payloads_render", "on_response_submitted", "on_return_updated",
    "on_tier_changed", "on_tiers_changed", "retry_delay", "signature",
    "subscribed_events", "subscribed_events_forget", "url_clean", "webhook_subscribe", "webhook_unsubscribe",
]
