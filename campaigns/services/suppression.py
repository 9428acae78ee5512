"""The suppression list: hashed addresses that are never messaged again."""

from django.db import IntegrityError, transaction

from campaigns.models import Suppression
from campaigns.selectors.suppression import suppression_hash


def suppression_add(*, email: str | None = None, phone: str | None = None, reason: str = Suppression.Reason.MANUAL,
                    note: str = "", by=None) -> int:
    """Suppress an email and/or a phone number (idempotent); returns how many were new.

    The privacy issue's erasure calls this with the customer's email and phone."""
    added = 0
    for kind, value in ((Suppression.Kind.EMAIL, email), (Suppression.Kind.PHONE, phone)):
        if not value or not str(value).strip():
            continue
        try:
            with transaction.atomic():
                Suppression.objects.create(kind=kind, value_hash=suppression_hash(kind, str(value)), reason=reason,
                                           note=note[:200], created_by=by)
        except IntegrityError:
            continue
        added += 1
    return added
