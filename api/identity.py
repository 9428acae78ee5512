"""Identity without disclosure (issue 16): an own-data-only key that pushes a person who already
exists in the CRM learns nothing about that person.

POST customers/ with an identifier another partner (or staff, or an import) already stored answers
exactly as for a new person: 201 with the customer as this key sees it. The key is linked to the
existing person (PartnerCustomer) with `view` = what it sent, rendered as the API renders a customer,
and that is all it ever sees of the person (detail, list, lookup, filters): fields it did not send
read as a new customer's (empty text, null, `language` "en", no tags, opt-ins false, no orders),
`created_at`/`updated_at` are when it was linked. What it sent merges into the person without
overwriting what others stored: an empty field is filled, a non-empty one is left alone (an email or
external reference another person holds is not filled either); tags are added, never removed; a
consent it sends as granted is recorded as a consent change from the API, a `false` changes nothing.

Consents (customers/{id}/consents/): the key sees the consent changes it recorded itself, and the
opt-ins it sent. A change it records is applied to the person (a withdrawal too: it is the person's
wish) and answered as for a new customer (201 with the row, or 200 with its own latest row when its
view already had that value), never with what others recorded.

Matching, strongest first: external_ref, then email (case-insensitive), then a phone number held by
exactly one customer when no external_ref or email was sent.

The club (api.enrolment): for the key such a person is not a member until it enrols them, and enrolling
tells it nothing either. For an own-data-only key, enrolling any person (one it created too, so that the
answer cannot tell "created by me" from "existed elsewhere") without `member_number` sends the customer a
one-time code, to the phone (else email) the key itself gave, and answers 202 with the same body whoever the
person is, member or not. The code read out by the customer (`confirmation_code`) enrols as for a full-access
key (201 a new membership, 200 the existing one), and from then on the key reads the membership (VIEW_CLUB).
A member's card number (`member_number`) does the same for a member; any other number, and any number for a
person who is not a member, gets one and the same 400."""

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.db.models import Exists, JSONField, OuterRef, Q, QuerySet, Subquery
from phonenumber_field.phonenumber import to_python

from api.models import ApiKey, PartnerCustomer
from api.serializers.base import datetime_text
from api.serializers.customers import CustomerSerializer
from api.services import partner_customer_create
from crm import services as crm_services
from crm.models import Customer
from crm.services.customers import customer_values_clean

logger = logging.getLogger(__name__)

UNIQUE_FIELDS = ("external_ref", "email")
VIEW_CONSENTS = "_consents"  # in a view, beside the rendered fields: the consent changes the key recorded


def partner_customer_push(*, key: ApiKey, values: dict[str, Any]) -> Customer:
    """POST customers/: a new customer, or (own-data-only keys) a link to the person who already has these identifiers."""
    if not key.own_data_only:
        return partner_customer_create(partner=key.partner, **values)
    with transaction.atomic():
        cleaned = _validated(values)
        existing = _existing(cleaned)
        if existing is None or PartnerCustomer.objects.filter(partner_id=key.partner_id, customer=existing).exists():
            # A new person, or one this partner already sees (a duplicate of its own: the usual answer).
            return partner_customer_create(partner=key.partner, **values)
        _merge(existing, values, cleaned)
        PartnerCustomer.objects.create(partner=key.partner, customer=existing, created=False, view=_render_sent(values))
        return existing


def partner_view_update(*, link: PartnerCustomer, values: dict[str, Any]) -> None:
    """PATCH by a key that sees a person through its view: merged as on creation, and the view updated."""
    with transaction.atomic():
        cleaned = _validated(values)
        _merge(link.customer, values, cleaned)
        link.view = {**link.view, **_render_sent(values)}
        link.save(update_fields=["view"])


def partner_view_render(customer: Customer, view: dict) -> dict:
    body = CustomerSerializer.render(Customer(public_id=customer.public_id), [])
    body.update({name: value for name, value in view.items() if name in body})
    linked_at = datetime_text(getattr(customer, "partner_linked_at", None))
    body["created_at"] = body["updated_at"] = linked_at
    return body


def partner_view_consents(link: PartnerCustomer) -> list[dict[str, Any]]:
    """The consent changes the key recorded for a person it sees through its view, newest first: the rows
    it sent through consents/, and an opt-in it sent with the person (recorded as `api` when it was linked)."""
    recorded = dict(link.view.get(VIEW_CONSENTS) or {})
    for field, channel in crm_services.CONSENT_FIELDS.items():
        if link.view.get(field) and channel not in recorded:
            recorded[channel] = {"channel": channel, "granted": True, "source": "api",
                                 "changed_at": datetime_text(link.linked_at)}
    return sorted(recorded.values(), key=lambda row: row["changed_at"], reverse=True)


