"""Writes of the partner API: partners, keys, the customers a partner may see, idempotency records,
batches of orders and custom club events."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.keys import api_keys_forget
from api.models import ApiCall, ApiKey, IdempotencyRecord, Partner, PartnerCustomer
from api.scopes import scopes_clean
from api.scoping import visible_customers
from club import services as club_services
from club.exceptions import LimitReached
from club.models import Membership, PointsTransaction
from crm import services as crm_services
from crm.models import Customer, Order


def api_key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def partner_create(*, name: str, contact: str = "") -> Partner:
    partner = Partner(name=(name or "").strip(), contact=contact)
    partner.full_clean()
    partner.save()
    return partner


@transaction.atomic
def api_key_create(
    *, partner: Partner, scopes, own_data_only: bool = False, expires_at: datetime | None = None, name: str = ""
) -> tuple[ApiKey, str]:
    """A new key and its full text `<prefix>.<secret>`, which is never stored and cannot be shown again."""
    scopes = scopes_clean(scopes)
    for _attempt in range(5):
        prefix = secrets.token_hex(ApiKey.PREFIX_LENGTH // 2)
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    else:
        raise RuntimeError("Could not find a free key prefix.")
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        partner=partner, name=name, prefix=prefix, hashed_key=api_key_hash(secret), scopes=scopes,
        own_data_only=own_data_only, expires_at=expires_at,
    )
    return key, f"{prefix}.{secret}"


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_keys_forget()
    key.refresh_from_db(fields=["revoked_at"])
    return key


def api_key_touch(*, key: ApiKey, at: datetime | None = None) -> None:
    """Record that the key was used, at most once a minute: a busy till must not write on every call."""
    at = at or timezone.now()
    resolution = timedelta(seconds=settings.API_KEY_LAST_USED_RESOLUTION_SECONDS)
    if key.last_used_at is not None and at - key.last_used_at < resolution:
        return
    ApiKey.objects.filter(pk=key.pk).exclude(last_used_at__gt=at - resolution).update(last_used_at=at)
    key.last_used_at = at


def partner_customer_share(*, partner: Partner, customer: Customer, created: bool = False) -> PartnerCustomer:
    link, _new = PartnerCustomer.objects.get_or_create(partner=partner, customer=customer, defaults={"created": created})
    return link


@transaction.atomic
def partner_customer_create(*, partner: Partner, **values: Any) -> Customer:
    """Create a customer for a partner (crm.services.customer_create) and let the partner see it."""
    customer = crm_services.customer_create(consent_source="api", **values)
    partner_customer_share(partner=partner, customer=customer, created=True)
    return customer


# --- Idempotency-Key ---------------------------------------------------------------------------


def idempotency_claim(*, key: ApiKey, idempotency_key: str, method: str, path: str, request_hash: str
                      ) -> tuple[IdempotencyRecord, bool]:
    """Insert the record in its own committed transaction, so a concurrent retry sees it at once.

    Returns (record, claimed): claimed is False when another request already owns the key
    (finished or still running). Records older than API_IDEMPOTENCY_TTL_HOURS, and claims
    abandoned by a crashed request, are taken over."""
    now = timezone.now()
    ttl = timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    stale = timedelta(seconds=settings.API_IDEMPOTENCY_STALE_SECONDS)
    values = {"method": method, "path": path[:500], "request_hash": request_hash}
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(api_key=key, key=idempotency_key, created_at=now, **values), True
        except IntegrityError:
            pass
        record = IdempotencyRecord.objects.filter(api_key=key, key=idempotency_key).first()
        if record is None:
            continue
        expired = record.created_at < now - ttl or (record.status_code is None and record.created_at < now - stale)
        if not expired:
            return record, False
        # Take the old row over with a conditional UPDATE: of two retries, one wins. The status is
        # part of the condition: a stale claim that its request completes meanwhile (the UPDATE
        # waits for that transaction, then re-reads the row) is replayed, not run a second time.
        if IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at, status_code=record.status_code).update(
            created_at=now, status_code=None, response_body=None, completed_at=None, **values
        ):
            record.refresh_from_db()
            return record, True
    raise RuntimeError("Could not claim the idempotency key.")


def idempotency_complete(*, record: IdempotencyRecord, status_code: int, body) -> bool:
    """Store the response on the claim this request holds. Called inside the transaction of the
    request's work, so the work and the stored response commit together or not at all.

    False when the claim is no longer this request's (it went stale and a retry took it over):
    the caller must then roll its work back."""
    return bool(IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at, status_code__isnull=True).update(
        status_code=status_code, response_body=body, completed_at=timezone.now()
    ))


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """The request failed before it produced a response: let a retry run it again.

    Only this request's own claim is deleted, never one a retry has taken over since."""
    IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at, status_code__isnull=True).delete()


