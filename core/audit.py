"""Audit history: who changed what, when, and where the change came from.

django-simple-history keeps one historical row per save of the audited models (Customer,
Membership, Coupon, ReturnRequest), with `history_user` and `history_change_reason`:
- the user is the signed-in staff member of an admin request (HistoryRequestMiddleware);
  API calls (the "user" is a partner's key), public pages, jobs and commands record none;
- the change reason carries the *source*: "admin", "api: <partner>", "public page",
  "job: <name>", "command: <name>", or "system" (see `history_source`).

Append-only tables need no copy: the points ledger (`created_by`), consent changes
(`changed_by`, `source`), tier changes (`changed_by`) and return events (`by`) are their own
history. Writes made with `QuerySet.update()`/`bulk_create()` send no signal and so leave no
historical row: the services that change audited rows that way either write one of those
event rows (consent: ConsentChange; tier: TierChange; coupon redemption: CouponRedemption;
points: the ledger) or call `history_record` themselves (membership status, customers an
import changes). So the opt-in flags, the tier and the balances are not in the audited copies.
Customers *created* by a bulk import (or the demo seeder) get no "created" row, on purpose:
millions of copies would double the import's cost and hold nothing the customer row does not
(`created_at`, `source`, the consent rows); their first recorded version is the next change.
"""

import contextvars
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Q, Subquery
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from core.registry import Registry

SOURCE_MAX_LENGTH = 100

_source: contextvars.ContextVar[str | None] = contextvars.ContextVar("history_source", default=None)


@contextmanager
def history_source(source: str):
    """Every historical row written inside the block records `source` as where the change came from."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


def history_user(request=None, instance=None, **kwargs):
    """The staff user behind a change, or None. API requests carry a partner, not a user."""
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and isinstance(user, get_user_model()) and user.is_authenticated:
        return user
    return None


def current_source() -> str:
    source = _source.get()
    if source:
        return source
    request = getattr(HistoricalRecords.context, "request", None)
    if request is None:
        return "system"
    path = getattr(request, "path", "") or ""
    if path.startswith("/api/"):
        partner = getattr(getattr(request, "user", None), "partner", None)
        return f"api: {partner}" if partner is not None else "api"
    if "/admin/" in path or path.startswith("/admin"):
        return "admin"
    return "public page"


def record_source(sender, history_instance, **kwargs):
    """Receiver of simple_history's pre_create_historical_record (connected in CoreConfig.ready)."""
    if not history_instance.history_change_reason:
        history_instance.history_change_reason = current_source()[:SOURCE_MAX_LENGTH]


def history_record(*instances, by=None, reason: str = "", batch_size: int = 2000) -> None:
    """One "changed" historical row each for changes written with `QuerySet.update()` or
    `bulk_update()` (which send no signal), in bulk. The instances (of one model) must hold
    the rows' values after the change."""
    if not instances:
        return
    model = type(instances[0])
    manager = getattr(model, model._meta.simple_history_manager_attribute)
    user = by if isinstance(by, get_user_model()) and by.pk else history_user(getattr(HistoricalRecords.context, "request", None))
    manager.bulk_history_create(
        instances, batch_size=batch_size, update=True, default_user=user,
        default_change_reason=(reason or current_source())[:SOURCE_MAX_LENGTH],
    )


# --- The customer's history: what changed, who changed it, from where ---------------------------------

@dataclass(frozen=True)
class HistorySource:
    name: str
    label: Any
    rows: Callable  # rows(customer) -> QuerySet of one historical model, filtered to the customer
    title: str | None = None  # attribute naming the object (a member number, a coupon code)
    hidden: tuple[str, ...] = ()  # fields never shown (the customer link itself)


# name -> HistorySource: each app's audited models that join the customer's history (the admin page
# and the export), declared in its contributions module.
history_source_registry: Registry[HistorySource] = Registry("customer history sources")


@dataclass
class Change:
    field: str
    label: str
    before: str
    after: str