def partner_view_consent_set(*, link: PartnerCustomer, channel: str, granted: bool,
                             source: str) -> tuple[dict[str, Any] | None, bool]:
    """A consent change sent by a key that sees the person through its view: (the row it sees, whether it is
    new). Judged against what the key recorded, as for a customer it created, so the answer never says
    what the person's consent was before."""
    with transaction.atomic():
        link = PartnerCustomer.objects.select_for_update().get(pk=link.pk)
        latest = next((row for row in partner_view_consents(link) if row["channel"] == channel), None)
        if bool(link.view.get(f"{channel}_opt_in")) == granted:
            return latest, False
        crm_services.consent_set(customer=link.customer, channel=channel, granted=granted, source=source)
        row = {"channel": channel, "granted": granted, "source": source, "changed_at": datetime_text(timezone.now())}
        link.view = {**link.view, f"{channel}_opt_in": granted,
                     VIEW_CONSENTS: {**(link.view.get(VIEW_CONSENTS) or {}), channel: row}}
        link.save(update_fields=["view"])
        return row, True


def customers_as_seen(key: ApiKey, queryset: QuerySet) -> QuerySet:
    """The key's customers with the view it has of each (`partner_view`, null when it sees the customer as stored)."""
    if not key.own_data_only:
        return queryset
    links = PartnerCustomer.objects.filter(partner_id=key.partner_id, customer=OuterRef("pk"))
    return queryset.annotate(
        partner_view=Subquery(links.values("view")[:1], output_field=JSONField()),
        partner_linked_at=Subquery(links.values("linked_at")[:1]),
    )


def filter_as_seen(key: ApiKey, queryset: QuerySet, name: str, stored, shown, lookup: str = "exact") -> QuerySet:
    """Customers whose `name` is `stored`, or, seen through a view, whose view shows `shown`: a filter or a lookup
    must not find a person by a value the key never sent (no oracle)."""
    if not key.own_data_only:
        return queryset.filter(**{f"{name}__{lookup}": stored})
    links = PartnerCustomer.objects.filter(partner_id=key.partner_id, customer=OuterRef("pk"))
    as_stored = Q(Exists(links.filter(view__isnull=True))) & Q(**{f"{name}__{lookup}": stored})
    as_seen = Q(Exists(links.filter(**{f"view__{name}__{lookup}": shown})))
    return queryset.filter(as_stored | as_seen)


def seen_as_stored(key: ApiKey, queryset: QuerySet) -> QuerySet:
    """Only the customers the key sees as stored: for filters on what a view does not hold (tier, stage, ...)."""
    if not key.own_data_only:
        return queryset
    return queryset.filter(Exists(PartnerCustomer.objects.filter(
        partner_id=key.partner_id, customer=OuterRef("pk"), view__isnull=True)))


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    """The values cleaned as crm.services stores them, refused (400) exactly as for a new customer."""
    cleaned = customer_values_clean({name: value for name, value in values.items() if name in crm_services.CUSTOMER_FIELDS})
    Customer(**cleaned).full_clean(exclude=["tags"], validate_unique=False, validate_constraints=False)
    return cleaned


def _existing(cleaned: dict[str, Any]) -> Customer | None:
    if cleaned.get("external_ref"):
        found = Customer.objects.filter(external_ref=cleaned["external_ref"]).first()
        if found is not None:
            return found
    if cleaned.get("email"):
        found = Customer.objects.filter(email__iexact=cleaned["email"]).first()
        if found is not None:
            return found
    if cleaned.get("phone") and not cleaned.get("email") and not cleaned.get("external_ref"):
        number = to_python(cleaned["phone"])
        holders = list(Customer.objects.filter(phone=number)[:2]) if number is not None and number.is_valid() else []
        if len(holders) == 1:  # a shared number (a household) names nobody in particular
            return holders[0]
    return None


def _merge(customer: Customer, values: dict[str, Any], cleaned: dict[str, Any]) -> None:
    fill = {}
    for name, value in cleaned.items():
        if value in (None, "") or getattr(customer, name) not in (None, ""):
            continue  # nothing sent, or something stored: never overwritten
        if name in UNIQUE_FIELDS and Customer.objects.filter(**{f"{name}__iexact": value}).exclude(pk=customer.pk).exists():
            continue  # another person holds it
        fill[name] = values[name]
    if fill:
        try:
            with transaction.atomic():
                crm_services.customer_update(customer=customer, values=fill, consent_source="api")
        except ValidationError:
            # What is stored fails today's checks (an old value): the partner's values stay in its view only.
            logger.info("Partner values not merged into customer %s", customer.pk, exc_info=True)
            customer.refresh_from_db()
    if values.get("tags"):
        customer.tags.add(*crm_services.tags_ensure(values["tags"]))
    for field, channel in crm_services.CONSENT_FIELDS.items():
        if values.get(field):
            crm_services.consent_set(customer=customer, channel=channel, granted=True, source="api")


def _render_sent(values: dict[str, Any]) -> dict[str, Any]:
    """What the partner sent, rendered as the API renders a customer created from it."""
    sent = {name: value for name, value in values.items() if name in crm_services.CUSTOMER_FIELDS}
    opt_ins = {name: bool(values[name]) for name in crm_services.CONSENT_FIELDS if name in values}
    tags = sorted({name.strip() for name in values.get("tags") or () if name and name.strip()})
    rendered = CustomerSerializer.render(Customer(**customer_values_clean(sent), **opt_ins), tags)
    shown = set(sent) | set(opt_ins) | ({"tags"} if "tags" in values else set())
    return {name: rendered[name] for name in shown}
