"""crm's part of privacy (core.privacy): finding a customer, the profile, consent, interactions and
orders in the export, and the erasure service.

Erasure keeps what accounting and metrics need (orders, lines, the points ledger, coupons,
return amounts) and removes every way back to the person: names, addresses, free text.
The audit history (core.audit) is scrubbed too: each app's eraser blanks the personal fields
of its historical rows (the customer's here, the return notes in feedback); who changed what
and when stays. The access log (CustomerAccess) holds no personal data and stays.
The export holds the change history and the access log.
"""

import json
import secrets
import uuid

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from core.audit import audited, current_source
from core.privacy import ERASED_TEXT, privacy_erase, privacy_export
from crm.models import ConsentChange, Customer, ErasureEvent, Interaction

__all__ = ["ERASED_TEXT", "customer_erase", "customer_export", "customer_find", "export_json"]  # ERASED_TEXT: core.privacy
# What erasure leaves in a customer's personal fields (the row and every historical version of it).
ERASED_PROFILE = {
    "first_name": "", "last_name": "", "email": None, "phone": None, "birth_date": None, "gender": "", "city": "",
    "notes": "", "source": "", "acquired_at": None,
}

# --- Finding a customer -------------------------------------------------------------------


def customer_find(ref: str) -> Customer:
    """The customer whose public id, email or external reference is `ref`; Customer.DoesNotExist otherwise."""
    ref = (ref or "").strip()
    if not ref:
        raise Customer.DoesNotExist("No reference given.")
    try:
        return Customer.objects.get(public_id=uuid.UUID(ref))
    except (ValueError, Customer.DoesNotExist):
        pass
    if "@" in ref:
        customer = Customer.objects.filter(email__iexact=ref).first()
        if customer is not None:
            return customer
    return Customer.objects.get(external_ref=ref)


# --- Export -----------------------------------------------------------------------------------


def customer_export(customer: Customer) -> dict:
    """One JSON-serialisable document of everything held about the customer (every app's sections)."""
    return privacy_export(customer)


def consent_changes_export(customer: Customer) -> list[dict]:
    return [
        {"channel": change.channel, "granted": change.granted, "source": change.source, "changed_at": change.changed_at}
        for change in customer.consent_changes.order_by("changed_at", "id")
    ]


def interactions_export(customer: Customer) -> list[dict]:
    return [
        {
            "occurred_at": item.occurred_at, "channel": item.channel, "direction": item.direction,
            "subject": item.subject, "body": item.body, "status": item.status, "follow_up_on": item.follow_up_on,
            "resolved_at": item.resolved_at, "order_number": item.order.order_number if item.order else None,
        }
        for item in customer.interactions.select_related("order").order_by("occurred_at", "id")
    ]


def orders_export(customer: Customer) -> list[dict]:
    return [_order(order) for order in customer.orders.prefetch_related("lines").order_by("placed_at", "id")]


def export_json(customer: Customer) -> str:
    return json.dumps(customer_export(customer), ensure_ascii=False, indent=2)


def profile_export(customer: Customer) -> dict:
    return {
        "public_id": customer.public_id,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "phone": str(customer.phone) if customer.phone else None,
        "external_ref": customer.external_ref,
        "birth_date": customer.birth_date,
        "gender": customer.gender,
        "language": customer.language,
        "city": customer.city,
        "country": customer.country,
        "source": customer.source,
        "acquired_at": customer.acquired_at,
        "tags": sorted(customer.tags.values_list("name", flat=True)),
        "notes": customer.notes,
        "email_opt_in": customer.email_opt_in,
        "sms_opt_in": customer.sms_opt_in,
        "orders_count": customer.orders_count,
        "total_spent": customer.total_spent,
        "first_order_at": customer.first_order_at,
        "last_order_at": customer.last_order_at,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


def _order(order) -> dict:
    return {
        "public_id": order.public_id, "source": order.source, "order_number": order.order_number,
        "placed_at": order.placed_at, "status": order.status, "channel": order.channel, "currency": order.currency,
        "total": order.total, "discount": order.discount, "refunded_amount": order.refunded_amount,
        "fulfilled_at": order.fulfilled_at,
        "lines": [
            {"sku": line.sku, "product_name": line.product_name, "category": line.category,
             "quantity": line.quantity, "unit_price": line.unit_price}
            for line in order.lines.all()
        ],
    }


# --- Erasure ----------------------------------------------------------------------------------


@audited
@transaction.atomic
def customer_erase(*, customer: Customer, by=None) -> ErasureEvent:
    """Anonymise a customer for good. Orders, the ledger and return amounts stay; nothing
    personal does. The event row records who and when, and nothing about the person."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if ErasureEvent.objects.filter(customer=customer).exists():
        raise ValidationError(_("This customer has already been erased."))
    # Every app's eraser, the apps above first and crm's own (crm_erase) last.
    privacy_erase(customer, by=by)
    return ErasureEvent.objects.create(customer=customer, erased_by=by)


def crm_erase(customer: Customer, *, by=None) -> None:
    """crm's eraser: consent withdrawn, interactions and the admin log scrubbed, the profile and
    its audited versions blanked. Runs after the other apps' erasers (core.privacy)."""
    for channel in (ConsentChange.Channel.EMAIL, ConsentChange.Channel.SMS):
        # Imported lazily: crm.services imports signals that other apps listen to at import time.
        from crm.services import consent_set

        consent_set(customer=customer, channel=channel, granted=False, source="erasure", by=by)
    customer.interactions.update(subject=ERASED_TEXT, body="", wording=None)
    customer.recommendations.all().delete()  # derived from their purchases; the refresh skips them from now on
    _scrub_admin_log(customer)

    # The audit history (core.audit) holds every earlier version of the profile: blank them too.
    # The erasure's own version, written by the save below, then shows what was erased and by whom.
    Customer.history.filter(id=customer.pk).update(**ERASED_PROFILE, external_ref=None)

    customer.refresh_from_db()
    for name, value in ERASED_PROFILE.items():
        setattr(customer, name, value)
    # The "has contact or reference" check still holds, with a reference that names no one.
    customer.external_ref = f"erased-{secrets.token_hex(8)}"
    customer._change_reason = f"erasure ({current_source()})"
    customer.save()
    customer.tags.clear()


def _scrub_admin_log(customer: Customer) -> None:
    """The admin's history keeps each object's str() (a name, a subject) and the changed fields."""
    for model, ids in (
        (Customer, [customer.pk]),
        (Interaction, list(customer.interactions.values_list("pk", flat=True))),
    ):
        content_type = ContentType.objects.get_for_model(model)
        LogEntry.objects.filter(content_type=content_type, object_id__in=[str(pk) for pk in ids]).update(
            object_repr=ERASED_TEXT, change_message=""
        )
    # Other objects' str() can name the customer too (a membership is "<number> <name>").
    names = [customer.email, str(customer.phone) if customer.phone else ""]
    if customer.first_name and customer.last_name:
        names.append(customer.full_name)
    mentions = Q(pk__in=[])
    for name in filter(None, names):
        mentions |= Q(object_repr__icontains=name)
    LogEntry.objects.filter(mentions).update(object_repr=ERASED_TEXT)