@dataclass
class HistoryEntry:
    at: datetime
    source: str
    label: str
    action: str
    action_label: str
    user: Any
    reason: str
    changes: list[Change] = field(default_factory=list)
    # The first recorded version of a row created in bulk (an import): what changed is unknown.
    untracked_before: bool = False


# Technical columns that tell a reader nothing.
ALWAYS_HIDDEN = ("public_id", "idempotency_key")
ACTIONS = {"+": ("created", pgettext_lazy("history action", "created")), "~": ("changed", _("changed")), "-": ("deleted", _("deleted"))}


def customer_history(customer, *, limit: int | None = None) -> list[HistoryEntry]:
    """The customer's changes, newest first, each with its field-by-field before and after.

    Two queries per registered model, whatever the number of rows: the rows (each annotated
    with the id of the row before it) and those previous rows."""
    entries: list[HistoryEntry] = []
    for source in history_source_registry.values():
        entries.extend(_source_entries(source, customer, limit))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit] if limit is not None else entries


def _source_entries(source: HistorySource, customer, limit: int | None) -> list[HistoryEntry]:
    queryset = source.rows(customer)
    model = queryset.model
    id_name = model.instance_type._meta.pk.attname
    fields = [f for f in model.tracked_fields
              if not f.primary_key and f.name not in (*source.hidden, *ALWAYS_HIDDEN) and f.attname not in source.hidden]
    related = [f.name for f in fields if f.is_relation]
    previous_id = Subquery(
        model.objects.filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id")),
            **{id_name: OuterRef(id_name)},
        ).order_by("-history_date", "-history_id").values("history_id")[:1]
    )
    rows = queryset.select_related("history_user", *related).annotate(previous_history_id=previous_id) \
        .order_by("-history_date", "-history_id")
    rows = list(rows[:limit] if limit is not None else rows)
    wanted = {row.previous_history_id for row in rows if row.previous_history_id}
    previous = {row.history_id: row for row in model.objects.filter(history_id__in=wanted).select_related(*related)} \
        if wanted else {}

    entries = []
    for row in rows:
        before = previous.get(row.previous_history_id)
        action, action_label = ACTIONS.get(row.history_type, ("changed", _("changed")))
        changes = [
            Change(field=f.name, label=str(capfirst(f.verbose_name)), before=_display(before, f) if before else "",
                   after=_display(row, f))
            for f in fields
            if before is None and action == "created" and _is_set(getattr(row, f.attname))
            or before is not None and getattr(before, f.attname) != getattr(row, f.attname)
        ]
        untracked_before = action == "changed" and before is None
        if action == "changed" and not changes and not untracked_before:
            continue  # a save that changed nothing we show
        title = getattr(row, source.title, None) if source.title else None
        entries.append(HistoryEntry(
            at=row.history_date, source=source.name,
            label=f"{source.label} {title}" if title else str(source.label),
            action=action, action_label=str(action_label), user=row.history_user, reason=row.history_change_reason or "",
            changes=changes, untracked_before=untracked_before,
        ))
    return entries


def _is_set(value) -> bool:
    return value not in (None, "", False, {}, [])


def _display(row, model_field) -> str:
    value = getattr(row, model_field.attname)
    if value is None or value == "":
        return "—"
    if model_field.is_relation:
        return str(getattr(row, model_field.name) or value)
    if model_field.flatchoices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, datetime):
        return formats.localize(timezone.localtime(value) if timezone.is_aware(value) else value)
    return formats.localize(value) if isinstance(value, (date, Decimal)) else str(value)


def history_export(customer) -> list[dict]:
    """The whole history, oldest first, for the customer's data export."""
    return [
        {"at": entry.at, "object": entry.label, "action": entry.action, "by": username(entry.user),
         "source": entry.reason, "first_recorded_version": entry.untracked_before,
         "changes": [{"field": change.field, "before": change.before, "after": change.after} for change in entry.changes]}
        for entry in reversed(customer_history(customer))
    ]


def username(user) -> str | None:
    return user.get_username() if user is not None else None
