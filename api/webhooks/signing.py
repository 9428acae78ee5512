"""What a receiver verifies: the body of a delivery and its signature.

The body is `{"id": <event id>, "event": "order.created", "created_at": ..., "data": {...}}`.
`X-Webhook-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}" with the subscription's secret>`,
where the timestamp is the `X-Webhook-Timestamp` header (Unix seconds of this attempt)."""

import hashlib
import hmac
import json

from api.models import WebhookDelivery


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`: what a receiver recomputes and compares."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def delivery_body(delivery: WebhookDelivery) -> bytes:
    envelope = {"id": str(delivery.event_id), "event": delivery.event, "created_at": delivery.created_at.isoformat(),
                "data": delivery.payload}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()
