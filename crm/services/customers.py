"""Every write to customers, their consent and their interactions, and the customers' derived order figures.
"""

from datetime import date, datetime
from typing import Any, Iterable, Sequence

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audited
from crm import signals
from crm.selectors import counted_order_stats_expressions
from crm.models import ConsentChange, Customer, Interaction, Order, Tag
from crm.validators import strip_bidi_controls

CUSTOMER_FIELDS = (
    "first_name", "last_name", "email", "phone", "external_ref", "birth_date", "gender", "language",
    "city", "country", "source", "acquired_at", "notes",
)
CONSENT_FIELDS = {"email_opt_in": ConsentChange.Channel.EMAIL, "sms_opt_in": ConsentChange.Channel.SMS}


def normalize_email(email: str | None) -> str | None:
    email = (email or "").strip()
    return email.lower() or None


def _clean_customer_values(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(values)
    for name in ("first_name", "last_name"):  # no text in a name that makes it display as something else
        if cleaned.get(name):
            cleaned[name] = strip_bidi_controls(cleaned[name])
    if "email" in cleaned:
        cleaned["email"] = normalize_email(cleaned["email"])
    for name in ("phone", "external_ref"):
        if name in cleaned and not cleaned[name]:
            cleaned[name] = None
    if cleaned.get("external_ref"):
        cleaned["external_ref"] = cleaned["external_ref"].strip()
    if cleaned.get("country"):
        cleaned["country"] = cleaned["country"].strip().upper()
    return cleaned


customer_values_clean = _clean_customer_values  # the API shows what a partner sent as it would be stored


def _full_clean(customer: Customer, **options) -> None:
    """full_clean, with a taken email reported on the email field: the case-insensitive unique
    constraint is an expression, which Django reports for the whole form."""
    try:
        customer.full_clean(**options)
    except ValidationError as exc:
        errors = exc.update_error_dict({})
        general = errors.pop(NON_FIELD_ERRORS, [])
        taken = [error for error in general if getattr(error, "code", None) == "email_taken"]
        if not taken:
            raise
        errors.setdefault("email", []).extend(taken)
        if len(taken) < len(general):
            errors[NON_FIELD_ERRORS] = [error for error in general if error not in taken]
        raise ValidationError(errors) from None


@audited
@transaction.atomic
def customer_create(
    *,
    tags: Iterable[str] = (),
    email_opt_in: bool = False,
    sms_opt_in: bool = False,
    consent_source: str = "admin",
    by=None,
    **values: Any,
) -> Customer:
    unknown = set(values) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown customer fields: {', '.join(sorted(unknown))}")
    customer = Customer(**_clean_customer_values(values))
    _full_clean(customer)
    customer.save()
    if tags:
        customer.tags.set(tags_ensure(tags))
    for channel, granted in ((ConsentChange.Channel.EMAIL, email_opt_in), (ConsentChange.Channel.SMS, sms_opt_in)):
        if granted:
            consent_set(customer=customer, channel=channel, granted=True, source=consent_source, by=by)
    signals.customer_created.send(sender=Customer, customer=customer)
    return customer


@audited
@transaction.atomic
def customer_update(*, customer: Customer, values: dict[str, Any], tags: Iterable[str] | None = None,
                    consent_source: str = "admin", by=None) -> Customer:
    consent = {field: values.pop(field) for field in list(values) if field in CONSENT_FIELDS}
    unknown = set(values) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown customer fields: {', '.join(sorted(unknown))}")
    for field, value in _clean_customer_values(values).items():
        setattr(customer, field, value)
    _full_clean(customer, exclude=["tags"])
    customer.save()
    if tags is not None:
        customer.tags.set(tags_ensure(tags))
    for field, granted in consent.items():
        consent_set(customer=customer, channel=CONSENT_FIELDS[field], granted=bool(granted), source=consent_source, by=by)
    return customer


def tags_ensure(names: Iterable[str]) -> list[Tag]:
    wanted = {name.strip() for name in names if name and name.strip()}
    if not wanted:
        return []
    Tag.objects.bulk_create([Tag(name=name) for name in wanted], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=wanted))


@audited
@transaction.atomic
def consent_set(*, customer: Customer, channel: str, granted: bool, source: str, by=None,
                at: datetime | None = None) -> ConsentChange | None:
    """Record a consent change; does nothing when the consent already has that value."""
    field = f"{channel}_opt_in"
    if field not in CONSENT_FIELDS:
        raise ValidationError({"channel": _("Unknown consent channel %(channel)s.") % {"channel": channel}})
    if not source:
        raise ValidationError({"source": _("Say where the consent change came from.")})
    # Lock the row: two changes at once must leave the history and the flag in agreement.
    current = Customer.objects.select_for_update().values_list(field, flat=True).get(pk=customer.pk)
    if current == granted and customer.consent_changes.filter(channel=channel).exists():
        return None
    Customer.objects.filter(pk=customer.pk).update(**{field: granted, "updated_at": timezone.now()})
    setattr(customer, field, granted)
    return ConsentChange.objects.create(
        customer=customer, channel=channel, granted=granted, source=source, changed_by=by, changed_at=at or timezone.now()
    )


