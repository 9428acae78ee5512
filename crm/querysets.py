"""QuerySet methods for the crm models (attached with `as_manager`).

Lifecycle stages and search are SQL expressions, so they work as annotations,
filters and admin columns without touching customers one by one in Python. The apps above
crm extend both through core.customers (loyalty conditions, search extensions).
"""

from datetime import date, datetime, timedelta

import phonenumbers
from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Lower
from django.utils import timezone

from core.customers import loyalty_q, search_extension_registry
from core.text import ascii_digits, normalize_for_search

def lifecycle_stage_expression(at: datetime | None = None, window_days: int | None = None) -> Case:
    """The lifecycle stage of DESIGN.md as one CASE expression over the derived columns."""
    at = at or timezone.now()
    window = timedelta(days=window_days or settings.CRM_ACTIVITY_WINDOW_DAYS)
    active_since = at - window
    whens = [
        When(Q(orders_count=0) | Q(last_order_at__isnull=True), then=Value("prospect")),
        When(last_order_at__lt=at - 2 * window, then=Value("churned")),
        When(last_order_at__lt=active_since, then=Value("at_risk")),
    ]
    loyalty = loyalty_q()
    if loyalty is not None:
        whens.append(When(loyalty, then=Value("loyal")))
    whens.append(When(orders_count__gte=2, then=Value("repeat")))
    return Case(*whens, default=Value("new"), output_field=models.CharField())


class CustomerQuerySet(models.QuerySet):
    def with_lifecycle_stage(self, at: datetime | None = None, window_days: int | None = None):
        return self.annotate(lifecycle_stage=lifecycle_stage_expression(at, window_days))

    def in_lifecycle_stage(self, stage: str, at: datetime | None = None, window_days: int | None = None):
        """Customers in `stage`: the same stages as `with_lifecycle_stage`, written as
        conditions the database can estimate and index.

        `CASE ... END = 'x'` is opaque to PostgreSQL's planner: it guesses that almost no
        row matches, joins the loyalty tables for every customer and reads the whole
        table. Here each stage is ranges on the indexed derived columns, and the loyalty
        conditions (or their negation) for the active stages."""
        at = at or timezone.now()
        window = timedelta(days=window_days or settings.CRM_ACTIVITY_WINDOW_DAYS)
        ordered = Q(orders_count__gt=0, last_order_at__isnull=False)
        if stage == "prospect":
            return self.filter(~ordered)
        if stage == "churned":
            return self.filter(ordered, last_order_at__lt=at - 2 * window)
        if stage == "at_risk":
            return self.filter(ordered, last_order_at__gte=at - 2 * window, last_order_at__lt=at - window)
        active = self.filter(ordered, last_order_at__gte=at - window)
        loyalty = loyalty_q()
        if stage == "loyal":
            return active.filter(loyalty) if loyalty is not None else self.none()
        if stage == "repeat":
            active = active.filter(orders_count__gte=2)
        elif stage == "new":
            active = active.filter(orders_count__lt=2)
        else:
            return self.none()
        # Not loyal: the CASE's loyalty test is not true (false, or NULL for a customer
        # without the related row); exclude() reads a missing row the same way.
        return active.exclude(loyalty) if loyalty is not None else active

    def by_email(self, email: str):
        # LOWER(email) = ... uses the case-insensitive unique index.
        return self.alias(_email_lower=Lower("email")).filter(_email_lower=email.strip().lower())

    def search(self, term: str):
        """What support types into the search box: an email, a phone number, a reference,
        an order number or a name. Each branch is an indexed lookup.

        The branches are combined as `id IN (branch UNION ALL branch ...)`, not with OR:
        PostgreSQL cannot use an index for an OR that mixes the customer's columns with an
        EXISTS over orders, and would read every customer (seconds at a million rows);
        each branch of the UNION uses its own index."""
        term = " ".join(term.split())
        if not term:
            return self
        if "@" in term:
            return self.by_email(ascii_digits(term))
        customers = self.model._default_manager
        order_model = self.model._meta.get_field("orders").related_model
        # A reference or an order number typed on a Persian or Arabic keyboard has Persian digits.
        codes = list(dict.fromkeys([term, ascii_digits(term)]))
        branches = [
            customers.filter(external_ref__in=codes).values("pk"),
            order_model._default_manager.filter(order_number__in=codes).values("customer_id"),
        ]
        phone = phone_as_e164(term)
        if phone:
            branches.append(customers.filter(phone=phone).values("pk"))
        for lookup in search_extension_registry.values():
            extra = lookup(term)
            if extra is not None:
                branches.append(customers.filter(extra).values("pk"))
        branches += [customers.filter(condition).values("pk") for condition in _name_conditions(term)]
        first_branch, *others = [branch.order_by() for branch in branches]
        return self.filter(pk__in=first_branch.union(*others, all=True))


def _name_conditions(term: str) -> list[Q]:
    """The name branches, on the stored normalized names (core.text.normalize_for_search), one per
    index so that each is an index-only scan (crm_customer_search_name, crm_customer_search_last_name):
    the start of "first last" ("sara", "sara ahm", "mohammad reza ahm"), the start of the last name,
    and, for several words, a first name starting with the first word and a last name with the rest
    ("sar ahm")."""
    name = normalize_for_search(term)
    if not name:
        return []
    conditions = [Q(search_name__startswith=name), Q(search_last_name__startswith=name)]
    first, _space, rest = name.partition(" ")
    if rest:
        conditions.append(Q(search_name__startswith=first, search_last_name__startswith=rest))
    return conditions


def phone_as_e164(term: str) -> str | None:
    """The E.164 form of what someone typed as a phone number, or None when it cannot be one.

    National ("0912 123 4567") and bare ("912 123 4567") numbers are read in
    PHONENUMBER_DEFAULT_REGION, international ones in either notation ("+98 912...", "0098 912...");
    Persian and Arabic-Indic digits count as digits."""
    digits = ascii_digits(term)
    for separator in " -().\u00a0":
        digits = digits.replace(separator, "")
    if not digits.lstrip("+").isdigit() or len(digits.lstrip("+")) < 6:
        return None
    region = settings.PHONENUMBER_DEFAULT_REGION
    if region is None and digits.startswith("00"):
        digits = "+" + digits[2:]  # without a region, read 00 as the international prefix most countries use
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class OrderQuerySet(models.QuerySet):
    def counted(self):
        return self.filter(is_counted=True)

    def with_customer_public_id(self):
        """The orders with their customer's public id and nothing else of the customer: what the API and
        its webhooks show of an order. A customer row is wide (and its phone is parsed on loading), which
        a page or a batch of a thousand orders would otherwise pay for each order."""
        return self.select_related("customer").only(
            *(field.name for field in self.model._meta.concrete_fields), "customer__public_id")


class InteractionQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status="resolved")

    def follow_ups_due(self, *, staff, on: date | None = None):
        on = on or timezone.localdate()
        return self.open().filter(staff=staff, follow_up_on__lte=on)



