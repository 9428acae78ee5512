"""Reads of the suppression list: the hash an address is kept under, and whether a customer or an
address is suppressed (as SQL expressions, so an audience is filtered in one statement)."""

import hashlib

from django.db.models import Exists, OuterRef, Transform
from django.db.models.functions import Lower, SHA256

from campaigns.models import Suppression
from campaigns.sms import PermanentSmsError, normalize_e164
from crm.services import normalize_email


def suppression_hash(kind: str, value: str) -> str:
    """SHA-256 (hex) of the normalized address: a lower-cased email, or a phone number in E.164."""
    if kind == Suppression.Kind.EMAIL:
        normalized = normalize_email(value) or ""
    else:
        try:
            normalized = normalize_e164(value)
        except PermanentSmsError:
            normalized = str(value).strip()
    return hashlib.sha256(normalized.encode()).hexdigest()


def is_suppressed(*, email: str | None = None, phone: str | None = None) -> bool:
    hashes = [suppression_hash(kind, str(value)) for kind, value in
              ((Suppression.Kind.EMAIL, email), (Suppression.Kind.PHONE, phone)) if value]
    return bool(hashes) and Suppression.objects.filter(value_hash__in=hashes).exists()


class Sha256Hex(SHA256):
    """SHA-256 as hex in SQL. Django's SHA256 needs the pgcrypto extension on PostgreSQL;
    the built-in sha256(bytea) (PostgreSQL 11+) needs nothing."""

    def as_postgresql(self, compiler, connection, **extra_context):
        return Transform.as_sql(self, compiler, connection, template="ENCODE(SHA256(CONVERT_TO(%(expressions)s, 'UTF8')), 'hex')",
                                **extra_context)


def email_suppressed_expression(email_ref: str = "email"):
    """EXISTS(...) for a Customer queryset: the customer's email is suppressed. Hashed in SQL."""
    return Exists(Suppression.objects.filter(kind=Suppression.Kind.EMAIL, value_hash=Sha256Hex(Lower(OuterRef(email_ref)))))


def phone_suppressed_expression(phone_ref: str = "phone"):
    """EXISTS(...) for a Customer queryset: the customer's phone (stored in E.164) is suppressed."""
    return Exists(Suppression.objects.filter(kind=Suppression.Kind.PHONE, value_hash=Sha256Hex(OuterRef(phone_ref))))