def customers_refresh_order_stats(*, customer_ids: Iterable[int] | None = None) -> int:
    """Recompute the derived order figures from counted orders, as one UPDATE.

    With no ids, every customer is recomputed (the repair command)."""
    queryset = Customer.objects.all()
    if customer_ids is not None:
        ids = list(customer_ids)
        if not ids:
            return 0
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(**counted_order_stats_expressions())


def customers_recount_grouped(*, customer_ids_sql: str = "") -> None:
    """`customers_refresh_order_stats` as one UPDATE from the counted orders grouped by customer, for a load of many
    orders (the file import, the demo data): the same figures (crm.selectors.counted_order_stats_expressions) in one
    aggregate instead of four correlated subqueries per customer. Every customer with counted orders, or those whose
    ids the subquery `customer_ids_sql` selects (a statement of the caller's own, no values); a customer without
    counted orders keeps what it holds. Updating in id order keeps the heap and index pages it touches together."""
    customer_table, order_table = Customer._meta.db_table, Order._meta.db_table
    among = f"AND customer_id IN ({customer_ids_sql})" if customer_ids_sql else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {customer_table} SET orders_count = s.orders_count, total_spent = s.total_spent, "  # nosec B608 - the models' tables and the caller's own subquery; no values
            "first_order_at = s.first_order_at, last_order_at = s.last_order_at "
            "FROM (SELECT customer_id, COUNT(*) AS orders_count, SUM(net_total) AS total_spent, "
            f"      MIN(placed_at) AS first_order_at, MAX(placed_at) AS last_order_at FROM {order_table} "
            f"      WHERE is_counted {among} GROUP BY customer_id ORDER BY customer_id) AS s "
            f"WHERE {customer_table}.id = s.customer_id"
        )


def customers_add_new_orders(*, orders: Sequence[Order]) -> None:
    """The derived figures moved by orders just written (a batch of new orders), as one UPDATE.

    On PostgreSQL the batch's counted orders are added to what each customer holds (count, spend, first and
    last order): one aggregate over the batch, however many orders its customers had before; the row lock of
    the UPDATE makes two batches for the same customer add up. Elsewhere (SQLite has no exact decimals to add)
    the customers' figures are recomputed from their orders (customers_refresh_order_stats)."""
    if not orders:
        return
    if connection.vendor != "postgresql":
        customers_refresh_order_stats(customer_ids={order.customer_id for order in orders})
        return
    customer_table, order_table = Customer._meta.db_table, Order._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {customer_table} AS c SET orders_count = c.orders_count + s.orders_count, "  # nosec B608 - the models' own tables; values are parameters
            "total_spent = c.total_spent + s.total_spent, first_order_at = LEAST(c.first_order_at, s.first_order_at), "
            "last_order_at = GREATEST(c.last_order_at, s.last_order_at) "
            "FROM (SELECT customer_id, COUNT(*) AS orders_count, SUM(net_total) AS total_spent, "
            f"      MIN(placed_at) AS first_order_at, MAX(placed_at) AS last_order_at FROM {order_table} "
            "      WHERE id = ANY(%s) AND is_counted GROUP BY customer_id ORDER BY customer_id) AS s "
            "WHERE c.id = s.customer_id",
            [[order.pk for order in orders]],
        )


@transaction.atomic
def interaction_log(
    *,
    customer: Customer,
    subject: str,
    channel: str = Interaction.Channel.PHONE,
    direction: str = Interaction.Direction.INBOUND,
    body: str = "",
    status: str = Interaction.Status.RESOLVED,
    staff=None,
    occurred_at: datetime | None = None,
    follow_up_on: date | None = None,
    order: Order | None = None,
    wording: dict[str, dict[str, str]] | None = None,
) -> Interaction:
    """Log an interaction. `wording` ({language: {"subject", "body"}}) is for interactions the product opens
    itself, so that each reader reads it in their language; `subject` and `body` are the default language's."""
    if order is not None and order.customer_id != customer.pk:
        raise ValidationError({"order": _("That order belongs to another customer.")})
    interaction = Interaction(
        customer=customer, subject=subject, channel=channel, direction=direction, body=body, status=status,
        staff=staff, occurred_at=occurred_at or timezone.now(), follow_up_on=follow_up_on, order=order, wording=wording,
    )
    if status == Interaction.Status.RESOLVED:
        interaction.resolved_at = timezone.now()
    interaction.full_clean()
    interaction.save()
    if status == Interaction.Status.RESOLVED:
        signals.interaction_resolved.send(sender=Interaction, interaction=interaction, by=staff)
    return interaction


@audited
@transaction.atomic
def interaction_resolve(*, interaction: Interaction, by=None) -> Interaction:
    # The conditional UPDATE makes a double click (or two staff at once) resolve it once.
    changed = Interaction.objects.filter(pk=interaction.pk).exclude(status=Interaction.Status.RESOLVED).update(
        status=Interaction.Status.RESOLVED, resolved_at=timezone.now()
    )
    interaction.refresh_from_db()
    if changed:
        signals.interaction_resolved.send(sender=Interaction, interaction=interaction, by=by)
    return interaction
