"""One delivery attempt: claim the row, POST the signed body to the address that was checked, record the answer.

2xx -> delivered (never sent again); anything else -> pending again, due after an exponential
backoff (API_WEBHOOK_RETRY_BASE_SECONDS doubling, capped), or failed once API_WEBHOOK_MAX_ATTEMPTS
attempts have been made. Redirects are not followed (a 3xx is a failed attempt).

The host is resolved once (api.webhooks.subscriptions.destination_resolve) and the connection is
made to exactly that address, with the URL's host name in the Host header, in TLS SNI and as the
name the certificate must carry: a second DNS answer cannot send the request elsewhere.
"""

from dataclasses import dataclass
from datetime import datetime

import time

import certifi
import urllib3
from django.db import transaction
from django.utils import timezone

from api.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from api.webhooks.outbox import max_attempts, retry_delay
from api.webhooks.signing import delivery_body, signature
from api.webhooks.subscriptions import Destination, DestinationRefused, destination_resolve, setting

Status = WebhookDelivery.Status
USER_AGENT = "ClubCRM-Webhooks/1.0"
EXCERPT_BYTES = 200


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str = ""
    excerpt: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


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
        started = time.monotonic()
        if not (subscription.active and subscription.partner.active):
            outcome, final = Outcome(None, "The subscription or its partner is not active."), True
        else:
            outcome, final = delivery_post(delivery=delivery, subscription=subscription, now=now), False
        duration_ms = round((time.monotonic() - started) * 1000)
        delivery_record(delivery=delivery, now=now, outcome=outcome, duration_ms=duration_ms, final=final)
        return delivery.status


def delivery_post(*, delivery: WebhookDelivery, subscription: WebhookSubscription, now: datetime) -> Outcome:
    try:
        destination = destination_resolve(subscription.url)
    except DestinationRefused as refused:
        return Outcome(None, str(refused))
    body = delivery_body(delivery)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        "X-Webhook-Id": str(delivery.event_id), "X-Webhook-Event": delivery.event, "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": signature(subscription.secret, timestamp, body),
    }
    return post_pinned(destination, body=body, headers=headers)


def pinned_pool(destination: Destination, *, timeout: float) -> urllib3.HTTPConnectionPool:
    """A connection pool to the checked address only. For https the certificate is verified for
    the host name (not the address) and SNI names the host, as a normal request would."""
    common = {"port": destination.port, "timeout": urllib3.Timeout(connect=timeout, read=timeout), "retries": False,
              "maxsize": 1}
    if destination.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            destination.address, server_hostname=destination.host, assert_hostname=destination.host,
            cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(), **common,
        )
    return urllib3.HTTPConnectionPool(destination.address, **common)


def post_pinned(destination: Destination, *, body: bytes, headers: dict[str, str]) -> Outcome:
    timeout = float(setting("API_WEBHOOK_TIMEOUT_SECONDS", 5))
    # No proxies and no .netrc: urllib3 reads neither from the environment.
    with pinned_pool(destination, timeout=timeout) as pool:
        try:
            response = pool.urlopen("POST", destination.target, body=body,
                                    headers={**headers, "Host": destination.host_header},
                                    redirect=False, retries=False, assert_same_host=False, preload_content=False)
        except urllib3.exceptions.HTTPError as error:
            return Outcome(None, f"{type(error).__name__}: {error}")
        try:
            excerpt = (response.read(EXCERPT_BYTES, decode_content=True) or b"").decode(errors="replace")
        except urllib3.exceptions.HTTPError:
            excerpt = ""
        finally:
            response.release_conn()
    if 200 <= response.status < 300:
        return Outcome(response.status, "", excerpt)
    return Outcome(response.status, f"HTTP {response.status}: {excerpt}".strip(), excerpt)


def delivery_record(*, delivery: WebhookDelivery, now: datetime, outcome: Outcome, duration_ms: int = 0,
                    final: bool = False) -> None:
    """The outcome on the delivery and one attempt row, together (the caller's transaction)."""
    attempts = delivery.attempts + 1
    limit = WebhookDeliveryAttempt.TEXT_LIMIT
    WebhookDeliveryAttempt.objects.create(
        delivery=delivery, number=attempts, started_at=now, duration_ms=duration_ms, status_code=outcome.status_code,
        error=outcome.error[:limit], response_excerpt=outcome.excerpt[:limit],
    )
    fields = {"attempts": attempts, "last_attempt_at": now, "last_status_code": outcome.status_code,
              "last_error": outcome.error[:500]}
    if outcome.ok:
        fields.update(status=Status.DELIVERED, delivered_at=now, last_error="")
    elif final or attempts >= max_attempts():
        fields.update(status=Status.FAILED)
    else:
        fields.update(next_attempt_at=now + retry_delay(attempts))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)