def idempotency_purge(*, at: datetime | None = None) -> int:
    at = at or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=at - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)).delete()
    return deleted


def api_calls_purge(*, at: datetime | None = None) -> int:
    at = at or timezone.now()
    deleted, _ = ApiCall.objects.filter(at__lt=at - timedelta(days=settings.API_CALL_LOG_DAYS)).delete()
    return deleted


# --- Batches of orders -------------------------------------------------------------------------

BATCH_MAX_ORDERS = 1000


class BatchInvalid(Exception):
    """Items of an all-or-nothing batch are invalid; nothing was written.

    `errors` maps each bad item's index in the batch to its field errors ({"field": ["message"]})."""

    def __init__(self, errors: dict[int, dict[str, list[str]]]):
        super().__init__(f"{len(errors)} invalid item(s)")
        self.errors = dict(sorted(errors.items()))


def partner_orders_create(
    *, key: ApiKey, source: str, orders: dict[int, dict], errors: dict[int, dict[str, list[str]]] | None = None
) -> list[Order]:
    """Create a batch of orders for a partner, all or nothing, through crm.services.orders_create (the one
    road every order takes: lines, products, the customers' figures, points, tiers and webhooks).

    `orders` maps each item's index in the batch to its checked values (as OrderSerializer gives them);
    `errors` holds what the caller's own checks found in the other items. Every item is checked before
    anything is written - the customer exists and this key may see it, then crm's checks (the order
    number is not repeated in the batch nor stored already for `source`) - and BatchInvalid lists every
    item's errors; then nothing is stored. Returns the orders in batch order."""
    errors = {index: dict(found) for index, found in (errors or {}).items()}
    wanted = {values["customer"]["public_id"] for values in orders.values()}
    customers = {customer.public_id: customer for customer in visible_customers(key).filter(public_id__in=wanted).only("pk", "public_id")}
    inputs, positions = [], []
    for index, values in sorted(orders.items()):
        values = dict(values)
        customer = customers.get(values.pop("customer")["public_id"])
        if customer is None:
            errors.setdefault(index, {}).setdefault("customer", []).append(_("No such customer."))
            continue
        lines = tuple(crm_services.LineInput(**line) for line in values.pop("lines", []))
        inputs.append(crm_services.OrderInput(customer_id=customer.pk, customer=customer, lines=lines, **values))
        positions.append(index)
    try:
        if errors:
            crm_services.orders_check(inputs, source=source)  # to report the others' errors too
            raise BatchInvalid(errors)
        return crm_services.orders_create(orders=inputs, source=source)
    except crm_services.OrdersInvalid as invalid:
        for position, found in invalid.errors.items():
            for field, messages in found.items():
                errors.setdefault(positions[position], {}).setdefault(field, []).extend(messages)
        raise BatchInvalid(errors) from None


# --- Custom club events -------------------------------------------------------------------------


@dataclass(frozen=True)
class EventOutcome:
    """What a custom event earned: the ledger row, or 0 points and the reason why none."""

    points: int
    transaction: PointsTransaction | None
    reason: str = ""
    message: str = ""
    balance: int = 0


def club_event_earn(*, key: ApiKey, member: Membership, event: str, reference: str) -> EventOutcome:
    """Apply the club's earning rule for a partner's custom event (club.services.points_award_for_event).

    The reference makes a retried event earn once; it is the partner's own, so two partners
    using the same reference do not collide. An unknown event is a ValidationError (400); a
    rule's limit that stops the event earns 0 points with the reason."""
    reason = message = ""
    try:
        row = club_services.points_award_for_event(
            member=member, event=event, idempotency_key=f"partner:{key.partner_id}:{reference}"
        )
    except LimitReached as exc:
        row, reason, message = None, exc.code, exc.message
    if row is None and not reason:
        reason, message = "no_points", _("This event earns no points at the moment.")
    balance = Membership.objects.values_list("points_balance", flat=True).get(pk=member.pk)
    return EventOutcome(points=row.points if row else 0, transaction=row, reason=reason, message=message, balance=balance)
