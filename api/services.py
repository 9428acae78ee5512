"""Writes of the partner API: partners, keys, the customers a partner may see, idempotency records."""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from api.models import ApiCall, ApiKey, IdempotencyRecord, Partner, PartnerCustomer
from api.scopes import scopes_clean
from crm import services as crm_services
from crm.models import Customer


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
        # Take the old row over with a conditional UPDATE: of two retries, one wins.
        if IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at).update(
            created_at=now, status_code=None, response_body=None, completed_at=None, **values
        ):
            record.refresh_from_db()
            return record, True
    raise RuntimeError("Could not claim the idempotency key.")


def idempotency_complete(*, record: IdempotencyRecord, status_code: int, body) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True).update(
        status_code=status_code, response_body=body, completed_at=timezone.now()
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """The request failed before it produced a response: let a retry run it again."""
    IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True).delete()


def idempotency_purge(*, at: datetime | None = None) -> int:
    at = at or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=at - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)).delete()
    return deleted


def api_calls_purge(*, at: datetime | None = None) -> int:
    at = at or timezone.now()
    deleted, _ = ApiCall.objects.filter(at__lt=at - timedelta(days=settings.API_CALL_LOG_DAYS)).delete()
    return deleted
